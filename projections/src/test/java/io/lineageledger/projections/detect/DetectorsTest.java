package io.lineageledger.projections.detect;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.lineageledger.events.Alert;
import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.BaselineRule;
import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.MetricDirection;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.Severity;
import io.lineageledger.events.StepSummary;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DetectorsTest {
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  static final DetectorSettings S = DetectorSettings.DEFAULTS;
  int seq;

  // --- envelopes -----------------------------------------------------------------------------

  EventEnvelope event(String subject, Object payload) {
    return event(subject, T0.plusSeconds(seq), payload);
  }

  EventEnvelope event(String subject, Instant at, Object payload) {
    int n = seq++;
    return EventEnvelope.newBuilder().setEventId("e-" + n).setOccurredAt(at).setSubject(subject)
        .setProducer(ProducerInfo.newBuilder().setId("p").setName("test").setVersion("1").setHost("h").setSeq(n).build())
        .setPayload(payload).build();
  }

  static RunStarted started(String runId, String commit, String resumedFrom, String reproductionOf) {
    return RunStarted.newBuilder().setRunId(runId).setExperiment("exp").setResumedFrom(resumedFrom).setReproductionOf(reproductionOf)
        .setCode(CodeVersion.newBuilder().setCommit(commit).setDirty(false).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("h")
            .setHardware(Hardware.newBuilder().setCpu("x").setCpuCount(2).build()).build())
        .build();
  }

  static StepSummary summary(long step, double loss, Double tokensPerS) {
    return StepSummary.newBuilder().setStep(step).setLoss(loss)
        .setMetrics(tokensPerS == null ? Map.of() : Map.of("tokens_per_s", tokensPerS)).build();
  }

  static RunFinished finished() {
    return RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build();
  }

  static CheckpointSaved checkpoint(String digest, long step, String commit, Map<String, Double> metrics) {
    return CheckpointSaved.newBuilder().setStep(step).setUri("file:///c/" + step).setDigest(digest).setSizeBytes(100).setCodeCommit(commit)
        .setContents(CheckpointContents.newBuilder().setModel(true).setOptimizer(true).setScheduler(true).setRng(true).setDataCursor(true)
            .build())
        .setMetrics(metrics).build();
  }

  static EvaluationCompleted evaluation(String evalId, String checkpointDigest, Map<String, Double> metrics,
                                        Map<String, List<Double>> samples) {
    return EvaluationCompleted.newBuilder().setEvalId(evalId).setCheckpointDigest(checkpointDigest).setSuiteName("val")
        .setMetrics(metrics).setSamples(samples).setSampleKind(samples.isEmpty() ? null : "per_sample").build();
  }

  /** An evaluation of val_loss: its value and per-sample values. */
  static EvaluationCompleted valLoss(String evalId, String checkpointDigest, double value, double... samples) {
    return evaluation(evalId, checkpointDigest, Map.of("val_loss", value),
        samples.length == 0 ? Map.of() : Map.of("val_loss", Arrays.stream(samples).boxed().toList()));
  }

  static ModelVersionRegistered registered(String model, String version, String checkpointDigest, String runId) {
    return ModelVersionRegistered.newBuilder().setModelName(model).setVersion(version).setCheckpointDigest(checkpointDigest)
        .setRunId(runId).build();
  }

  static BaselineRule rule(String metric, MetricDirection direction, Double maxAbsolute, Double maxRelative, Double significance) {
    return BaselineRule.newBuilder().setMetric(metric).setDirection(direction).setMaxAbsoluteDrop(maxAbsolute)
        .setMaxRelativeDrop(maxRelative).setSignificanceLevel(significance).build();
  }

  static DatasetVersionRef ref(String name, String version, String digest) {
    return DatasetVersionRef.newBuilder().setName(name).setVersion(version).setDigest(digest).build();
  }

  static List<String> kinds(List<Alert> alerts) {
    return alerts.stream().map(Alert::getKind).toList();
  }

  // --- RunHealth -----------------------------------------------------------------------------

  @Nested
  class RunHealthDetectors {
    RunHealth health = RunHealth.empty("r1");
    final Random noise = new Random(7);

    List<Alert> feed(EventEnvelope e) {
      return new ArrayList<>(health.apply(e, S, T0).alerts());
    }

    List<Alert> feed(long step, double loss, Double tokensPerS) {
      return feed(event("run:r1", summary(step, loss, tokensPerS)));
    }

    /** {@code n} ordinary summaries from {@code fromStep}: loss about 2.0, about 1000 tokens/s. */
    List<Alert> normal(long fromStep, int n) {
      List<Alert> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.addAll(feed(fromStep + i, 2.0 + 0.01 * (noise.nextDouble() - 0.5), 1000 + 20 * (noise.nextDouble() - 0.5)));
      }
      return out;
    }

    @Test
    void aNonFiniteLossIsRaisedOncePerRun() {
      feed(event("run:r1", started("r1", "c1", null, null)));
      assertThat(normal(1, 10)).isEmpty();
      EventEnvelope nan = event("run:r1", summary(11, Double.NaN, null));
      List<Alert> alerts = feed(nan);
      alerts.addAll(feed(12, Double.NaN, null));
      alerts.addAll(feed(13, Double.POSITIVE_INFINITY, null));
      alerts.addAll(feed(event("run:r1", StepSummary.newBuilder(summary(14, 2.0, null)).setNonFiniteCount(3).build())));
      assertThat(alerts).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("NON_FINITE_LOSS");
        assertThat(a.getSeverity()).isEqualTo(Severity.CRITICAL);
        assertThat(a.getSubject()).isEqualTo("run:r1");
        assertThat(a.getRunId()).isEqualTo("r1");
        assertThat(a.getEvidenceEventIds()).containsExactly(nan.getEventId());
        assertThat(a.getDetails()).containsEntry("step", "11");
        assertThat(a.getMessage()).contains("r1", "step 11");
      });
    }

    @Test
    void aCleanDecreasingCurveRaisesNothing() {
      List<Alert> alerts = new ArrayList<>();
      for (int i = 1; i <= 200; i++) {
        double loss = 3.0 * Math.exp(-i / 60.0) * (1 + 0.01 * noise.nextGaussian());
        alerts.addAll(feed(i, loss, 1000 * (1 + 0.02 * noise.nextGaussian())));
      }
      assertThat(alerts).isEmpty();
      assertThat(health.lastLoss()).isCloseTo(3.0 * Math.exp(-200 / 60.0), within(0.01));
    }

    @Test
    void aLossSpikeIsRaisedOncePerEpisode() {
      assertThat(normal(1, 40)).isEmpty();
      EventEnvelope spike = event("run:r1", summary(41, 10.0, 1000.0));
      assertThat(feed(spike)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("LOSS_SPIKE");
        assertThat(a.getSeverity()).isEqualTo(Severity.WARNING);
        assertThat(a.getEvidenceEventIds()).containsExactly(spike.getEventId());
        assertThat(a.getDetails()).containsEntry("step", "41").containsEntry("loss", "10.0");
        assertThat(Double.parseDouble(a.getDetails().get("window_median"))).isCloseTo(2.0, within(0.01));
      });
      assertThat(feed(42, 10.5, 1000.0)).as("the next summary is the same spike").isEmpty();
      assertThat(normal(43, 1)).isEmpty();
      assertThat(feed(44, 10.0, 1000.0)).as("a spike right after a short calm is the same episode").isEmpty();
      assertThat(normal(45, 20)).isEmpty();
      assertThat(feed(65, 10.0, 1000.0)).as("after a long calm a spike is a new episode").extracting(Alert::getKind)
          .containsExactly("LOSS_SPIKE");
    }

    @Test
    void aSustainedThroughputDropIsRaisedOnce() {
      assertThat(normal(1, 40)).isEmpty();
      List<Alert> alerts = new ArrayList<>();
      for (int i = 41; i <= 44; i++) {
        alerts.addAll(feed(i, 2.0, 300.0));
      }
      assertThat(alerts).as("four slow summaries are not yet a drop").isEmpty();
      assertThat(normal(45, 1)).isEmpty();
      for (int i = 46; i <= 53; i++) {
        alerts.addAll(feed(i, 2.0, 300.0));
      }
      assertThat(alerts).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("THROUGHPUT_DROP");
        assertThat(a.getSeverity()).isEqualTo(Severity.INFO);
        assertThat(a.getDetails()).containsEntry("step", "50").containsEntry("summaries_low", "5").containsEntry("tokens_per_s", "300.0");
      });
    }

    @Test
    void aSilentRunIsRaisedOncePerSilence() {
      assertThat(RunHealth.empty("never").silence(S, T0)).as("a run never heard from").isNull();
      Instant last = T0.plusSeconds(60);
      feed(event("run:r1", T0, started("r1", "c1", null, null)));
      EventEnvelope lastEvent = event("run:r1", last, summary(1, 2.0, null));
      feed(lastEvent);
      assertThat(health.silence(S, last.plus(Duration.ofMinutes(9)))).isNull();
      assertThat(health.silence(S, last.plus(S.silentAfter()))).as("exactly silentAfter is not silent yet").isNull();
      Alert first = health.silence(S, last.plus(S.silentAfter()).plusSeconds(1));
      assertThat(first).isNotNull();
      assertThat(first.getKind()).isEqualTo("RUN_SILENT");
      assertThat(first.getEvidenceEventIds()).containsExactly(lastEvent.getEventId());
      assertThat(first.getDetails()).containsEntry("silent_seconds", "601");
      assertThat(health.silence(S, last.plus(Duration.ofMinutes(30)))).as("the same silence").isNull();

      EventEnvelope again = event("run:r1", last.plus(Duration.ofMinutes(40)), summary(2, 1.9, null));
      feed(again);
      assertThat(health.silence(S, last.plus(Duration.ofMinutes(45)))).isNull();
      Alert second = health.silence(S, last.plus(Duration.ofMinutes(51)));
      assertThat(second).isNotNull();
      assertThat(second.getAlertId()).isNotEqualTo(first.getAlertId());
      assertThat(second.getEvidenceEventIds()).containsExactly(again.getEventId());

      feed(event("run:r1", last.plus(Duration.ofMinutes(52)), finished()));
      assertThat(health.finished()).isTrue();
      assertThat(health.silence(S, last.plus(Duration.ofDays(1)))).as("a finished run is never silent").isNull();
    }

    @Test
    void aLateEventFromBeforeTheLastOneDoesNotEndTheSilence() {
      feed(event("run:r1", T0, started("r1", "c1", null, null)));
      feed(event("run:r1", T0.plusSeconds(60), summary(2, 2.0, null)));
      Alert first = health.silence(S, T0.plus(Duration.ofMinutes(20)));
      assertThat(first).isNotNull();
      // An event that happened before the last one heard (say, from another producer) arrives late.
      feed(event("run:r1", T0.plusSeconds(30), summary(1, 2.1, null)));
      assertThat(health.silence(S, T0.plus(Duration.ofMinutes(21))))
          .as("the run is still silent since the same event: raising again repeats alert %s", first.getAlertId()).isNull();
    }

    @Test
    void encodeAndDecodeKeepTheDetectorsWhereTheyWere() {
      List<EventEnvelope> stream = new ArrayList<>();
      stream.add(event("run:r1", started("r1", "c1", null, null)));
      long step = 1;
      for (int i = 0; i < 40; i++, step++) {
        stream.add(event("run:r1", summary(step, 2.0 + 0.01 * noise.nextDouble(), 1000 + 10 * noise.nextDouble())));
      }
      stream.add(event("run:r1", summary(step++, 10.0, 1000.0)));
      stream.add(event("run:r1", summary(step++, 10.0, 1000.0)));
      for (int i = 0; i < 20; i++, step++) {
        stream.add(event("run:r1", summary(step, 2.0 + 0.01 * noise.nextDouble(), 1000 + 10 * noise.nextDouble())));
      }
      stream.add(event("run:r1", summary(step++, 10.0, 1000.0)));
      for (int i = 0; i < 8; i++, step++) {
        stream.add(event("run:r1", summary(step, 2.0, 300.0)));
      }
      stream.add(event("run:r1", summary(step++, Double.NaN, null)));
      stream.add(event("run:r1", summary(step, Double.NaN, null)));

      RunHealth straight = RunHealth.empty("r1");
      RunHealth moved = RunHealth.empty("r1");
      List<String> straightKeys = new ArrayList<>();
      List<String> movedKeys = new ArrayList<>();
      for (EventEnvelope e : stream) {
        straight.apply(e, S, T0).alerts().forEach(a -> straightKeys.add(a.getConditionKey()));
        moved = RunHealth.decode(moved.encode()); // as if the task moved before every event
        moved.apply(e, S, T0).alerts().forEach(a -> movedKeys.add(a.getConditionKey()));
      }
      assertThat(straightKeys).extracting(k -> k.substring(0, k.indexOf('|')))
          .containsExactly("LOSS_SPIKE", "LOSS_SPIKE", "THROUGHPUT_DROP", "NON_FINITE_LOSS");
      assertThat(movedKeys).isEqualTo(straightKeys);
      assertThat(moved.encode()).isEqualTo(straight.encode());
      assertThat(moved.lastLoss()).isEqualTo(straight.lastLoss());

      Instant silent = stream.get(stream.size() - 1).getOccurredAt().plus(Duration.ofMinutes(11));
      assertThat(moved.silence(S, silent)).isNotNull();
      assertThat(RunHealth.decode(moved.encode()).silence(S, silent.plusSeconds(60))).as("the raised silence is stored").isNull();
    }
  }

  // --- BaselineCheck -------------------------------------------------------------------------

  @Nested
  class BaselineChecks {
    final BaselineRule valLoss = rule("val_loss", MetricDirection.LOWER_IS_BETTER, 0.05, null, null);

    BaselineCheck.Side side(String evalId, Double value, double... samples) {
      return new BaselineCheck.Side(evalId, "event-" + evalId, "run-" + evalId, value, samples.length == 0 ? null : samples);
    }

    BaselineCheck check(BaselineRule rule, BaselineCheck.Side observed, BaselineCheck.Side base) {
      return BaselineCheck.of("model:m", rule, observed, base);
    }

    @Test
    void withinTheThresholdIsOk() {
      BaselineCheck c = check(valLoss, side("cand", 1.93), side("base", 1.90));
      assertThat(c.verdict()).isEqualTo(BaselineCheck.OK);
      assertThat(c.regressed()).isFalse();
      assertThat(c.delta()).isCloseTo(0.03, within(1e-9));
      assertThat(c.reason()).contains("within");
      assertThat(check(valLoss, side("cand", 1.70), side("base", 1.90)).reason()).contains("no worse than the baseline");
    }

    @Test
    void beyondTheAbsoluteOrRelativeDropIsARegression() {
      BaselineCheck lower = check(valLoss, side("cand", 2.0), side("base", 1.9));
      assertThat(lower.verdict()).isEqualTo(BaselineCheck.REGRESSED);
      assertThat(lower.regressed()).isTrue();
      assertThat(lower.delta()).isCloseTo(0.1, within(1e-9));
      assertThat(lower.pValue()).isNull();
      assertThat(lower.reason()).contains("worsened by");
      assertThat(lower.baselineRunId()).isEqualTo("run-base");

      BaselineRule relative = rule("accuracy", MetricDirection.HIGHER_IS_BETTER, null, 0.05, null);
      BaselineCheck higher = check(relative, side("cand", 0.74), side("base", 0.80));
      assertThat(higher.verdict()).isEqualTo(BaselineCheck.REGRESSED);
      assertThat(higher.delta()).isCloseTo(0.06, within(1e-9));
      assertThat(higher.relativeDelta()).isCloseTo(0.075, within(1e-9));
      assertThat(check(relative, side("cand", 0.78), side("base", 0.80)).verdict()).isEqualTo(BaselineCheck.OK);
      assertThat(check(relative, side("cand", 0.90), side("base", 0.80)).verdict()).as("better is never a drop").isEqualTo(BaselineCheck.OK);
      BaselineRule absolute = rule("accuracy", MetricDirection.HIGHER_IS_BETTER, 0.05, null, null);
      assertThat(check(absolute, side("cand", 0.70), side("base", 0.80)).verdict()).isEqualTo(BaselineCheck.REGRESSED);
      assertThat(check(valLoss, side("cand", 1.0), side("base", 1.2)).verdict()).as("lower loss is better").isEqualTo(BaselineCheck.OK);
    }

    @Test
    void aDropWithinTheNoiseOfBothSidesIsNotSignificant() {
      BaselineRule tested = rule("val_loss", MetricDirection.LOWER_IS_BETTER, 0.05, null, 0.05);
      BaselineCheck noisy = check(tested, side("cand", 2.1, 1.7, 2.5, 1.9, 2.3, 2.1), side("base", 1.9, 1.5, 2.3, 1.7, 2.1, 1.9));
      assertThat(noisy.verdict()).isEqualTo(BaselineCheck.NOT_SIGNIFICANT);
      assertThat(noisy.regressed()).isFalse();
      assertThat(noisy.pValue()).isGreaterThanOrEqualTo(0.05);
      assertThat(noisy.nObserved()).isEqualTo(5);
      assertThat(noisy.reason()).contains("not significant");

      BaselineCheck tight = check(tested, side("cand", 2.4, 2.39, 2.41, 2.40, 2.38, 2.42), side("base", 1.9, 1.89, 1.91, 1.90, 1.88, 1.92));
      assertThat(tight.verdict()).isEqualTo(BaselineCheck.REGRESSED);
      assertThat(tight.pValue()).isLessThan(0.05);
      assertThat(tight.reason()).contains("significant (Welch p");

      BaselineCheck oneSided = check(tested, side("cand", 2.4, 2.39, 2.41, 2.40), side("base", 1.9));
      assertThat(oneSided.verdict()).as("no test without samples on both sides").isEqualTo(BaselineCheck.REGRESSED);
      assertThat(oneSided.reason()).contains("no samples on both sides");
    }

    @Test
    void anAbsentMetricIsMissing() {
      BaselineCheck noObserved = check(valLoss, side("cand", null), side("base", 1.9));
      assertThat(noObserved.verdict()).isEqualTo(BaselineCheck.MISSING);
      assertThat(noObserved.regressed()).isFalse();
      assertThat(noObserved.reason()).contains("evaluation cand", "val_loss");
      BaselineCheck noBase = check(valLoss, side("cand", 1.9), side("base", null));
      assertThat(noBase.verdict()).isEqualTo(BaselineCheck.MISSING);
      assertThat(noBase.reason()).contains("baseline evaluation base");
    }
  }

  // --- DetectorCatalog -----------------------------------------------------------------------

  @Nested
  class Catalog {
    final Map<String, byte[]> store = new HashMap<>();
    final DetectorCatalog catalog = new DetectorCatalog(new DetectorCatalog.Kv() {
      @Override
      public byte[] get(String key) {
        return store.get(key);
      }

      @Override
      public void put(String key, byte[] value) {
        store.put(key, value);
      }
    }, S);

    List<Alert> apply(List<EventEnvelope> facts) {
      List<Alert> out = new ArrayList<>();
      facts.forEach(f -> out.addAll(catalog.apply(f, T0)));
      return out;
    }

    List<Alert> apply(EventEnvelope... facts) {
      return apply(List.of(facts));
    }

    // A model m whose baseline is run "base" (val_loss 1.90) and a candidate run "cand" registered as m.
    EventEnvelope designated;
    EventEnvelope baseEval;
    List<EventEnvelope> baseline() {
      designated = event("model:m", BaselineDesignated.newBuilder().setTargetKind("model").setTarget("m").setBaselineRunId("base")
          .setRules(List.of(rule("val_loss", MetricDirection.LOWER_IS_BETTER, 0.05, null, 0.05))).build());
      baseEval = event("run:base", valLoss("ev-base", "sha256:b1", 1.90, 1.89, 1.91, 1.90, 1.88, 1.92));
      return List.of(designated, event("run:base", started("base", "c1", null, null)), baseEval,
          event("model:m", registered("m", "v1", "sha256:b1", "base")));
    }

    @Test
    void aWorseEvaluationOfARegisteredModelRaisesOneRegression() {
      List<EventEnvelope> facts = new ArrayList<>(baseline());
      EventEnvelope candEval = event("run:cand", valLoss("ev-cand", "sha256:c1", 2.40, 2.39, 2.41, 2.40, 2.38, 2.42));
      facts.add(event("run:cand", started("cand", "c2", null, null)));
      facts.add(candEval);
      assertThat(apply(facts)).as("not yet a version of m").isEmpty();
      EventEnvelope candRegistered = event("model:m", registered("m", "v2", "sha256:c1", "cand"));
      assertThat(apply(candRegistered)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("METRIC_REGRESSION");
        assertThat(a.getSeverity()).isEqualTo(Severity.CRITICAL);
        assertThat(a.getSubject()).isEqualTo("model:m");
        assertThat(a.getRunId()).isEqualTo("cand");
        assertThat(a.getModel()).isEqualTo("m");
        assertThat(a.getEvidenceEventIds()).containsExactly(candEval.getEventId(), baseEval.getEventId(), designated.getEventId());
        assertThat(a.getDetails()).containsEntry("observed", "2.4").containsEntry("baseline", "1.9").containsKeys("delta", "p_value", "rule");
        assertThat(Double.parseDouble(a.getDetails().get("delta"))).isCloseTo(0.5, within(1e-9));
        assertThat(Double.parseDouble(a.getDetails().get("p_value"))).isLessThan(0.05);
        assertThat(a.getDetails().get("rule")).startsWith("val_loss lower_is_better");
        assertThat(a.getMessage()).contains("ev-cand", "model m");
      });
      facts.add(candRegistered);
      assertThat(apply(facts)).as("the same facts again").isEmpty();
      assertThat(catalog.checks("cand")).singleElement().satisfies(c -> {
        assertThat(c.verdict()).isEqualTo(BaselineCheck.REGRESSED);
        assertThat(c.evalId()).isEqualTo("ev-cand");
        assertThat(c.observed()).isEqualTo(2.40);
        assertThat(c.baseline()).isEqualTo(1.90);
        assertThat(c.baselineRunId()).isEqualTo("base");
        assertThat(c.pValue()).isLessThan(0.05);
      });
    }

    @Test
    void aRegistrationBeforeItsEvaluationRaisesTheRegressionWhenTheEvaluationComes() {
      List<EventEnvelope> facts = new ArrayList<>(baseline());
      facts.add(event("run:cand", started("cand", "c2", null, null)));
      facts.add(event("model:m", registered("m", "v2", "sha256:c1", "cand")));
      assertThat(apply(facts)).isEmpty();
      EventEnvelope candEval = event("run:cand", valLoss("ev-cand", "sha256:c1", 2.40, 2.39, 2.41, 2.40, 2.38, 2.42));
      assertThat(apply(candEval)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("METRIC_REGRESSION");
        assertThat(a.getEvidenceEventIds()).containsExactly(candEval.getEventId(), baseEval.getEventId(), designated.getEventId());
      });
      assertThat(apply(candEval)).isEmpty();
    }

    @Test
    void anEvaluationWithinTheRuleRaisesNothingButItsCheckIsKept() {
      List<EventEnvelope> facts = new ArrayList<>(baseline());
      facts.add(event("run:cand", started("cand", "c2", null, null)));
      facts.add(event("run:cand", valLoss("ev-cand", "sha256:c1", 1.92, 1.91, 1.93, 1.92, 1.90, 1.94)));
      facts.add(event("model:m", registered("m", "v2", "sha256:c1", "cand")));
      assertThat(apply(facts)).isEmpty();
      assertThat(catalog.checks("cand")).singleElement().satisfies(c -> {
        assertThat(c.verdict()).isEqualTo(BaselineCheck.OK);
        assertThat(c.reason()).contains("within");
      });
    }

    // Run A wrote checkpoint ck1 under commit c1 with loss 1.0 before it; run B resumes from it.
    EventEnvelope ck() {
      return event("run:A", checkpoint("sha256:ck1", 100, "c1", Map.of(DetectorCatalog.LAST_SUMMARY_LOSS, 1.0)));
    }

    @Test
    void aResumeUnderOtherCodeWithALossCliffRaisesBoth() {
      EventEnvelope ck = ck();
      assertThat(apply(event("run:A", started("A", "c1", null, null)), ck)).isEmpty();
      EventEnvelope bStarted = event("run:B", started("B", "c2", "sha256:ck1", null));
      assertThat(apply(bStarted)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("RESUME_CODE_MISMATCH");
        assertThat(a.getDetails()).containsEntry("run_commit", "c2").containsEntry("checkpoint_commit", "c1");
        assertThat(a.getEvidenceEventIds()).containsExactly(bStarted.getEventId(), ck.getEventId());
      });
      EventEnvelope bFirst = event("run:B", summary(101, 3.0, null));
      assertThat(apply(bFirst)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("LOSS_CLIFF_AFTER_RESUME");
        assertThat(a.getSeverity()).isEqualTo(Severity.CRITICAL);
        assertThat(a.getRunId()).isEqualTo("B");
        assertThat(a.getDetails()).containsEntry("loss_before", "1.0").containsEntry("first_loss_after", "3.0");
        assertThat(a.getEvidenceEventIds()).containsExactly(bStarted.getEventId(), ck.getEventId(), bFirst.getEventId());
      });
      assertThat(apply(event("run:B", summary(102, 5.0, null)))).as("only the first summary counts").isEmpty();
      assertThat(apply(ck, bStarted, bFirst)).as("the same facts again").isEmpty();
    }

    @Test
    void aCheckpointSeenAfterTheResumedRunStillRaises() {
      assertThat(apply(event("run:B", started("B", "c2", "sha256:ck1", null)), event("run:B", summary(101, 3.0, null)))).isEmpty();
      assertThat(kinds(apply(event("run:A", started("A", "c1", null, null)), ck())))
          .containsExactlyInAnyOrder("RESUME_CODE_MISMATCH", "LOSS_CLIFF_AFTER_RESUME");
    }

    @Test
    void aSmoothResumeUnderTheSameCodeRaisesNothing() {
      assertThat(apply(ck(), event("run:B", started("B", "c1", "sha256:ck1", null)), event("run:B", summary(101, 1.1, null)))).isEmpty();
      assertThat(apply(event("run:C", started("C", "c1", "sha256:ck2", null)), event("run:C", summary(201, 1.1, null)),
          event("run:A", checkpoint("sha256:ck2", 200, "c1", Map.of(DetectorCatalog.LAST_SUMMARY_LOSS, 1.0))))).isEmpty();
    }

    @Test
    void aResumeWhoseFirstSummariesTrailTheOriginalRunAtTheSameStepsIsACliff() {
      // Run A saved ck1 at step 100 and went on: 2.00, 1.98, 1.96 at steps 110..130.
      List<EventEnvelope> original = List.of(event("run:A", started("A", "c1", null, null)), ckBefore2(), event("run:A", summary(110, 2.00, null)),
          event("run:A", summary(120, 1.98, null)), event("run:A", summary(130, 1.96, null)));
      assertThat(apply(original)).isEmpty();
      // A faithful resume (same losses, within 3%) raises nothing ...
      assertThat(apply(event("run:B", started("B", "c1", "sha256:ck1", null)), event("run:B", summary(110, 2.00, null)),
          event("run:B", summary(120, 2.01, null)), event("run:B", summary(130, 1.97, null)))).isEmpty();
      // ... one 8% above over its first three summaries is a cliff, raised once, when the third pair is known.
      assertThat(apply(event("run:C", started("C", "c1", "sha256:ck1", null)), event("run:C", summary(110, 2.10, null)),
          event("run:C", summary(120, 2.15, null)))).isEmpty();
      EventEnvelope third = event("run:C", summary(130, 2.20, null));
      assertThat(apply(third)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("LOSS_CLIFF_AFTER_RESUME");
        assertThat(a.getMessage()).contains("above what run A reached at the same steps");
        assertThat(a.getEvidenceEventIds()).contains(third.getEventId());
      });
      assertThat(apply(event("run:C", summary(140, 2.5, null)))).isEmpty();
    }

    EventEnvelope ckBefore2() {
      return event("run:A", checkpoint("sha256:ck1", 100, "c1", Map.of(DetectorCatalog.LAST_SUMMARY_LOSS, 2.02)));
    }

    @Test
    void aResumeSeenBeforeTheOriginalWentOnIsComparedWhenItDoes() {
      assertThat(apply(event("run:A", started("A", "c1", null, null)), ckBefore2(), event("run:C", started("C", "c1", "sha256:ck1", null)),
          event("run:C", summary(110, 2.10, null)), event("run:C", summary(120, 2.15, null)), event("run:C", summary(130, 2.20, null)),
          event("run:A", summary(110, 2.00, null)), event("run:A", summary(120, 1.98, null)))).isEmpty();
      assertThat(kinds(apply(event("run:A", summary(130, 1.96, null))))).containsExactly("LOSS_CLIFF_AFTER_RESUME");
    }

    @Test
    void oneDatasetVersionWithTwoDigestsIsAConflict() {
      EventEnvelope bound = event("run:r1", DatasetBound.newBuilder().setRole("train").setDataset(ref("corpus", "v1", "sha256:aa")).build());
      assertThat(apply(bound)).isEmpty();
      EventEnvelope transform = event("dataset:corpus", DataTransformApplied.newBuilder().setTransformId("t1").setTransformName("dedupe")
          .setInputs(List.of(ref("raw", "v1", "sha256:rr"))).setOutputs(List.of(ref("corpus", "v1", "sha256:bb")))
          .setStartedAt(T0).setEndedAt(T0.plusSeconds(5)).build());
      assertThat(apply(transform)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("DATASET_DIGEST_CONFLICT");
        assertThat(a.getSeverity()).isEqualTo(Severity.CRITICAL);
        assertThat(a.getSubject()).isEqualTo("dataset:corpus");
        assertThat(a.getEvidenceEventIds()).containsExactlyInAnyOrder(bound.getEventId(), transform.getEventId());
        assertThat(a.getDetails()).containsEntry("dataset", "corpus@v1").containsEntry("new_digest", "sha256:bb");
      });
      assertThat(apply(event("run:r2", DatasetBound.newBuilder().setRole("train").setDataset(ref("corpus", "v1", "sha256:aa")).build())))
          .as("a digest seen before").isEmpty();
      assertThat(apply(transform)).isEmpty();
    }

    @Test
    void aReproductionFarFromItsOriginalIsRaisedOnce() {
      EventEnvelope oEval = event("run:O", evaluation("ev-o", "sha256:o", Map.of("val_loss", 2.0, "accuracy", 0.5), Map.of()));
      assertThat(apply(event("run:O", started("O", "c1", null, null)), oEval)).isEmpty();
      EventEnvelope rStarted = event("run:R", started("R", "c1", null, "O"));
      EventEnvelope rEval = event("run:R", evaluation("ev-r", "sha256:r", Map.of("val_loss", 2.4, "accuracy", 0.6), Map.of()));
      assertThat(apply(rStarted, rEval)).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("REPRODUCTION_DIVERGED");
        assertThat(a.getRunId()).isEqualTo("R");
        assertThat(a.getEvidenceEventIds()).containsExactly(rStarted.getEventId(), oEval.getEventId(), rEval.getEventId());
        assertThat(a.getDetails()).containsEntry("val_loss.original", "2.0").containsEntry("val_loss.reproduction", "2.4");
      });
      assertThat(apply(rEval)).isEmpty();
      assertThat(apply(event("run:R2", started("R2", "c1", null, "O")),
          event("run:R2", evaluation("ev-r2", "sha256:o", Map.of("val_loss", 2.0, "accuracy", 0.5), Map.of())))).isEmpty();
    }

    @Test
    void aReproductionEvaluatedBeforeItsOriginalIsRaisedWhenTheOriginalComes() {
      assertThat(apply(event("run:R", started("R", "c1", null, "O")),
          event("run:R", evaluation("ev-r", null, Map.of("val_loss", 2.4), Map.of())))).isEmpty();
      assertThat(kinds(apply(event("run:O", started("O", "c1", null, null)),
          event("run:O", evaluation("ev-o", null, Map.of("val_loss", 2.0), Map.of()))))).containsExactly("REPRODUCTION_DIVERGED");
    }
  }

  // --- DetectorTopology ----------------------------------------------------------------------

  @Nested
  class Topology {
    static final String EVENTS = "ledger.events";
    static final String ALERTS = "ledger.alerts";
    static final String APP = "detectors-test";

    @TempDir
    Path stateDir;

    final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
    TopologyTestDriver driver;
    TestInputTopic<String, EventEnvelope> events;
    TestOutputTopic<String, Alert> alerts;

    @BeforeEach
    void start() {
      var topology = DetectorTopology.build(EVENTS, DetectorTopology.factsTopic(APP), ALERTS,
          new LedgerAvroDeserializer<>(registry, EventEnvelope.class), new LedgerAvroSerializer<>(registry),
          new LedgerAvroSerializer<>(registry), S);
      driver = new TopologyTestDriver(topology, DetectorTopology.streamsConfig(APP, "unused:9092", stateDir, null, Map.of()), T0);
      events = driver.createInputTopic(EVENTS, new StringSerializer(), new LedgerAvroSerializer<>(registry));
      alerts = driver.createOutputTopic(ALERTS, new StringDeserializer(), new LedgerAvroDeserializer<>(registry, Alert.class));
    }

    @AfterEach
    void stop() {
      driver.close();
    }

    void publish(EventEnvelope... list) {
      for (EventEnvelope e : list) {
        events.pipeInput(e.getSubject(), e);
      }
    }

    @Test
    void aNaNSummaryComesOutAsOneAlert() {
      EventEnvelope nan = event("run:r1", summary(2, Double.NaN, null));
      publish(event("run:r1", started("r1", "c1", null, null)), event("run:r1", summary(1, 2.0, null)), nan,
          event("run:r1", summary(3, Double.NaN, null)));
      publish(nan); // shipped twice
      List<KeyValue<String, Alert>> out = alerts.readKeyValuesToList();
      assertThat(out).singleElement().satisfies(kv -> {
        assertThat(kv.key).isEqualTo("run:r1");
        assertThat(kv.value.getKind()).isEqualTo("NON_FINITE_LOSS");
        assertThat(kv.value.getEvidenceEventIds()).containsExactly(nan.getEventId());
      });
    }

    @Test
    void aLossCliffAfterAResumeComesOutThroughTheFacts() {
      publish(event("run:A", started("A", "c1", null, null)), event("run:A", summary(98, 1.2, null)),
          event("run:A", summary(99, 1.1, null)), event("run:A", summary(100, 1.0, null)),
          event("run:A", checkpoint("sha256:ck1", 100, "c1", Map.of()))); // the loss before it is added on the way
      publish(event("run:B", started("B", "c1", "sha256:ck1", null)));
      assertThat(alerts.isEmpty()).isTrue();
      publish(event("run:B", summary(101, 3.0, null)), event("run:B", summary(102, 2.9, null)));
      List<KeyValue<String, Alert>> out = alerts.readKeyValuesToList();
      assertThat(out).singleElement().satisfies(kv -> {
        assertThat(kv.key).isEqualTo("run:B");
        assertThat(kv.value.getKind()).isEqualTo("LOSS_CLIFF_AFTER_RESUME");
        assertThat(kv.value.getDetails()).containsEntry("loss_before", "1.0").containsEntry("first_loss_after", "3.0");
      });
    }

    @Test
    void aSilentRunIsRaisedOnceOnTheWallClock() {
      publish(event("run:r1", T0, started("r1", "c1", null, null)), event("run:r1", T0.plusSeconds(1), summary(1, 2.0, null)));
      driver.advanceWallClockTime(Duration.ofMinutes(5));
      assertThat(alerts.isEmpty()).isTrue();
      driver.advanceWallClockTime(Duration.ofMinutes(6));
      List<KeyValue<String, Alert>> first = alerts.readKeyValuesToList();
      assertThat(first).singleElement().satisfies(kv -> {
        assertThat(kv.key).isEqualTo("run:r1");
        assertThat(kv.value.getKind()).isEqualTo("RUN_SILENT");
      });
      driver.advanceWallClockTime(Duration.ofMinutes(30));
      assertThat(alerts.isEmpty()).as("the same silence").isTrue();

      publish(event("run:r1", T0.plus(Duration.ofMinutes(41)), summary(2, 1.9, null)));
      driver.advanceWallClockTime(Duration.ofMinutes(11));
      assertThat(alerts.readValuesToList()).singleElement().satisfies(a -> {
        assertThat(a.getKind()).isEqualTo("RUN_SILENT");
        assertThat(a.getAlertId()).isNotEqualTo(first.get(0).value.getAlertId());
      });
      publish(event("run:r1", T0.plus(Duration.ofMinutes(53)), finished()));
      driver.advanceWallClockTime(Duration.ofHours(1));
      assertThat(alerts.isEmpty()).as("a finished run is never silent").isTrue();
    }
  }
}
