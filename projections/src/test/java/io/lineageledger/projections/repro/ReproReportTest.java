package io.lineageledger.projections.repro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.run.RunState;
import io.lineageledger.projections.run.RunStateCodec;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

/** Reports and comparisons as pure functions of run states. */
class ReproReportTest {
  static final Instant T0 = Instant.parse("2026-11-20T10:00:00Z");
  static final String D = "sha256:" + "ab".repeat(32);

  /** What a run is made of; tests change one thing at a time. */
  static final class Spec {
    String id;
    String host = "node-1";
    String cpu = "x86-64 Zen 4";
    String commit = "c0ffee1234";
    boolean dirty;
    long seed = 42;
    String ckptPrefix = "aa";
    String reproductionOf;
    String experiment = "charlm";
    double valLoss = 1.9;
    double[] samples;
    Map<String, String> extraConfig = Map.of();

    Spec(String id) {
      this.id = id;
    }

    Spec with(Consumer<Spec> change) {
      change.accept(this);
      return this;
    }
  }

  static int seq;

  static EventEnvelope event(String runId, Object payload) {
    seq++;
    return EventEnvelope.newBuilder().setEventId("ev-" + runId + "-" + seq).setOccurredAt(T0.plusSeconds(seq)).setSubject("run:" + runId)
        .setProducer(ProducerInfo.newBuilder().setId("p").setName("t").setVersion("1").setHost("h").setSeq(seq).build())
        .setPayload(payload).build();
  }

  static RunState run(Spec s) {
    List<EventEnvelope> events = new ArrayList<>();
    events.add(event(s.id, RunStarted.newBuilder().setRunId(s.id).setExperiment(s.experiment).setReproductionOf(s.reproductionOf)
        .setCode(CodeVersion.newBuilder().setRepo("git@example.com:lab/charlm").setCommit(s.commit).setDirty(s.dirty)
            .setDiffDigest(s.dirty ? "sha256:" + "dd".repeat(32) : null).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("Linux 6.1").setHost(s.host).setRuntimes(Map.of("gcc", "12.2"))
            .setPackageLockDigest("sha256:" + "11".repeat(32)).setLockFiles(Map.of("requirements.txt", "sha256:" + "11".repeat(32)))
            .setHardware(Hardware.newBuilder().setCpu(s.cpu).setCpuCount(2).build()).build())
        .setSeeds(Map.of("seed", s.seed)).setDeterminismFlags(Map.of("deterministic_kernels", "true"))
        .setCommandLine(List.of("lineage-trainer", "--steps", "200", "--seed", String.valueOf(s.seed))).build()));
    Map<String, String> params = new HashMap<>(Map.of("lr", "0.003", "seed", String.valueOf(s.seed), "steps", "200"));
    params.putAll(s.extraConfig);
    events.add(event(s.id, ConfigSnapshot.newBuilder().setParams(params).setDigest("sha256:" + Integer.toHexString(params.hashCode()).repeat(8))
        .setChangedKeys(List.of()).build()));
    events.add(event(s.id, DatasetBound.newBuilder().setRole("train").setDataset(DatasetVersionRef.newBuilder().setName("corpus.train")
        .setVersion("v1").setDigest(D).build()).build()));
    for (long step = 100; step <= 200; step += 100) {
      events.add(event(s.id, StepSummary.newBuilder().setStep(step).setLoss(2.0 - step / 1000.0).setMetrics(Map.of()).build()));
      events.add(event(s.id, CheckpointSaved.newBuilder().setStep(step).setUri("file:///c/" + step)
          .setDigest("sha256:" + (s.ckptPrefix + step).repeat(8)).setSizeBytes(10)
          .setContents(CheckpointContents.newBuilder().setModel(true).setOptimizer(true).setScheduler(true).setRng(true).setDataCursor(true).build())
          .build()));
    }
    EvaluationCompleted.Builder eval = EvaluationCompleted.newBuilder().setEvalId("eval-" + s.id).setSuiteName("val").setSuiteVersion("1")
        .setDecodingParams(Map.of("mode", "\"teacher-forced\"")).setSeed(1234L).setMetrics(Map.of("val_loss", s.valLoss, "accuracy", 0.4));
    if (s.samples != null) {
      List<Double> values = new ArrayList<>();
      for (double v : s.samples) {
        values.add(v);
      }
      eval.setSamples(Map.of("val_loss", values)).setSampleKind("per_sample");
    }
    events.add(event(s.id, eval.build()));
    events.add(event(s.id, RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build()));
    RunState state = RunState.replay(s.id, events);
    return RunStateCodec.decode(RunStateCodec.encode(state)); // what the store gives back
  }

