package io.lineageledger.projections.run;

import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What is known about one run after a prefix of its events: identity and provenance (from
 * {@code RunStarted}), the current config and every change to it, the datasets it bound, the
 * latest step and its metrics, its checkpoints and evaluations, and how it ended.
 *
 * <p>{@link #apply} is the fold of DESIGN.md "Projections": pure (no I/O, no clock) and
 * deterministic, so the live store and an ad-hoc replay of the same events agree exactly. It
 * returns a new state and never changes the one it is called on; events of other subjects and
 * payloads that say nothing about a run leave the state as it is. Deduplication by event id is
 * the caller's job ({@link #replay} does it for a list of events).
 *
 * <p>Effectively immutable: a state is never changed once {@link #apply} has returned it, so it
 * may be shared once safely published (through a store, a queue or a final field).
 */
public final class RunState {
  /** How a run stands: RUNNING until its {@code RunFinished}, then how it ended. */
  public enum Status { UNKNOWN, RUNNING, COMPLETED, FAILED, KILLED }

  /**
   * One configuration the run reported, with when and which keys changed. Each record of an
   * event carries that event's id ({@code eventId}), the evidence reports cite.
   */
  public record ConfigVersion(String digest, Instant at, long atStep, List<String> changedKeys, String eventId) {}

  /** A dataset version the run bound, by role. */
  public record BoundDataset(String role, String name, String version, String digest, String eventId) {}

  /**
   * A checkpoint the run saved. {@code complete}: model, optimizer, RNG and data cursor, what
   * a resume needs; {@code scheduler}: the learning-rate scheduler's state is in it too.
   */
  public record Checkpoint(long step, String digest, String uri, long sizeBytes, boolean complete, Instant at,
                           boolean scheduler, String codeCommit, String eventId) {}

  /**
   * An evaluation of the run, with the settings that fix it (suite version, prompt version,
   * decoding parameters, seed) and, where the evaluator gave them, per-seed or per-sample
   * values of each metric ({@code samples}, of kind {@code sampleKind}).
   */
  public record Evaluation(String evalId, String checkpointDigest, String suite, String suiteVersion, Long seed,
                           Map<String, Double> metrics, Instant at, String promptVersion, Map<String, String> decodingParams,
                           Map<String, List<Double>> samples, String sampleKind, String eventId) {}

  // Set only while a new state is built (apply(), RunStateCodec.decode); never changed once it is returned.
  final String runId;
  RunStarted started;
  String startedEventId;
  Status status = Status.UNKNOWN;
  Map<String, String> config = Map.of();
  List<ConfigVersion> configHistory = List.of();
  List<BoundDataset> datasets = List.of();
  long latestStep = -1;
  Double latestLoss;
  Map<String, Double> latestMetrics = Map.of();
  long nonFiniteSteps;
  Long tokensSeen;
  List<Checkpoint> checkpoints = List.of();
  List<Evaluation> evaluations = List.of();
  RunFinished finished;
  String finishedEventId;
  Instant startedAt;
  Instant lastEventAt;
  long events;

  RunState(String runId) {
    this.runId = runId;
  }

  /** The state of a run no event has been seen for. */
  public static RunState empty(String runId) {
    return new RunState(runId);
  }

  /**
   * Folds {@code events} (in log order) into a new state, skipping any event id seen before:
   * the replay of DESIGN.md, with the dedupe the live projection does through its store.
   */
  public static RunState replay(String runId, Iterable<EventEnvelope> events) {
    RunState state = empty(runId);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (EventEnvelope e : events) {
      if (seen.add(e.getEventId())) {
        state = state.apply(e);
      }
    }
    return state;
  }

  /**
   * The run as it stood when {@code step} was its latest step: the fold of its events up to the
   * first summary of a later step (deduplicated, in log order). This is what the live store
   * held between that step's summary and the next one.
   */
  public static RunState asOfStep(String runId, Iterable<EventEnvelope> events, long step) {
    RunState state = empty(runId);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (EventEnvelope e : events) {
      if (e.getPayload() instanceof StepSummary s && s.getStep() > step && e.getSubject().equals("run:" + runId)) {
        break;
      }
      if (seen.add(e.getEventId())) {
        state = state.apply(e);
      }
    }
    return state;
  }

  /** The run as of {@code at}: the fold of its events that occurred at or before it (deduplicated, in log order). */
  public static RunState asOf(String runId, Iterable<EventEnvelope> events, Instant at) {
    RunState state = empty(runId);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (EventEnvelope e : events) {
      if (!e.getOccurredAt().isAfter(at) && seen.add(e.getEventId())) {
        state = state.apply(e);
      }
    }
    return state;
  }

  /** The state after {@code event}. */
  public RunState apply(EventEnvelope event) {
    if (!event.getSubject().equals("run:" + runId)) {
      return this;
    }
    Instant at = event.getOccurredAt();
    RunState next = copy();
    next.events++;
    if (next.lastEventAt == null || at.isAfter(next.lastEventAt)) {
      next.lastEventAt = at;
    }
    Object p = event.getPayload();
    if (p instanceof RunFinished f) {
      next.finished = f;
      next.finishedEventId = event.getEventId();
      next.status = switch (f.getStatus()) {
        case COMPLETED -> Status.COMPLETED;
        case FAILED -> Status.FAILED;
        case KILLED -> Status.KILLED;
      };
      return next;
    }
    boolean lateSummary = p instanceof StepSummary s && s.getStep() < latestStep;
    boolean aboutTheRun = p instanceof RunStarted || p instanceof ConfigSnapshot || p instanceof DatasetBound
        || p instanceof StepSummary || p instanceof CheckpointSaved || p instanceof EvaluationCompleted;
    if (next.status == Status.UNKNOWN && aboutTheRun && !lateSummary) {
      next.status = Status.RUNNING;
    }
    if (p instanceof RunStarted s) {
      next.started = s;
      next.startedEventId = event.getEventId();
      next.startedAt = at;
    } else if (p instanceof ConfigSnapshot c) {
      next.config = Collections.unmodifiableMap(new TreeMap<>(c.getParams()));
      next.configHistory = append(configHistory, new ConfigVersion(c.getDigest(), at, latestStep, List.copyOf(c.getChangedKeys()),
          event.getEventId()));
    } else if (p instanceof DatasetBound d) {
      DatasetVersionRef ref = d.getDataset();
      next.datasets = append(datasets, new BoundDataset(d.getRole(), ref.getName(), ref.getVersion(), ref.getDigest(),
          event.getEventId()));
    } else if (p instanceof StepSummary s && !lateSummary) { // a late summary of an earlier step does not move the run back
      next.latestStep = s.getStep();
      next.latestLoss = s.getLoss();
      // Sorted when read (latestMetrics()), not on every summary: most states are never read.
      next.latestMetrics = Collections.unmodifiableMap(s.getMetrics());
      next.nonFiniteSteps += s.getNonFiniteCount();
      if (s.getTokensSeen() != null) {
        next.tokensSeen = s.getTokensSeen();
      }
    } else if (p instanceof CheckpointSaved c) {
      var contents = c.getContents();
      boolean complete = contents.getModel() && contents.getOptimizer() && contents.getRng() && contents.getDataCursor();
      next.checkpoints = append(checkpoints, new Checkpoint(c.getStep(), c.getDigest(), c.getUri(), c.getSizeBytes(), complete, at,
          contents.getScheduler(), c.getCodeCommit(), event.getEventId()));
    } else if (p instanceof EvaluationCompleted e) {
      next.evaluations = append(evaluations, new Evaluation(e.getEvalId(), e.getCheckpointDigest(), e.getSuiteName(),
          e.getSuiteVersion(), e.getSeed(), Collections.unmodifiableMap(new TreeMap<>(e.getMetrics())), at, e.getPromptVersion(),
          Collections.unmodifiableMap(new TreeMap<>(e.getDecodingParams())), samples(e.getSamples()), e.getSampleKind(),
          event.getEventId()));
    }
    return next;
  }

  private static Map<String, List<Double>> samples(Map<String, List<Double>> samples) {
    Map<String, List<Double>> out = new TreeMap<>();
    samples.forEach((k, v) -> out.put(k, List.copyOf(v)));
    return Collections.unmodifiableMap(out);
  }

  /** A shallow copy; the collections are unmodifiable, so sharing them is safe. */
  private RunState copy() {
    RunState c = new RunState(runId);
    c.started = started;
    c.startedEventId = startedEventId;
    c.status = status;
    c.config = config;
    c.configHistory = configHistory;
    c.datasets = datasets;
    c.latestStep = latestStep;
    c.latestLoss = latestLoss;
    c.latestMetrics = latestMetrics;
    c.nonFiniteSteps = nonFiniteSteps;
    c.tokensSeen = tokensSeen;
    c.checkpoints = checkpoints;
    c.evaluations = evaluations;
    c.finished = finished;
    c.finishedEventId = finishedEventId;
    c.startedAt = startedAt;
    c.lastEventAt = lastEventAt;
    c.events = events;
    return c;
  }

  private static <T> List<T> append(List<T> list, T item) {
    List<T> out = new ArrayList<>(list.size() + 1);
    out.addAll(list);
    out.add(item);
    return Collections.unmodifiableList(out);
  }

  public String runId() {
    return runId;
  }

  /** The run's {@code RunStarted} (identity, code, environment, seeds), or null before it arrived. */
  public RunStarted started() {
    return started;
  }

  /** The id of the run's {@code RunStarted} event, or null before it arrived. */
  public String startedEventId() {
    return startedEventId;
  }

  /** The id of the run's {@code RunFinished} event, or null while it runs. */
  public String finishedEventId() {
    return finishedEventId;
  }

  public Status status() {
    return status;
  }

  /** The current config: flattened dotted keys to JSON-encoded values. */
  public Map<String, String> config() {
    return config;
  }

  /** The current config's digest, or null before the first snapshot. */
  public String configDigest() {
    return configHistory.isEmpty() ? null : configHistory.get(configHistory.size() - 1).digest();
  }

  public List<ConfigVersion> configHistory() {
    return configHistory;
  }

  public List<BoundDataset> datasets() {
    return datasets;
  }

  /** The latest step summarized, or -1 before the first summary. */
  public long latestStep() {
    return latestStep;
  }

  /** The latest summary's loss (NaN when it was not finite), or null before the first summary. */
  public Double latestLoss() {
    return latestLoss;
  }

  /** The metrics of the latest summary, sorted by name. */
  public Map<String, Double> latestMetrics() {
    return latestMetrics instanceof java.util.SortedMap || latestMetrics.size() < 2 ? latestMetrics
        : Collections.unmodifiableSortedMap(new TreeMap<>(latestMetrics));
  }

  /** Steps whose loss or gradients were not finite, summed over every summary. */
  public long nonFiniteSteps() {
    return nonFiniteSteps;
  }

  public Long tokensSeen() {
    return tokensSeen;
  }

  public List<Checkpoint> checkpoints() {
    return checkpoints;
  }

  /**
   * The last complete checkpoint (model, optimizer, RNG and data cursor) at or before
   * {@code step}, or null: what a resume to that step starts from.
   */
  public Checkpoint checkpointAtOrBefore(long step) {
    Checkpoint best = null;
    for (Checkpoint c : checkpoints) {
      if (c.complete() && c.step() <= step && (best == null || c.step() >= best.step())) {
        best = c;
      }
    }
    return best;
  }

  public List<Evaluation> evaluations() {
    return evaluations;
  }

  /** The run's {@code RunFinished}, or null while it runs. */
  public RunFinished finished() {
    return finished;
  }

  /** When the run's {@code RunStarted} happened, or null. */
  public Instant startedAt() {
    return startedAt;
  }

  public Instant lastEventAt() {
    return lastEventAt;
  }

  /** Events folded into this state. */
  public long events() {
    return events;
  }
}
