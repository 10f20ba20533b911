package io.lineageledger.service.query;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.RunStarted;
import io.lineageledger.projections.run.MetricChunk;
import io.lineageledger.projections.run.RunState;
import io.lineageledger.projections.run.RunStateCodec;
import io.lineageledger.projections.run.RunStateProjection;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;

/**
 * Answers about runs: from the run-state and metric stores of this instance, and by replaying
 * a run's events from the log with the same fold as the live store.
 *
 * <p>Thread-safe.
 */
public final class RunQueries {
  private final Projections projections;
  private final RunHistory history;

  public RunQueries(Projections projections, RunHistory history) {
    this.projections = projections;
    this.history = history;
  }

  /** A run's live state; {@link NotFoundException} if no event of it has been projected. */
  public RunState state(String runId) {
    byte[] bytes = projections.current().<String, byte[]>store(RunStateProjection.STATE_STORE).get(subject(runId));
    if (bytes == null) {
      throw new NotFoundException("no run '" + runId + "': no event of it has been projected");
    }
    return RunStateCodec.decode(bytes);
  }

  /** Every run this instance holds, by run id. */
  public List<RunState> runs() {
    List<RunState> out = new ArrayList<>();
    ReadOnlyKeyValueStore<String, byte[]> store = projections.current().store(RunStateProjection.STATE_STORE);
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      it.forEachRemaining(kv -> out.add(RunStateCodec.decode(kv.value)));
    }
    out.sort(java.util.Comparator.comparing(RunState::runId));
    return out;
  }

  /** The run rebuilt from its events in the log as of {@code step} (or {@code at} when step is null). */
  public RunState replay(String runId, Long step, Instant at) {
    List<EventEnvelope> events = history.events(subject(runId));
    if (events.isEmpty()) {
      throw new NotFoundException("no run '" + runId + "': the log holds no event of it");
    }
    if (step != null) {
      return RunState.asOfStep(runId, events, step);
    }
    if (at != null) {
      return RunState.asOf(runId, events, at);
    }
    return RunState.replay(runId, events);
  }

  /**
   * What resuming the run at step {@code step} needs, as {@code ledger replay RUN --to-step N}
   * prints it and the reference trainer's {@code --resume-manifest} reads it (format
   * {@code lineage-ledger/resume/1}): the configuration in force at that step, the datasets
   * bound with their digests, the seeds, the code, and the last complete checkpoint at or
   * before the step. Rebuilt from the log, so any instance answers.
   */
  public Map<String, Object> resumeManifest(String runId, long step) {
    RunState s = replay(runId, step, null);
    RunState.Checkpoint checkpoint = s.checkpointAtOrBefore(step);
    if (checkpoint == null) {
      throw new NotFoundException("run '" + runId + "' has no complete checkpoint at or before step " + step
          + (s.checkpoints().isEmpty() ? " (it recorded none by then)" : " (the first is at step " + s.checkpoints().get(0).step() + ")"));
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("manifest", "lineage-ledger/resume/1");
    m.put("run_id", runId);
    m.put("to_step", step);
    Map<String, Object> ck = new LinkedHashMap<>();
    ck.put("step", checkpoint.step());
    ck.put("uri", checkpoint.uri());
    ck.put("digest", checkpoint.digest());
    ck.put("size_bytes", checkpoint.sizeBytes());
    m.put("checkpoint", ck);
    Map<String, Object> config = new LinkedHashMap<>();
    config.put("digest", s.configDigest());
    Map<String, Object> params = new java.util.TreeMap<>();
    s.config().forEach((k, v) -> params.put(k, jsonValue(v)));
    config.put("params", params);
    m.put("config", config);
    m.put("datasets", RunStateJson.datasets(s));
    RunStarted started = s.started();
    m.put("seeds", started == null ? Map.of() : new java.util.TreeMap<>(started.getSeeds()));
    m.put("code", started == null ? null : RunStateJson.avro(started.getCode()));
    m.put("determinism", started == null ? Map.of() : new java.util.TreeMap<>(started.getDeterminismFlags()));
    m.put("command_line", started == null ? List.of() : started.getCommandLine());
    return m;
  }

  /** A config value as the JSON it was written as (a number stays a number), or the text itself. */
  private static Object jsonValue(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (java.io.IOException e) {
      return text;
    }
  }

  private static final com.fasterxml.jackson.databind.ObjectMapper MAPPER = new com.fasterxml.jackson.databind.ObjectMapper();

  /** One point of a metric's history; a downsampled point also carries its bucket's min, max and size. */
  public record MetricPoint(long step, double value, double min, double max, int count) {}

  /**
   * The history of {@code metric} for a run, in step order. With {@code points} smaller than
   * the history, consecutive steps are grouped into that many buckets of equal size, each
   * answered by its last step, the mean of its values, and their min and max (so a spike is
   * never averaged away).
   */
  public List<MetricPoint> metric(String runId, String metric, int points) {
    List<MetricPoint> out = metric(projections.current().store(RunStateProjection.METRICS_STORE), subject(runId), metric, points);
    if (out.isEmpty()) {
      state(runId); // a missing run is a 404 of its own
      throw new NotFoundException("run '" + runId + "' has no metric '" + metric + "'");
    }
    return out;
  }

  /** {@link #metric(String, String, int)} from a metric store; empty when the run has no such metric. */
  public static List<MetricPoint> metric(ReadOnlyKeyValueStore<Bytes, byte[]> store, String subject, String metric, int points) {
    MetricChunk.Series series = new MetricChunk.Series();
    byte[] name = metric.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    try (KeyValueIterator<Bytes, byte[]> it = store.range(MetricChunk.first(subject), MetricChunk.last(subject))) {
      it.forEachRemaining(kv -> MetricChunk.read(kv.value, name, series));
    }
    int n = series.size();
    int buckets = points <= 0 || points >= n ? n : points;
    List<MetricPoint> out = new ArrayList<>(buckets);
    for (int b = 0; b < buckets; b++) {
      int from = (int) ((long) b * n / buckets);
      int to = (int) ((long) (b + 1) * n / buckets);
      double sum = 0;
      double min = Double.POSITIVE_INFINITY;
      double max = Double.NEGATIVE_INFINITY;
      for (int i = from; i < to; i++) {
        double v = series.value(i);
        sum += v;
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
      out.add(new MetricPoint(series.step(to - 1), sum / (to - from), min, max, to - from));
    }
    return out;
  }

  static String subject(String runId) {
    if (runId == null || runId.isBlank()) {
      throw new IllegalArgumentException("a run id is needed");
    }
    return "run:" + runId;
  }

  /** For the JSON of a metric answer. */
  public static Map<String, Object> json(MetricPoint p, boolean downsampled) {
    Map<String, Object> m = new java.util.LinkedHashMap<>();
    m.put("step", p.step());
    m.put("value", RunStateJson.number(p.value()));
    if (downsampled) {
      m.put("min", RunStateJson.number(p.min()));
      m.put("max", RunStateJson.number(p.max()));
      m.put("count", p.count());
    }
    return m;
  }
}