  @Test
  void aSecondRunWithTheSameSeedOnTheSameMachineIsABitwiseL1Reproduction() {
    RunState first = run(new Spec("r1"));
    RunState second = run(new Spec("r2"));
    RunState unrelated = run(new Spec("other").with(s -> s.seed = 7));
    ReproReport report = ReproReport.of(second, List.of(first, second, unrelated));
    assertThat(report.checklist()).allSatisfy(i -> assertThat(i.passed()).as(i.item() + ": " + i.detail()).isTrue());
    assertThat(report.checklist()).allSatisfy(i -> assertThat(i.evidence()).as(i.item()).isNotEmpty().allMatch(id -> id.startsWith("ev-r2-")));
    assertThat(report.reproductions()).singleElement().satisfies(r -> {
      assertThat(r.runId()).isEqualTo("r1");
      assertThat(r.relation()).isEqualTo("same_fingerprint");
      assertThat(r.verdict()).isEqualTo("BITWISE");
      assertThat(r.level()).isEqualTo("L1");
      assertThat(r.checkpoints()).hasSize(2).allMatch(ReproReport.CheckpointPair::equal);
    });
    assertThat(report.level().level()).isEqualTo("L1");
    assertThat(report.level().evidenceRuns()).containsExactly("r1");
    assertThat(report.reproduce().commands()).contains("git checkout c0ffee1234");
    assertThat(report.reproduce().commands().get(report.reproduce().commands().size() - 1))
        .isEqualTo("ledger run --experiment charlm --reproduction-of r2 --seed seed=42 --determinism deterministic_kernels=true"
            + " -- lineage-trainer --steps 200 --seed 42");
  }

  @Test
  void theLevelFollowsWhereTheReproductionRan() {
    RunState original = run(new Spec("o"));
    assertThat(ReproReport.of(original, List.of(run(new Spec("h").with(s -> s.host = "node-2")))).level().level()).isEqualTo("L2");
    ReproReport l3 = ReproReport.of(original, List.of(run(new Spec("g").with(s -> {
      s.cpu = "aarch64 Neoverse";
      s.ckptPrefix = "bb"; // other hardware, other bits
    }))));
    assertThat(l3.reproductions().get(0).verdict()).isEqualTo("STATISTICAL");
    assertThat(l3.reproductions().get(0).environmentDifferences()).containsExactly("hardware.cpu");
    assertThat(l3.level().level()).isEqualTo("L3");
  }

  @Test
  void aDeclaredReproductionIsComparedEvenWithAnotherFingerprintAndNamesWhatDiffers() {
    RunState original = run(new Spec("o"));
    RunState repro = run(new Spec("r").with(s -> {
      s.reproductionOf = "o";
      s.extraConfig = Map.of("batch_size", "64");
      s.ckptPrefix = "cc";
      s.valLoss = 2.5;
    }));
    ReproReport report = ReproReport.of(repro, List.of(original));
    ReproReport.Reproduction r = report.reproductions().get(0);
    assertThat(r.relation()).isEqualTo("original_of_this_run");
    assertThat(r.sameFingerprint()).isFalse();
    assertThat(r.fingerprintDifferences()).containsExactly("config");
    assertThat(r.verdict()).isEqualTo("DIVERGED");
    assertThat(r.explanation()).contains("val_loss");
    assertThat(report.level().level()).isEqualTo("none");
    assertThat(ReproReport.of(original, List.of(repro)).reproductions().get(0).relation()).isEqualTo("declares_to_reproduce_this_run");
  }

