package io.lineageledger.projections.detect;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.lineageledger.events.Alert;
import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.BaselineRule;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.MetricDirection;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.repro.MetricComparison;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The detectors that join facts of several subjects: a resumed run with the checkpoint it
 * resumed from ({@link AlertKind#LOSS_CLIFF_AFTER_RESUME}, {@link AlertKind#RESUME_CODE_MISMATCH}),
 * every mention of a dataset version ({@link AlertKind#DATASET_DIGEST_CONFLICT}), a declared
 * reproduction with its original ({@link AlertKind#REPRODUCTION_DIVERGED}), and evaluations with
 * the baseline of their model or experiment ({@link AlertKind#METRIC_REGRESSION}).
 *
 * <p>It folds the low-volume facts that {@link DetectorTopology} gathers from every partition
 * (run starts, checkpoints, dataset mentions, evaluations, model versions, baselines, and the first
 * summary of a resumed run) into a key-value {@link Kv}, in whatever order they arrive: each
 * join is tried from both sides. Each condition is raised once ({@code raised:} keys). Every
 * baseline check, passed or not, is kept per run ({@link #checks}) so that a user can see why an
 * evaluation raised nothing.
 *
 * <p>Not thread-safe: owned by the one task of the facts topic.
 */
public final class DetectorCatalog {
  /** The store the catalog lives in: string keys, JSON values. */
  public interface Kv {
    byte[] get(String key);

    void put(String key, byte[] value);
  }

  /** Loss a checkpoint fact carries: the mean loss of its run's last summary before it. */
  public static final String LAST_SUMMARY_LOSS = "ledger.last_summary_loss";
  static final int KEPT_EVALUATIONS = 16;
  static final int KEPT_CHECKS = 64;

  private static final JsonMapper JSON = JsonMapper.builder().enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();

  private final Kv kv;
  private final DetectorSettings settings;

  public DetectorCatalog(Kv kv, DetectorSettings settings) {
    this.kv = kv;
    this.settings = settings;
  }

  /** What the catalog knows of a run. */
  public record RunFacts(String experiment, String reproductionOf, String resumedFrom, String commit, String startedEventId,
                         Set<String> models, List<EvalFact> evals, List<Point> resumed, String lastCheckpoint) {
    static RunFacts empty() {
      return new RunFacts(null, null, null, null, null, Set.of(), List.of(), List.of(), null);
    }

    RunFacts with(List<EvalFact> e, Set<String> m, List<Point> r, String ck) {
      return new RunFacts(experiment, reproductionOf, resumedFrom, commit, startedEventId, m, e, r, ck);
    }
  }

  /** A step summary's loss. */
  public record Point(long step, double loss, String eventId) {}

  /** An evaluation's figures. */
  public record EvalFact(String evalId, String eventId, String runId, String checkpointDigest, String suite, Map<String, Double> metrics,
                         Map<String, double[]> samples, String sampleKind) {}

  /** A checkpoint: whose, at which step, under which commit, and the loss before it. */
  public record CheckpointFact(String runId, long step, String commit, Double lossBefore, String eventId) {}

  /** A baseline in force: what it is for, where its values come from, its rules. */
  public record BaselineFact(String targetKind, String target, String runId, String evalId, List<RuleFact> rules, String eventId) {
    BaselineRule rule(int i) {
      RuleFact r = rules.get(i);
      return BaselineRule.newBuilder().setMetric(r.metric()).setDirection(MetricDirection.valueOf(r.direction()))
          .setMaxAbsoluteDrop(r.maxAbsoluteDrop()).setMaxRelativeDrop(r.maxRelativeDrop()).setSignificanceLevel(r.significanceLevel())
          .build();
    }

    String subject() {
      return targetKind + ":" + target;
    }
  }

  /** A {@link BaselineRule}, stored as JSON. */
  public record RuleFact(String metric, String direction, Double maxAbsoluteDrop, Double maxRelativeDrop, Double significanceLevel) {}

  /** Folds one fact; the alerts it raises, each for the first time. */
  public List<Alert> apply(EventEnvelope fact, Instant now) {
    List<Alert> alerts = new ArrayList<>();
    String subject = fact.getSubject();
    Object p = fact.getPayload();
    if (p instanceof RunStarted r) {
      runStarted(fact, r, now, alerts);
    } else if (p instanceof StepSummary s && subject.startsWith("run:")) {
      summaryNearCheckpoint(fact, subject.substring(4), s, now, alerts);
    } else if (p instanceof CheckpointSaved c && subject.startsWith("run:")) {
      checkpoint(fact, subject.substring(4), c, now, alerts);
    } else if (p instanceof DatasetBound b) {
      dataset(fact, b.getDataset(), now, alerts);
    } else if (p instanceof DataTransformApplied t) {
      for (DatasetVersionRef ref : t.getInputs()) {
        dataset(fact, ref, now, alerts);
      }
      for (DatasetVersionRef ref : t.getOutputs()) {
        dataset(fact, ref, now, alerts);
      }
    } else if (p instanceof EvaluationCompleted e && subject.startsWith("run:")) {
      evaluation(fact, subject.substring(4), e, now, alerts);
    } else if (p instanceof ModelVersionRegistered m) {
      modelVersion(m, now, alerts);
    } else if (p instanceof BaselineDesignated b) {
      baseline(fact, b);
    }
    return alerts;
  }

  /** A catalog to read only, over {@code get} (a store of the facts topic's task, for queries). */
  public static DetectorCatalog readOnly(java.util.function.Function<String, byte[]> get) {
    return new DetectorCatalog(new Kv() {
      @Override
      public byte[] get(String key) {
        return get.apply(key);
      }

      @Override
      public void put(String key, byte[] value) {
        throw new UnsupportedOperationException("this catalog is read-only");
      }
    }, DetectorSettings.DEFAULTS);
  }

  /** The baseline in force for {@code target} ({@code model:NAME} or {@code experiment:NAME}), or null. */
  public BaselineFact baseline(String target) {
    return read("baseline:" + target, BaselineFact.class, null);
  }

  /** Every baseline check of a run's evaluations, oldest first. */
  public List<BaselineCheck> checks(String runId) {
    return read("checks:" + runId, new TypeReference<List<BaselineCheck>>() {}, List.of());
  }

  // --- resumes -------------------------------------------------------------------------------

  private void runStarted(EventEnvelope fact, RunStarted r, Instant now, List<Alert> alerts) {
    RunFacts before = run(r.getRunId());
    RunFacts rf = new RunFacts(r.getExperiment(), r.getReproductionOf(), r.getResumedFrom(), r.getCode().getCommit(), fact.getEventId(),
        before.models(), before.evals(), before.resumed(), before.lastCheckpoint());
    putRun(r.getRunId(), rf);
    if (rf.reproductionOf() != null) {
      addToSet("reproductions:" + rf.reproductionOf(), r.getRunId());
      reproduction(r.getRunId(), rf.reproductionOf(), now, alerts);
    }
    if (rf.resumedFrom() != null) {
      addToSet("resumes:" + rf.resumedFrom(), r.getRunId());
      resume(r.getRunId(), rf, now, alerts);
    }
  }

  /**
   * One of the first summaries of a resumed run, or of a run after one of its checkpoints (what
   * the run went on to do from there, on the same data a resume from that checkpoint sees).
   */
  private void summaryNearCheckpoint(EventEnvelope fact, String runId, StepSummary s, Instant now, List<Alert> alerts) {
    if (!Double.isFinite(s.getLoss())) {
      return;
    }
    Point point = new Point(s.getStep(), s.getLoss(), fact.getEventId());
    RunFacts b = run(runId);
    if (b.lastCheckpoint() != null) {
      String key = "ckpt-next:" + b.lastCheckpoint();
      List<Point> next = new ArrayList<>(read(key, new TypeReference<List<Point>>() {}, List.of()));
      CheckpointFact ck = read("ckpt:" + b.lastCheckpoint(), CheckpointFact.class, null);
      if (next.size() < RunHealth.SUMMARIES_AROUND_RESUME && (ck == null || s.getStep() > ck.step())) {
        next.add(point);
        write(key, next);
        for (String resumed : set("resumes:" + b.lastCheckpoint())) {
          resume(resumed, run(resumed), now, alerts);
        }
      }
    }
    if (b.resumedFrom() != null && b.resumed().size() < RunHealth.SUMMARIES_AROUND_RESUME) {
      List<Point> resumed = new ArrayList<>(b.resumed());
      resumed.add(point);
      RunFacts rf = b.with(b.evals(), b.models(), resumed, b.lastCheckpoint());
      putRun(runId, rf);
      resume(runId, rf, now, alerts);
    }
  }

  private void checkpoint(EventEnvelope fact, String runId, CheckpointSaved c, Instant now, List<Alert> alerts) {
    Double lossBefore = c.getMetrics().get(LAST_SUMMARY_LOSS);
    if (lossBefore == null) {
      lossBefore = c.getMetrics().get("loss");
    }
    String commit = c.getCodeCommit() != null ? c.getCodeCommit() : run(runId).commit();
    if (kv.get("ckpt:" + c.getDigest()) == null) { // a bitwise reproduction saves the same checkpoint; the first run to save it keeps it
      write("ckpt:" + c.getDigest(), new CheckpointFact(runId, c.getStep(), commit, lossBefore, fact.getEventId()));
    }
    RunFacts b = run(runId);
    putRun(runId, b.with(b.evals(), b.models(), b.resumed(), c.getDigest()));
    for (String resumed : set("resumes:" + c.getDigest())) {
      resume(resumed, run(resumed), now, alerts);
    }
  }

  private void resume(String runId, RunFacts rf, Instant now, List<Alert> alerts) {
    if (rf.resumedFrom() == null) {
      return;
    }
    CheckpointFact ck = read("ckpt:" + rf.resumedFrom(), CheckpointFact.class, null);
    if (ck == null) {
      return;
    }
    if (rf.commit() != null && ck.commit() != null && !rf.commit().equals(ck.commit())) {
      raise(alerts, AlertKind.RESUME_CODE_MISMATCH, "RESUME_CODE_MISMATCH|run:" + runId + "|" + rf.resumedFrom(), "run:" + runId, runId, null,
          "Run " + runId + " resumed from checkpoint " + shortDigest(rf.resumedFrom()) + " (run " + ck.runId() + ", step " + ck.step()
              + ") under commit " + shortCommit(rf.commit()) + ", but the checkpoint was written by commit " + shortCommit(ck.commit())
              + "; the resumed training may not continue the same computation.",
          evidence(rf.startedEventId(), ck.eventId()),
          Alerts.details("run_commit", rf.commit(), "checkpoint_commit", ck.commit(), "checkpoint", rf.resumedFrom(), "checkpoint_run",
              ck.runId(), "checkpoint_step", ck.step()), now);
    }
    if (rf.resumed().isEmpty()) {
      return;
    }
    Point first = rf.resumed().get(0);
    String condition = "LOSS_CLIFF_AFTER_RESUME|run:" + runId + "|" + rf.resumedFrom();
    if (ck.lossBefore() != null && Double.isFinite(ck.lossBefore()) && ck.lossBefore() > 0
        && first.loss() >= ck.lossBefore() * settings.cliffRatio()) {
      raise(alerts, AlertKind.LOSS_CLIFF_AFTER_RESUME, condition, "run:" + runId, runId, null,
          "Run " + runId + "'s first loss after resuming from step " + ck.step() + " is " + Alerts.fmt(first.loss()) + ", "
              + Alerts.fmt(first.loss() / ck.lossBefore()) + "x the " + Alerts.fmt(ck.lossBefore())
              + " before the checkpoint: the optimizer state was likely not restored.",
          evidence(rf.startedEventId(), ck.eventId(), first.eventId()),
          Alerts.details("loss_before", ck.lossBefore(), "first_loss_after", first.loss(), "ratio", first.loss() / ck.lossBefore(),
              "cliff_ratio", settings.cliffRatio(), "checkpoint", rf.resumedFrom(), "checkpoint_step", ck.step(), "first_step",
              first.step()), now);
      return;
    }
    // Where the checkpoint's own run went on past it, the resumed run saw the same data at the same steps: compare pairwise.
    List<Point> original = read("ckpt-next:" + rf.resumedFrom(), new TypeReference<List<Point>>() {}, List.of());
    double mine = 0;
    double theirs = 0;
    int pairs = 0;
    List<String> evidence = evidence(rf.startedEventId(), ck.eventId());
    for (Point p : rf.resumed()) {
      for (Point o : original) {
        if (o.step() == p.step()) {
          mine += p.loss();
          theirs += o.loss();
          pairs++;
          evidence.add(p.eventId());
          evidence.add(o.eventId());
        }
      }
    }
    if (pairs < RunHealth.SUMMARIES_AROUND_RESUME || theirs <= 0) {
      return;
    }
    double excess = mine / theirs - 1;
    if (excess > settings.resumeTolerance()) {
      raise(alerts, AlertKind.LOSS_CLIFF_AFTER_RESUME, condition, "run:" + runId, runId, null,
          "Run " + runId + " resumed from step " + ck.step() + " of run " + ck.runId() + ", but over its first " + pairs
              + " summaries its loss is " + Alerts.fmt(excess * 100) + "% above what run " + ck.runId()
              + " reached at the same steps on the same data (" + Alerts.fmt(mine / pairs) + " against " + Alerts.fmt(theirs / pairs)
              + "): the optimizer state was likely not restored.",
          evidence, Alerts.details("mean_loss_after_resume", mine / pairs, "mean_loss_original", theirs / pairs, "excess", excess,
              "tolerance", settings.resumeTolerance(), "summaries", pairs, "checkpoint", rf.resumedFrom(), "checkpoint_step", ck.step(),
              "checkpoint_run", ck.runId()), now);
    }
  }

  // --- datasets ------------------------------------------------------------------------------

  private void dataset(EventEnvelope fact, DatasetVersionRef ref, Instant now, List<Alert> alerts) {
    String version = ref.getName() + "@" + ref.getVersion();
    String key = "data:" + version;
    Map<String, String> digests = new TreeMap<>(read(key, new TypeReference<Map<String, String>>() {}, Map.of()));
    if (digests.containsKey(ref.getDigest())) {
      return;
    }
    digests.put(ref.getDigest(), fact.getEventId());
    write(key, digests);
    if (digests.size() > 1) {
      List<String> evidence = new ArrayList<>(digests.values());
      raise(alerts, AlertKind.DATASET_DIGEST_CONFLICT, "DATASET_DIGEST_CONFLICT|dataset:" + version + "|" + String.join(",", digests.keySet()),
          "dataset:" + ref.getName(), fact.getSubject().startsWith("run:") ? fact.getSubject().substring(4) : null, null,
          "Dataset " + version + " has been seen with " + digests.size() + " different digests (" + digests.keySet().stream()
              .map(DetectorCatalog::shortDigest).collect(Collectors.joining(", ")) + "); its contents changed under the same version, "
              + "so runs that used it may not have used the same data.",
          evidence, Alerts.details("dataset", version, "digests", String.join(",", digests.keySet()), "new_digest", ref.getDigest(),
              "new_digest_subject", fact.getSubject()), now);
    }
  }

  // --- evaluations, baselines, reproductions -----------------------------------------------------

  private void evaluation(EventEnvelope fact, String runId, EvaluationCompleted e, Instant now, List<Alert> alerts) {
    Map<String, double[]> samples = new TreeMap<>();
    e.getSamples().forEach((k, v) -> samples.put(k, v.stream().mapToDouble(Double::doubleValue).toArray()));
    EvalFact ef = new EvalFact(e.getEvalId(), fact.getEventId(), runId, e.getCheckpointDigest(), e.getSuiteName(),
        new TreeMap<>(e.getMetrics()), samples, e.getSampleKind());
    RunFacts b = run(runId);
    List<EvalFact> evals = new ArrayList<>(b.evals());
    evals.removeIf(x -> x.evalId().equals(ef.evalId()));
    evals.add(ef);
    if (evals.size() > KEPT_EVALUATIONS) {
      evals = new ArrayList<>(evals.subList(evals.size() - KEPT_EVALUATIONS, evals.size()));
    }
    RunFacts rf = b.with(evals, b.models(), b.resumed(), b.lastCheckpoint());
    putRun(runId, rf);
    write("eval:" + runId + ":" + ef.evalId(), ef); // kept for good: a baseline may name it after the run's list moved on
    if (kv.get("eval-run:" + ef.evalId()) == null) {
      write("eval-run:" + ef.evalId(), runId);
    }
    if (rf.experiment() != null) {
      regression(runId, ef, "experiment:" + rf.experiment(), null, now, alerts);
    }
    for (String model : rf.models()) {
      regression(runId, ef, "model:" + model, model, now, alerts);
    }
    if (rf.reproductionOf() != null) {
      reproduction(runId, rf.reproductionOf(), now, alerts);
    }
    for (String reproduction : set("reproductions:" + runId)) {
      reproduction(reproduction, runId, now, alerts);
    }
  }

  private void modelVersion(ModelVersionRegistered m, Instant now, List<Alert> alerts) {
    RunFacts b = run(m.getRunId());
    if (b.models().contains(m.getModelName())) {
      return;
    }
    Set<String> models = new TreeSet<>(b.models());
    models.add(m.getModelName());
    putRun(m.getRunId(), b.with(b.evals(), models, b.resumed(), b.lastCheckpoint()));
    // The run's evaluation may have come before its registration: it is the model's evaluation from now on.
    EvalFact latest = latestOf(b.evals(), m.getCheckpointDigest());
    if (latest != null) {
      regression(m.getRunId(), latest, "model:" + m.getModelName(), m.getModelName(), now, alerts);
    }
  }

  private static EvalFact latestOf(List<EvalFact> evals, String checkpointDigest) {
    for (int i = evals.size() - 1; i >= 0; i--) {
      if (checkpointDigest == null || checkpointDigest.equals(evals.get(i).checkpointDigest())) {
        return evals.get(i);
      }
    }
    return evals.isEmpty() ? null : evals.get(evals.size() - 1);
  }

  private void baseline(EventEnvelope fact, BaselineDesignated b) {
    List<RuleFact> rules = b.getRules().stream().map(r -> new RuleFact(r.getMetric(), r.getDirection().name(), r.getMaxAbsoluteDrop(),
        r.getMaxRelativeDrop(), r.getSignificanceLevel())).toList();
    write("baseline:" + b.getTargetKind() + ":" + b.getTarget(),
        new BaselineFact(b.getTargetKind(), b.getTarget(), b.getBaselineRunId(), b.getBaselineEvalId(), rules, fact.getEventId()));
  }

  private void regression(String runId, EvalFact observed, String target, String model, Instant now, List<Alert> alerts) {
    BaselineFact baseline = read("baseline:" + target, BaselineFact.class, null);
    if (baseline == null || runId.equals(baseline.runId())) {
      return;
    }
    EvalFact base = baselineEvaluation(baseline, observed.suite());
    if (base == null || base.runId().equals(runId)) {
      return;
    }
    List<BaselineCheck> checks = new ArrayList<>(checks(runId));
    for (int i = 0; i < baseline.rules().size(); i++) {
      BaselineRule rule = baseline.rule(i);
      BaselineCheck check = BaselineCheck.of(target, rule, side(observed, rule.getMetric()), side(base, rule.getMetric()));
      checks.removeIf(c -> c.evalId().equals(check.evalId()) && c.target().equals(target) && c.metric().equals(check.metric()));
      checks.add(check);
      if (check.regressed()) {
        String runName = "run " + runId + (model == null ? "" : " (model " + model + ")");
        raise(alerts, AlertKind.METRIC_REGRESSION, "METRIC_REGRESSION|" + target + "|run:" + runId + "|eval:" + observed.evalId() + "|" + rule.getMetric(),
            target, runId, model,
            "Evaluation " + observed.evalId() + " of " + runName + " regressed against the baseline of " + target + " (run "
                + base.runId() + "): " + check.reason() + ".",
            evidence(observed.eventId(), base.eventId(), baseline.eventId()),
            Alerts.details("metric", check.metric(), "direction", check.direction(), "observed", check.observed(), "baseline",
                check.baseline(), "delta", check.delta(), "relative_delta", check.relativeDelta(), "p_value", check.pValue(),
                "n_observed", check.nObserved(), "n_baseline", check.nBaseline(), "rule", check.rule(), "baseline_run", base.runId(),
                "baseline_eval", base.evalId(), "eval", observed.evalId()), now);
      }
    }
    if (checks.size() > KEPT_CHECKS) {
      checks = new ArrayList<>(checks.subList(checks.size() - KEPT_CHECKS, checks.size()));
    }
    write("checks:" + runId, checks);
  }

  private EvalFact baselineEvaluation(BaselineFact baseline, String suite) {
    if (baseline.evalId() != null) {
      // An evaluation id names one evaluation of the baseline run, or of any run when the baseline names none.
      if (baseline.runId() != null) {
        return read("eval:" + baseline.runId() + ":" + baseline.evalId(), EvalFact.class, null);
      }
      String owner = read("eval-run:" + baseline.evalId(), String.class, null);
      return owner == null ? null : read("eval:" + owner + ":" + baseline.evalId(), EvalFact.class, null);
    }
    List<EvalFact> evals = run(baseline.runId()).evals();
    for (int i = evals.size() - 1; i >= 0; i--) {
      if (suite == null || suite.equals(evals.get(i).suite())) {
        return evals.get(i);
      }
    }
    return null;
  }

  private static BaselineCheck.Side side(EvalFact e, String metric) {
    double[] s = e.samples().get(metric);
    return new BaselineCheck.Side(e.evalId(), e.eventId(), e.runId(), e.metrics().get(metric), s != null && s.length >= 2 ? s : null);
  }

  private void reproduction(String runId, String originalId, Instant now, List<Alert> alerts) {
    List<EvalFact> mine = run(runId).evals();
    List<EvalFact> theirs = run(originalId).evals();
    if (mine.isEmpty() || theirs.isEmpty()) {
      return;
    }
    EvalFact a = theirs.get(theirs.size() - 1);
    EvalFact b = mine.get(mine.size() - 1);
    List<String> outside = new ArrayList<>();
    Map<String, String> figures = new LinkedHashMap<>();
    for (Map.Entry<String, Double> m : a.metrics().entrySet()) {
      Double other = b.metrics().get(m.getKey());
      if (other == null) {
        continue;
      }
      double[] sa = a.samples().get(m.getKey());
      double[] sb = b.samples().get(m.getKey());
      boolean samples = sa != null && sb != null && sa.length >= 2 && sb.length >= 2;
      MetricComparison c = samples
          ? MetricComparison.of(m.getKey(), kind(a), sa, kind(b), sb)
          : MetricComparison.of(m.getKey(), "value", new double[] {m.getValue()}, "value", new double[] {other});
      if (!c.withinTolerance()) {
        outside.add(m.getKey() + " " + Alerts.fmt(c.a().mean()) + " -> " + Alerts.fmt(c.b().mean())
            + (c.welch() == null ? "" : " (Welch p = " + Alerts.fmt(c.welch().p()) + ")"));
        figures.put(m.getKey() + ".original", String.valueOf(c.a().mean()));
        figures.put(m.getKey() + ".reproduction", String.valueOf(c.b().mean()));
        if (c.welch() != null) {
          figures.put(m.getKey() + ".p_value", String.valueOf(c.welch().p()));
        }
      }
    }
    if (outside.isEmpty()) {
      return;
    }
    boolean sameCheckpoint = a.checkpointDigest() != null && a.checkpointDigest().equals(b.checkpointDigest());
    figures.put("original_eval", a.evalId());
    figures.put("reproduction_eval", b.evalId());
    figures.put("checkpoint_digests_equal", String.valueOf(sameCheckpoint));
    figures.put("tolerance", MetricComparison.RELATIVE_TOLERANCE * 100 + "% or p >= " + MetricComparison.SIGNIFICANCE);
    raise(alerts, AlertKind.REPRODUCTION_DIVERGED, "REPRODUCTION_DIVERGED|run:" + runId + "|of:" + originalId, "run:" + runId, runId, null,
        "Run " + runId + ", a declared reproduction of run " + originalId + ", diverged beyond tolerance: " + String.join("; ", outside)
            + (sameCheckpoint ? "" : "; its checkpoint digest differs too") + ".",
        evidence(run(runId).startedEventId(), a.eventId(), b.eventId()), figures, now);
  }

  private static String kind(EvalFact e) {
    return e.sampleKind() == null ? "per_sample" : e.sampleKind();
  }

  // --- storage -------------------------------------------------------------------------------

  private void raise(List<Alert> alerts, AlertKind kind, String condition, String subject, String runId, String model, String message,
                     List<String> evidence, Map<String, String> details, Instant now) {
    String key = "raised:" + condition;
    if (kv.get(key) != null) {
      return;
    }
    kv.put(key, new byte[] {1});
    alerts.add(Alerts.of(kind, condition, subject, runId, model, message, evidence, details, now));
  }

  private static List<String> evidence(String... ids) {
    List<String> out = new ArrayList<>();
    for (String id : ids) {
      if (id != null && !out.contains(id)) {
        out.add(id);
      }
    }
    return out;
  }

  private RunFacts run(String runId) {
    return read("run:" + runId, RunFacts.class, RunFacts.empty());
  }

  private void putRun(String runId, RunFacts rf) {
    write("run:" + runId, rf);
  }

  private Set<String> set(String key) {
    return read(key, new TypeReference<LinkedHashSet<String>>() {}, new LinkedHashSet<>());
  }

  private void addToSet(String key, String value) {
    Set<String> s = set(key);
    if (s.add(value)) {
      write(key, s);
    }
  }

  private <T> T read(String key, Class<T> type, T absent) {
    return read(key, JSON.constructType(type), absent);
  }

  private <T> T read(String key, TypeReference<T> type, T absent) {
    return read(key, JSON.constructType(type), absent);
  }

  private <T> T read(String key, JavaType type, T absent) {
    byte[] bytes = kv.get(key);
    try {
      return bytes == null ? absent : JSON.readValue(bytes, type);
    } catch (java.io.IOException e) {
      throw new IllegalStateException("detector catalog entry '" + key + "' is not readable: " + e.getMessage(), e);
    }
  }

  private void write(String key, Object value) {
    try {
      kv.put(key, JSON.writeValueAsBytes(value));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("detector catalog entry '" + key + "' could not be written: " + e.getMessage(), e);
    }
  }

  static String shortDigest(String digest) {
    int colon = digest.indexOf(':');
    return digest.length() > colon + 13 ? digest.substring(0, colon + 13) : digest;
  }

  private static String shortCommit(String commit) {
    return commit.length() > 12 ? commit.substring(0, 12) : commit;
  }
}
