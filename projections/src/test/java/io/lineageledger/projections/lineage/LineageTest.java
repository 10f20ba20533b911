package io.lineageledger.projections.lineage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.lineage.LineageGraph.Direction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lineage facts of each payload and walks over the graph they make. */
public class LineageTest {
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");
  int seq;

  EventEnvelope event(String subject, Object payload) {
    int n = seq++;
    return EventEnvelope.newBuilder().setEventId("e-" + n).setOccurredAt(T0.plusSeconds(n)).setSubject(subject)
        .setProducer(ProducerInfo.newBuilder().setId("p").setName("test").setVersion("1").setHost("h").setSeq(n).build())
        .setPayload(payload).build();
  }

  static DatasetVersionRef ds(String name, String version) {
    return DatasetVersionRef.newBuilder().setName(name).setVersion(version).setDigest("sha256:" + name + version).build();
  }

  EventEnvelope transform(String id, String name, DatasetVersionRef in, DatasetVersionRef... out) {
    return event("dataset:" + out[0].getName(), DataTransformApplied.newBuilder().setTransformId(id).setTransformName(name)
        .setParams(Map.of()).setInputs(List.of(in)).setOutputs(List.of(out)).setStats(Map.of())
        .setStartedAt(T0).setEndedAt(T0).build());
  }

  /** The reference trainer's story: pipeline, run, checkpoints, model, evaluation, and a reproduction. */
  public List<EventEnvelope> scenario() {
    List<EventEnvelope> events = new ArrayList<>();
    events.add(transform("t-normalize", "normalize", ds("corpus.raw", "v1"), ds("corpus.normalized", "v1")));
    events.add(transform("t-dedupe", "dedupe", ds("corpus.normalized", "v1"), ds("corpus.deduped", "v1")));
    events.add(transform("t-split", "split", ds("corpus.deduped", "v1"), ds("corpus.train", "v1"), ds("corpus.val", "v1")));
    events.add(event("run:r1", RunStarted.newBuilder().setRunId("r1").setExperiment("charlm")
        .setCode(CodeVersion.newBuilder().setRepo("git@example.com:lab/charlm").setCommit("abc123").setDirty(false).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("node-1")
            .setHardware(Hardware.newBuilder().setCpu("x86").setCpuCount(2).build()).build()).build()));
    events.add(event("run:r1", ConfigSnapshot.newBuilder().setParams(Map.of("lr", "0.003")).setDigest("sha256:cfg1").build()));
    events.add(event("run:r1", DatasetBound.newBuilder().setRole("train").setDataset(ds("corpus.train", "v1")).build()));
    events.add(event("run:r1", DatasetBound.newBuilder().setRole("validation").setDataset(ds("corpus.val", "v1")).build()));
    events.add(event("run:r1", StepSummary.newBuilder().setStep(100).setLoss(2.0).setMetrics(Map.of()).build()));
    for (long s : new long[] {100, 200}) {
      events.add(event("run:r1", CheckpointSaved.newBuilder().setStep(s).setUri("file:///c/" + s).setDigest("sha256:ck" + s)
          .setSizeBytes(10).setContents(CheckpointContents.newBuilder().setModel(true).setOptimizer(true).setScheduler(true)
              .setRng(true).setDataCursor(true).build()).build()));
    }
    events.add(event("model:charlm", ModelVersionRegistered.newBuilder().setModelName("charlm").setVersion("1")
        .setCheckpointDigest("sha256:ck200").setRunId("r1").build()));
    events.add(event("run:r1", EvaluationCompleted.newBuilder().setEvalId("ev1").setCheckpointDigest("sha256:ck200")
        .setDataset(ds("corpus.val", "v1")).setSuiteName("val").setMetrics(Map.of("val_loss", 2.1)).build()));
    events.add(event("run:r2", RunStarted.newBuilder().setRunId("r2").setExperiment("charlm").setReproductionOf("r1")
        .setCode(CodeVersion.newBuilder().setCommit("abc123").setDirty(false).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("node-2")
            .setHardware(Hardware.newBuilder().setCpu("x86").setCpuCount(2).build()).build()).build()));
    return events;
  }

  public static InMemoryEdges graph(List<EventEnvelope> events) {
    InMemoryEdges edges = new InMemoryEdges();
    events.forEach(e -> edges.addAll(LineageFacts.of(e)));
    return edges;
  }

  static List<String> relations(EventEnvelope e) {
    return LineageFacts.of(e).stream().map(LineageEdge::relation).toList();
  }

