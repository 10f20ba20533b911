package io.lineageledger.projections.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunStateTest {
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  int seq;

  EventEnvelope event(String subject, Object payload) {
    int n = seq++;
    return EventEnvelope.newBuilder().setEventId("e-" + n).setOccurredAt(T0.plusSeconds(n)).setSubject(subject)
        .setProducer(ProducerInfo.newBuilder().setId("p").setName("test").setVersion("1").setHost("h").setSeq(n).build())
        .setPayload(payload).build();
  }

  EventEnvelope run(Object payload) {
    return event("run:r1", payload);
  }

  static StepSummary step(long s, double loss) {
    return StepSummary.newBuilder().setStep(s).setStepsCovered(10).setLoss(loss).setMetrics(Map.of("lr", 0.003)).setTokensSeen(s * 32).build();
  }

  static CheckpointSaved checkpoint(long s) {
    return CheckpointSaved.newBuilder().setStep(s).setUri("file:///c/" + s).setDigest("sha256:c" + s).setSizeBytes(100)
        .setContents(CheckpointContents.newBuilder().setModel(true).setOptimizer(true).setScheduler(true).setRng(true).setDataCursor(true).build())
        .build();
  }

  List<EventEnvelope> scenario() {
    List<EventEnvelope> events = new ArrayList<>();
    events.add(run(RunStarted.newBuilder().setRunId("r1").setExperiment("charlm")
        .setCode(CodeVersion.newBuilder().setCommit("abc").setDirty(false).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("h")
            .setHardware(Hardware.newBuilder().setCpu("x").setCpuCount(2).build()).build())
        .setSeeds(Map.of("seed", 42L)).build()));
    events.add(run(ConfigSnapshot.newBuilder().setParams(Map.of("lr", "0.003", "steps", "300")).setDigest("sha256:cfg1")
        .setChangedKeys(List.of("lr", "steps")).build()));
    events.add(run(DatasetBound.newBuilder().setRole("train")
        .setDataset(DatasetVersionRef.newBuilder().setName("corpus.train").setVersion("v1").setDigest("sha256:d1").build()).build()));
    for (long s = 10; s <= 200; s += 10) {
      events.add(run(step(s, 3.0 - s / 100.0)));
      if (s % 100 == 0) {
        events.add(run(checkpoint(s)));
      }
    }
    events.add(event("model:charlm", ModelVersionRegistered.newBuilder().setModelName("charlm").setVersion("v1")
        .setCheckpointDigest("sha256:c200").setRunId("r1").build()));
    events.add(run(ConfigSnapshot.newBuilder().setParams(Map.of("lr", "0.001", "steps", "300")).setDigest("sha256:cfg2")
        .setChangedKeys(List.of("lr")).build()));
    events.add(run(EvaluationCompleted.newBuilder().setEvalId("ev1").setCheckpointDigest("sha256:c200").setSuiteName("val")
        .setSeed(1234L).setMetrics(Map.of("val_loss", 1.9)).build()));
    events.add(run(RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build()));
    return events;
  }

  @Test
  void aWholeRunFoldsIntoItsState() {
    RunState s = RunState.replay("r1", scenario());
    assertThat(s.status()).isEqualTo(RunState.Status.COMPLETED);
    assertThat(s.started().getExperiment()).isEqualTo("charlm");
    assertThat(s.startedAt()).isEqualTo(T0);
    assertThat(s.config()).containsEntry("lr", "0.001");
    assertThat(s.configDigest()).isEqualTo("sha256:cfg2");
    assertThat(s.configHistory()).extracting(RunState.ConfigVersion::digest).containsExactly("sha256:cfg1", "sha256:cfg2");
    assertThat(s.configHistory().get(1).atStep()).as("the config changed after step 200").isEqualTo(200);
    assertThat(s.configHistory().get(1).changedKeys()).containsExactly("lr");
    assertThat(s.datasets()).extracting(RunState.BoundDataset::digest).containsExactly("sha256:d1");
    assertThat(s.latestStep()).isEqualTo(200);
    assertThat(s.latestLoss()).isEqualTo(1.0);
    assertThat(s.tokensSeen()).isEqualTo(6400);
    assertThat(s.checkpoints()).extracting(RunState.Checkpoint::step).containsExactly(100L, 200L);
    assertThat(s.checkpointAtOrBefore(150).digest()).isEqualTo("sha256:c100");
    assertThat(s.checkpointAtOrBefore(99)).isNull();
    RunState withPartial = s.apply(run(CheckpointSaved.newBuilder(checkpoint(250))
        .setContents(CheckpointContents.newBuilder(checkpoint(250).getContents()).setOptimizer(false).build()).build()));
    assertThat(withPartial.checkpointAtOrBefore(260).digest()).as("a checkpoint without optimizer state is no resume point")
        .isEqualTo("sha256:c200");
    assertThat(s.evaluations()).singleElement().satisfies(e -> assertThat(e.metrics()).containsEntry("val_loss", 1.9));
    assertThat(s.finished().getExitCode()).isZero();
    assertThat(s.events()).as("the model event has another subject").isEqualTo(scenario().size() - 1);
  }

  @Test
  void theStateAtAStepIsTheFoldOfThePrefixEndingThere() {
    List<EventEnvelope> all = scenario();
    int cut = 0;
    while (!(all.get(cut).getPayload() instanceof StepSummary s && s.getStep() == 120)) {
      cut++;
    }
    RunState at120 = RunState.replay("r1", all.subList(0, cut + 1));
    assertThat(at120.latestStep()).isEqualTo(120);
    assertThat(at120.status()).isEqualTo(RunState.Status.RUNNING);
    assertThat(at120.checkpoints()).extracting(RunState.Checkpoint::step).containsExactly(100L);
    assertThat(at120.configDigest()).isEqualTo("sha256:cfg1");
    assertThat(at120.finished()).isNull();
  }

  @Test
  void applyLeavesTheStateItIsCalledOnUnchanged() {
    RunState before = RunState.replay("r1", scenario().subList(0, 4));
    RunState after = before.apply(run(step(500, 0.5)));
    assertThat(before.latestStep()).isEqualTo(10);
    assertThat(after.latestStep()).isEqualTo(500);
    assertThat(before.events()).isEqualTo(4);
  }

  @Test
  void duplicatesAreFoldedOnceAndLateSummariesDoNotMoveTheRunBack() {
    List<EventEnvelope> events = new ArrayList<>(scenario().subList(0, 8));
    events.add(events.get(7)); // shipped twice
    RunState s = RunState.replay("r1", events);
    assertThat(s.events()).isEqualTo(8);
    RunState late = s.apply(run(step(20, 9.0)));
    assertThat(late.latestStep()).isEqualTo(s.latestStep());
    assertThat(late.latestLoss()).isEqualTo(s.latestLoss());
  }

  @Test
  void nonFiniteStepsAreCountedAndTheNaNLossKept() {
    RunState s = RunState.replay("r1", scenario().subList(0, 4))
        .apply(run(StepSummary.newBuilder().setStep(20).setLoss(Double.NaN).setNonFiniteCount(2).build()));
    assertThat(s.latestLoss()).isNaN();
    assertThat(s.nonFiniteSteps()).isEqualTo(2);
  }

  @Test
  void eventsOfOtherRunsAreIgnored() {
    RunState s = RunState.empty("r1").apply(event("run:r2", step(10, 1.0)));
    assertThat(s.events()).isZero();
    assertThat(s.status()).isEqualTo(RunState.Status.UNKNOWN);
  }

  @Test
  void asOfAStepStopsBeforeTheNextSummaryAndAsOfATimeKeepsWhatHadHappened() {
    List<EventEnvelope> all = scenario();
    int next = 0;
    while (!(all.get(next).getPayload() instanceof StepSummary s && s.getStep() == 110)) {
      next++;
    }
    RunState at100 = RunState.asOfStep("r1", all, 100);
    assertThat(RunStateCodec.encode(at100)).isEqualTo(RunStateCodec.encode(RunState.replay("r1", all.subList(0, next))));
    assertThat(at100.checkpoints()).as("the checkpoint saved at step 100 came before step 110's summary").hasSize(1);
    assertThat(RunStateCodec.encode(RunState.asOfStep("r1", all, 10_000))).isEqualTo(RunStateCodec.encode(RunState.replay("r1", all)));
    RunState early = RunState.asOf("r1", all, all.get(2).getOccurredAt());
    assertThat(early.events()).isEqualTo(3);
    assertThat(early.latestStep()).isEqualTo(-1);
  }

  @Test
  void theCodecRoundTripsEveryPartOfAState() {
    RunState s = RunState.replay("r1", scenario());
    byte[] bytes = RunStateCodec.encode(s);
    RunState back = RunStateCodec.decode(bytes);
    assertThat(RunStateCodec.encode(back)).isEqualTo(bytes);
    assertThat(back.started()).isEqualTo(s.started());
    assertThat(back.finished()).isEqualTo(s.finished());
    assertThat(back.configHistory()).isEqualTo(s.configHistory());
    assertThat(back.checkpoints()).isEqualTo(s.checkpoints());
    assertThat(back.evaluations()).isEqualTo(s.evaluations());
    assertThat(back.latestMetrics()).isEqualTo(s.latestMetrics());
    assertThat(back.lastEventAt()).isEqualTo(s.lastEventAt());
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> RunStateCodec.decode(new byte[] {9, 1, 2}))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("format 9");
  }
}
