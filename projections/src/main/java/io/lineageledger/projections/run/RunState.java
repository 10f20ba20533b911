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
 * <p>Immutable, so thread-safe.
 */
public final class RunState {
  /** How a run stands: RUNNING until its {@code RunFinished}, then how it ended. */
  public enum Status { UNKNOWN, RUNNING, COMPLETED, FAILED, KILLED }

  /** One configuration the run reported, with when and which keys changed. */
  public record ConfigVersion(String digest, Instant at, long atStep, List<String> changedKeys) {}

  /** A dataset version the run bound, by role. */
  public record BoundDataset(String role, String name, String version, String digest) {}

  /** A checkpoint the run saved. */
  public record Checkpoint(long step, String digest, String uri, long sizeBytes, boolean complete, Instant at) {}

  /** An evaluation of the run. */
  public record Evaluation(String evalId, String checkpointDigest, String suite, String suiteVersion, Long seed,
                           Map<String, Double> metrics, Instant at) {}

  private final String runId;
  private final RunStarted started;
  private final Status status;
  private final Map<String, String> config;
  private final List<ConfigVersion> configHistory;
  private final List<BoundDataset> datasets;
  private final long latestStep;
  private final Double latestLoss;
  private final Map<String, Double> latestMetrics;
  private final long nonFiniteSteps;
  private final Long tokensSeen;
  private final List<Checkpoint> checkpoints;
  private final List<Evaluation> evaluations;
  private final RunFinished finished;
  private final Instant startedAt;
  private final Instant lastEventAt;
  private final long events;

  private RunState(String runId, RunStarted started, Status status, Map<String, String> config, List<ConfigVersion> configHistory,
                   List<BoundDataset> datasets, long latestStep, Double latestLoss, Map<String, Double> latestMetrics, long nonFiniteSteps,
                   Long tokensSeen, List<Checkpoint> checkpoints, List<Evaluation> evaluations, RunFinished finished, Instant startedAt,
                   Instant lastEventAt, long events) {
    this.runId = runId;
    this.started = started;
    this.status = status;
    this.config = config;
    this.configHistory = configHistory;
    this.datasets = datasets;
    this.latestStep = latestStep;
    this.latestLoss = latestLoss;
    this.latestMetrics = latestMetrics;
    this.nonFiniteSteps = nonFiniteSteps;
    this.tokensSeen = tokensSeen;
    this.checkpoints = checkpoints;
    this.evaluations = evaluations;
    this.finished = finished;
    this.startedAt = startedAt;
    this.lastEventAt = lastEventAt;
    this.events = events;
  }

  /** The state of a run no event has been seen for. */
  public static RunState empty(String runId) {
    return new RunState(runId, null, Status.UNKNOWN, Map.of(), List.of(), List.of(), -1, null, Map.of(), 0, null, List.of(), List.of(),
        null, null, null, 0);
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

  /** The state after {@code event}. */
  public RunState apply(EventEnvelope event) {
    if (!event.getSubject().equals("run:" + runId)) {
      return this;
    }
    Instant at = event.getOccurredAt();
    Object p = event.getPayload();
    if (p instanceof RunStarted s) {
      return with(s, status == Status.UNKNOWN ? Status.RUNNING : status, config, configHistory, datasets, latestStep, latestLoss,
          latestMetrics, nonFiniteSteps, tokensSeen, checkpoints, evaluations, finished, at, event);
    }
    if (p instanceof ConfigSnapshot c) {
      Map<String, String> params = Collections.unmodifiableMap(new TreeMap<>(c.getParams()));
      List<ConfigVersion> history = append(configHistory,
          new ConfigVersion(c.getDigest(), at, latestStep, List.copyOf(c.getChangedKeys())));
      return with(started, running(), params, history, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps, tokensSeen,
          checkpoints, evaluations, finished, startedAt, event);
    }
    if (p instanceof DatasetBound d) {
      DatasetVersionRef ref = d.getDataset();
      return with(started, running(), config, configHistory,
          append(datasets, new BoundDataset(d.getRole(), ref.getName(), ref.getVersion(), ref.getDigest())), latestStep, latestLoss,
          latestMetrics, nonFiniteSteps, tokensSeen, checkpoints, evaluations, finished, startedAt, event);
    }
    if (p instanceof StepSummary s) {
      if (s.getStep() < latestStep) {
        return counted(event); // a late summary of an earlier step does not move the run back
      }
      Map<String, Double> metrics = Collections.unmodifiableMap(new TreeMap<>(s.getMetrics()));
      return with(started, running(), config, configHistory, datasets, s.getStep(), s.getLoss(), metrics,
          nonFiniteSteps + s.getNonFiniteCount(), s.getTokensSeen() != null ? s.getTokensSeen() : tokensSeen, checkpoints, evaluations,
          finished, startedAt, event);
    }
    if (p instanceof CheckpointSaved c) {
      var contents = c.getContents();
      boolean complete = contents.getModel() && contents.getOptimizer() && contents.getRng() && contents.getDataCursor();
      return with(started, running(), config, configHistory, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps,
          tokensSeen, append(checkpoints, new Checkpoint(c.getStep(), c.getDigest(), c.getUri(), c.getSizeBytes(), complete, at)),
          evaluations, finished, startedAt, event);
    }
    if (p instanceof EvaluationCompleted e) {
      Evaluation ev = new Evaluation(e.getEvalId(), e.getCheckpointDigest(), e.getSuiteName(), e.getSuiteVersion(), e.getSeed(),
          Collections.unmodifiableMap(new TreeMap<>(e.getMetrics())), at);
      return with(started, running(), config, configHistory, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps,
          tokensSeen, checkpoints, append(evaluations, ev), finished, startedAt, event);
    }
    if (p instanceof RunFinished f) {
      Status s = switch (f.getStatus()) {
        case COMPLETED -> Status.COMPLETED;
        case FAILED -> Status.FAILED;
        case KILLED -> Status.KILLED;
      };
      return with(started, s, config, configHistory, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps, tokensSeen,
          checkpoints, evaluations, f, startedAt, event);
    }
    return counted(event);
  }

  private Status running() {
    return status == Status.UNKNOWN ? Status.RUNNING : status;
  }

  private RunState counted(EventEnvelope event) {
    return with(started, status, config, configHistory, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps, tokensSeen,
        checkpoints, evaluations, finished, startedAt, event);
  }

  private RunState with(RunStarted started, Status status, Map<String, String> config, List<ConfigVersion> configHistory,
                        List<BoundDataset> datasets, long latestStep, Double latestLoss, Map<String, Double> latestMetrics,
                        long nonFiniteSteps, Long tokensSeen, List<Checkpoint> checkpoints, List<Evaluation> evaluations,
                        RunFinished finished, Instant startedAt, EventEnvelope event) {
    Instant last = lastEventAt == null || event.getOccurredAt().isAfter(lastEventAt) ? event.getOccurredAt() : lastEventAt;
    return new RunState(runId, started, status, config, configHistory, datasets, latestStep, latestLoss, latestMetrics, nonFiniteSteps,
        tokensSeen, checkpoints, evaluations, finished, startedAt, last, events + 1);
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

  public Map<String, Double> latestMetrics() {
    return latestMetrics;
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

  /** The last checkpoint at or before {@code step}, or null: what a resume to that step starts from. */
  public Checkpoint checkpointAtOrBefore(long step) {
    Checkpoint best = null;
    for (Checkpoint c : checkpoints) {
      if (c.step() <= step && (best == null || c.step() >= best.step())) {
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