  @Test
  void eachPayloadStatesItsEdges() {
    List<EventEnvelope> s = scenario();
    assertThat(relations(s.get(2))).containsExactly(
        "transform:t-split USED dataset:corpus.deduped@v1",
        "dataset:corpus.train@v1 WAS_GENERATED_BY transform:t-split",
        "dataset:corpus.train@v1 WAS_DERIVED_FROM dataset:corpus.deduped@v1",
        "dataset:corpus.val@v1 WAS_GENERATED_BY transform:t-split",
        "dataset:corpus.val@v1 WAS_DERIVED_FROM dataset:corpus.deduped@v1");
    assertThat(relations(s.get(3))).hasSize(2).first().isEqualTo("run:r1 USED code:git@example.com:lab/charlm@abc123");
    assertThat(relations(s.get(3)).get(1)).startsWith("run:r1 USED env:sha256:");
    assertThat(relations(s.get(4))).containsExactly("run:r1 USED config:sha256:cfg1");
    assertThat(relations(s.get(5))).containsExactly("run:r1 USED dataset:corpus.train@v1");
    assertThat(relations(s.get(7))).as("a step summary states no lineage").isEmpty();
    assertThat(relations(s.get(8))).containsExactly("checkpoint:sha256:ck100 WAS_GENERATED_BY run:r1");
    assertThat(relations(s.get(10))).containsExactly("model:charlm/1 WAS_DERIVED_FROM checkpoint:sha256:ck200",
        "model:charlm/1 WAS_GENERATED_BY run:r1");
    assertThat(relations(s.get(11))).containsExactly("eval:ev1 WAS_GENERATED_BY run:r1",
        "eval:ev1 USED checkpoint:sha256:ck200", "eval:ev1 USED dataset:corpus.val@v1");
    assertThat(relations(s.get(12))).contains("run:r2 USED code:abc123", "run:r2 WAS_INFORMED_BY run:r1");
    assertThat(LineageFacts.of(s.get(12)).get(1).to()).as("the same environment on another host is the same node")
        .isEqualTo(LineageFacts.of(s.get(3)).get(1).to());
    assertThat(LineageFacts.of(s.get(4)).get(0).eventId()).isEqualTo("e-4");
  }

  @Test
  void upstreamOfTheModelReachesItsRunCheckpointConfigCodeAndTheRawCorpus() {
    LineageGraph.Result up = LineageGraph.traverse(graph(scenario()), "model:charlm/1", Direction.UPSTREAM, 20, 10_000);
    List<String> ids = up.nodes().stream().map(LineageGraph.Node::id).toList();
    assertThat(ids).contains("run:r1", "checkpoint:sha256:ck200", "config:sha256:cfg1",
        "code:git@example.com:lab/charlm@abc123", "dataset:corpus.train@v1", "transform:t-split", "dataset:corpus.raw@v1");
    assertThat(ids).doesNotContain("run:r2", "eval:ev1", "checkpoint:sha256:ck100");
    assertThat(up.nodes().get(0)).isEqualTo(new LineageGraph.Node("model:charlm/1", "model", 0));
    assertThat(up.truncated()).isFalse();
    assertThat(up.edges()).extracting(LineageEdge::relation).isSorted().doesNotHaveDuplicates();
  }

  @Test
  void downstreamOfTheRawCorpusReachesTheModelAndTheEvaluation() {
    LineageGraph.Result down = LineageGraph.traverse(graph(scenario()), "dataset:corpus.raw@v1", Direction.DOWNSTREAM, 20, 10_000);
    assertThat(down.nodes().stream().map(LineageGraph.Node::id))
        .contains("dataset:corpus.train@v1", "run:r1", "checkpoint:sha256:ck200", "model:charlm/1", "eval:ev1", "run:r2");
  }

  @Test
  void depthAndNodeLimitsCutTheWalkAndSaySo() {
    InMemoryEdges g = graph(scenario());
    LineageGraph.Result one = LineageGraph.traverse(g, "model:charlm/1", Direction.UPSTREAM, 1, 10_000);
    assertThat(one.nodes()).extracting(LineageGraph.Node::id).containsExactly("model:charlm/1", "checkpoint:sha256:ck200", "run:r1");
    assertThat(one.truncated()).isTrue();
    LineageGraph.Result few = LineageGraph.traverse(g, "model:charlm/1", Direction.UPSTREAM, 20, 4);
    assertThat(few.nodes()).hasSize(4);
    assertThat(few.truncated()).isTrue();
  }

  @Test
  void aCycleEnds() {
    Instant t = T0;
    InMemoryEdges g = new InMemoryEdges()
        .add(new LineageEdge("dataset:a@1", LineageEdge.Kind.WAS_DERIVED_FROM, "dataset:b@1", "e1", t))
        .add(new LineageEdge("dataset:b@1", LineageEdge.Kind.WAS_DERIVED_FROM, "dataset:a@1", "e2", t))
        .add(new LineageEdge("dataset:a@1", LineageEdge.Kind.WAS_DERIVED_FROM, "dataset:b@1", "e0", t)); // stated again
    LineageGraph.Result r = LineageGraph.traverse(g, "dataset:a@1", Direction.BOTH, 50, 100);
    assertThat(r.nodes()).extracting(LineageGraph.Node::id).containsExactly("dataset:a@1", "dataset:b@1");
    assertThat(r.edges()).hasSize(2);
    assertThat(r.edges().get(0).eventId()).as("the first statement of a relation is kept").isEqualTo("e0");
  }

  @Test
  void nodeIdsAreCheckedWithAClearMessage() {
    assertThat(NodeId.parse(" model:charlm/3 ")).isEqualTo("model:charlm/3");
    assertThat(NodeId.parse("dataset:corpus.raw@v1")).isEqualTo("dataset:corpus.raw@v1");
    assertThatThrownBy(() -> NodeId.parse("charlm")).hasMessageContaining("'charlm' is not a node id").hasMessageContaining("model:NAME/VERSION");
    assertThatThrownBy(() -> NodeId.parse("model:charlm")).hasMessageContaining("model:NAME/VERSION");
    assertThatThrownBy(() -> NodeId.parse("dataset:corpus")).hasMessageContaining("dataset:NAME@VERSION");
    assertThatThrownBy(() -> NodeId.parse("widget:x")).hasMessageContaining("not a node id");
  }

  @Test
  void edgesRoundTripThroughTheirStoreEncoding() {
    for (EventEnvelope e : scenario()) {
      for (LineageEdge edge : LineageFacts.of(e)) {
        assertThat(LineageProjection.decode(LineageProjection.encode(edge))).isEqualTo(edge);
      }
    }
  }
}