  @Test
  void aDirtyWorkingTreeFailsTheCodeItemAndCitesTheDiffDigest() {
    ReproReport report = ReproReport.of(run(new Spec("d").with(s -> s.dirty = true)), List.of());
    ReproReport.CheckItem code = report.checklist().stream().filter(i -> i.item().equals("code_committed_and_clean")).findFirst().orElseThrow();
    assertThat(code.passed()).isFalse();
    assertThat(code.detail()).contains("uncommitted changes").contains("sha256:" + "dd".repeat(32));
    assertThat(report.checklistPassed()).isFalse();
    assertThat(report.reproduce().notes()).anyMatch(n -> n.contains("sha256:" + "dd".repeat(32)));
  }

  @Test
  void anotherSeedIsTheOnlyConfigChangeAndMetricsComeWithIntervals() {
    double[] sa = new double[50];
    double[] sb = new double[50];
    for (int i = 0; i < 50; i++) {
      sa[i] = 1.9 + (i % 7) * 0.01;
      sb[i] = 1.95 + (i % 5) * 0.012;
    }
    RunState a = run(new Spec("a").with(s -> s.samples = sa));
    RunState b = run(new Spec("b").with(s -> {
      s.seed = 43;
      s.ckptPrefix = "ee";
      s.samples = sb;
    }));
    RunComparison c = RunComparison.of(List.of(a), List.of(b));
    assertThat(c.sameFingerprint()).isFalse();
    assertThat(c.fingerprintDifferences()).containsExactly("config", "seeds");
    assertThat(c.config().changed()).containsOnlyKeys("seed");
    assertThat(c.config().added()).isEmpty();
    assertThat(c.config().removed()).isEmpty();
    assertThat(c.seeds()).containsExactly(new RunComparison.ValueDiff("seed", "42", "43"));
    assertThat(c.data()).allMatch(RunComparison.DataDiff::same);
    assertThat(c.code().same()).isTrue();
    MetricComparison valLoss = c.metrics().stream().filter(m -> m.metric().equals("val_loss")).findFirst().orElseThrow();
    assertThat(valLoss.aKind()).isEqualTo("per_sample");
    assertThat(valLoss.a().n()).isEqualTo(50);
    assertThat(valLoss.a().ciLow()).isLessThan(valLoss.a().mean());
    assertThat(valLoss.welch().p()).isCloseTo(new TTest().tTest(sa, sb), within(1e-9));
    assertThat(valLoss.direction()).isEqualTo("lower_is_better");
    assertThat(valLoss.better()).isEqualTo("a");
    assertThat(valLoss.bootstrapCi().low()).isPositive();
  }

  @Test
  void fiveSeedsAgainstFiveSeedsOfAVariantUseOneValuePerRun() {
    double[] base = {1.91, 1.88, 1.95, 1.90, 1.93};
    double[] variant = {1.99, 2.04, 1.97, 2.08, 2.01};
    List<RunState> a = new ArrayList<>();
    List<RunState> b = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      int k = i;
      a.add(run(new Spec("base-" + i).with(s -> {
        s.seed = k;
        s.valLoss = base[k];
      })));
      b.add(run(new Spec("variant-" + i).with(s -> {
        s.seed = k;
        s.valLoss = variant[k];
        s.extraConfig = Map.of("activation", "gelu");
      })));
    }
    MetricComparison m = RunComparison.of(a, b).metrics().stream().filter(x -> x.metric().equals("val_loss")).findFirst().orElseThrow();
    assertThat(m.aKind()).isEqualTo("per_run");
    assertThat(m.a().n()).isEqualTo(5);
    assertThat(m.welch().p()).isCloseTo(new TTest().tTest(base, variant), within(1e-6));
    assertThat(m.withinTolerance()).isFalse();
    assertThat(m.better()).isEqualTo("a");
  }

  @Test
  void theFingerprintCoversItsFiveParts() {
    Fingerprint f = Fingerprint.of(run(new Spec("f")));
    assertThat(f.parts()).containsOnlyKeys(Fingerprint.PARTS);
    assertThat(f.digest()).startsWith("sha256:");
    assertThat(Fingerprint.of(run(new Spec("g"))).digest()).isEqualTo(f.digest());
    assertThat(Fingerprint.of(run(new Spec("h").with(s -> s.dirty = true))).differences(f)).containsExactly("code");
  }
}
