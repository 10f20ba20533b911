package io.lineageledger.service.query;

import io.lineageledger.projections.repro.Fingerprint;
import io.lineageledger.projections.run.RunState;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;

/**
 * The JSON form of a {@link RunState} that the API answers with: plain maps and lists in a
 * fixed order (never Avro records), so that equal states give equal JSON, byte for byte.
 * Avro payloads kept in the state ({@code RunStarted}, {@code RunFinished}) appear as objects
 * with their schema's field names; times are ISO-8601 UTC.
 */
public final class RunStateJson {
  private RunStateJson() {}

  public static Map<String, Object> of(RunState s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", s.runId());
    m.put("status", s.status().name());
    m.put("started_at", time(s.startedAt()));
    m.put("last_event_at", time(s.lastEventAt()));
    m.put("events", s.events());
    m.put("started", avro(s.started()));
    m.put("started_event_id", s.startedEventId());
    m.put("config_digest", s.configDigest());
    m.put("config", new TreeMap<>(s.config()));
    List<Object> history = new ArrayList<>();
    for (RunState.ConfigVersion c : s.configHistory()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("digest", c.digest());
      v.put("at", time(c.at()));
      v.put("at_step", c.atStep());
      v.put("changed_keys", c.changedKeys());
      v.put("event_id", c.eventId());
      history.add(v);
    }
    m.put("config_history", history);
    m.put("datasets", datasets(s));
    m.put("latest_step", s.latestStep() < 0 ? null : s.latestStep());
    m.put("latest_loss", number(s.latestLoss()));
    Map<String, Object> metrics = new TreeMap<>();
    s.latestMetrics().forEach((k, v) -> metrics.put(k, number(v)));
    m.put("latest_metrics", metrics);
    m.put("non_finite_steps", s.nonFiniteSteps());
    m.put("tokens_seen", s.tokensSeen());
    List<Object> checkpoints = new ArrayList<>();
    for (RunState.Checkpoint c : s.checkpoints()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("step", c.step());
      v.put("digest", c.digest());
      v.put("uri", c.uri());
      v.put("size_bytes", c.sizeBytes());
      v.put("complete", c.complete());
      v.put("scheduler", c.scheduler());
      v.put("code_commit", c.codeCommit());
      v.put("at", time(c.at()));
      v.put("event_id", c.eventId());
      checkpoints.add(v);
    }
    m.put("checkpoints", checkpoints);
    List<Object> evaluations = new ArrayList<>();
    for (RunState.Evaluation e : s.evaluations()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("eval_id", e.evalId());
      v.put("checkpoint_digest", e.checkpointDigest());
      v.put("suite", e.suite());
      v.put("suite_version", e.suiteVersion());
      v.put("seed", e.seed());
      Map<String, Object> em = new TreeMap<>();
      e.metrics().forEach((k, x) -> em.put(k, number(x)));
      v.put("metrics", em);
      v.put("prompt_version", e.promptVersion());
      v.put("decoding_params", new TreeMap<>(e.decodingParams()));
      Map<String, Object> counts = new TreeMap<>();
      e.samples().forEach((k, x) -> counts.put(k, x.size()));
      v.put("sample_kind", e.sampleKind());
      v.put("sample_counts", counts);
      v.put("at", time(e.at()));
      v.put("event_id", e.eventId());
      evaluations.add(v);
    }
    m.put("evaluations", evaluations);
    m.put("finished", avro(s.finished()));
    m.put("finished_event_id", s.finishedEventId());
    return m;
  }

  /** The datasets a run is bound to: role, name, version, digest. */
  static List<Object> datasets(RunState s) {
    List<Object> datasets = new ArrayList<>();
    for (RunState.BoundDataset d : s.datasets()) {
      Map<String, Object> v = new LinkedHashMap<>();
      v.put("role", d.role());
      v.put("name", d.name());
      v.put("version", d.version());
      v.put("digest", d.digest());
      v.put("event_id", d.eventId());
      datasets.add(v);
    }
    return datasets;
  }

  /** A short line per run for lists. */
  public static Map<String, Object> summary(RunState s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("run_id", s.runId());
    m.put("experiment", s.started() == null ? null : s.started().getExperiment());
    m.put("status", s.status().name());
    m.put("started_at", time(s.startedAt()));
    m.put("last_event_at", time(s.lastEventAt()));
    m.put("latest_step", s.latestStep() < 0 ? null : s.latestStep());
    m.put("latest_loss", number(s.latestLoss()));
    m.put("events", s.events());
    m.put("fingerprint", Fingerprint.of(s).digest());
    m.put("reproduction_of", s.started() == null ? null : s.started().getReproductionOf());
    return m;
  }

  /** JSON has no NaN or infinities: they are written as the strings the NDJSON protocol accepts. */
  static Object number(Double d) {
    if (d == null) {
      return null;
    }
    if (d.isNaN()) {
      return "NaN";
    }
    if (d.isInfinite()) {
      return d > 0 ? "Infinity" : "-Infinity";
    }
    return d;
  }

  static String time(Instant t) {
    return t == null ? null : t.toString();
  }

  /** An Avro value (record, map, list, enum, time) as plain JSON-ready objects; maps in key order. */
  public static Object avro(Object value) {
    if (value == null) {
      return null;
    }
    if (value instanceof IndexedRecord r) {
      Map<String, Object> m = new LinkedHashMap<>();
      for (Schema.Field f : r.getSchema().getFields()) {
        m.put(f.name(), avro(r.get(f.pos())));
      }
      return m;
    }
    if (value instanceof Map<?, ?> map) {
      Map<String, Object> m = new TreeMap<>();
      map.forEach((k, v) -> m.put(String.valueOf(k), avro(v)));
      return m;
    }
    if (value instanceof List<?> list) {
      List<Object> l = new ArrayList<>(list.size());
      list.forEach(v -> l.add(avro(v)));
      return l;
    }
    if (value instanceof Instant t) {
      return t.toString();
    }
    if (value instanceof Enum<?> e) {
      return e.name();
    }
    if (value instanceof Double d) {
      return number(d);
    }
    if (value instanceof CharSequence cs) {
      return cs.toString();
    }
    return value;
  }
}
