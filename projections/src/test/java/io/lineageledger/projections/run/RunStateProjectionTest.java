package io.lineageledger.projections.run;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.LedgerTopology;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunStateProjectionTest {
  static final String EVENTS = "ledger.events";
  static final String DLQ = "ledger.events.dlq";

  @TempDir
  Path stateDir;

  final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
  final LedgerAvroSerializer<EventEnvelope> serializer = new LedgerAvroSerializer<>(registry);
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> events;
  TestOutputTopic<byte[], byte[]> deadLetters;

  @BeforeEach
  void start() {
    var topology = LedgerTopology.build(EVENTS, new LedgerAvroDeserializer<>(registry, EventEnvelope.class));
    driver = new TopologyTestDriver(topology, LedgerTopology.streamsConfig("run-state-test", "unused:9092", stateDir, null, DLQ, Map.of()));
    events = driver.createInputTopic(EVENTS, new StringSerializer(), new ByteArraySerializer());
    deadLetters = driver.createOutputTopic(DLQ, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  void publish(List<EventEnvelope> list) {
    for (EventEnvelope e : list) {
      events.pipeInput(e.getSubject(), serializer.serialize(EVENTS, e));
    }
  }

  byte[] stored(String subject) {
    KeyValueStore<String, byte[]> store = driver.getKeyValueStore(RunStateProjection.STATE_STORE);
    return store.get(subject);
  }

  @Test
  void theStoreHoldsTheFoldOfTheRunsEventsByteForByte() {
    List<EventEnvelope> scenario = new RunStateTest().scenario();
    publish(scenario);
    assertThat(stored("run:r1")).isEqualTo(RunStateCodec.encode(RunState.replay("r1", scenario)));
    RunState s = RunStateCodec.decode(stored("run:r1"));
    assertThat(s.status()).isEqualTo(RunState.Status.COMPLETED);
    assertThat(s.latestStep()).isEqualTo(200);
    assertThat(stored("model:charlm")).as("only runs have a run state").isNull();
  }

  @Test
  void eachCommitLogsEachChangedRunOnce() {
    List<EventEnvelope> scenario = new RunStateTest().scenario();
    TestOutputTopic<String, byte[]> changelog = driver.createOutputTopic("run-state-test-" + RunStateProjection.STATE_STORE + "-changelog",
        new StringDeserializer(), new ByteArrayDeserializer());
    publish(scenario);
    // The states reach the changelog (and RocksDB below it) when the driver commits.
    List<KeyValue<String, byte[]>> logged = changelog.readKeyValuesToList();
    assertThat(logged).isNotEmpty().allSatisfy(kv -> assertThat(kv.key).isEqualTo("run:r1"));
    assertThat(logged.get(logged.size() - 1).value).isEqualTo(RunStateCodec.encode(RunState.replay("r1", scenario)));
    publish(scenario.subList(0, 1)); // a duplicate: nothing changes, nothing is logged
    assertThat(changelog.isEmpty()).isTrue();
  }

  @Test
  void anEventIdSeenBeforeIsNotCountedAgain() {
    List<EventEnvelope> scenario = new RunStateTest().scenario();
    publish(scenario);
    byte[] once = stored("run:r1");
    publish(scenario); // a spool shipped a second time
    publish(scenario.subList(3, 9)); // producer retries
    assertThat(stored("run:r1")).isEqualTo(once);
    assertThat(RunStateCodec.decode(stored("run:r1")).events()).isEqualTo(scenario.size() - 1);
  }

  @Test
  void everySummaryLandsInTheMetricHistoryInStepOrder() {
    publish(new RunStateTest().scenario());
    KeyValueStore<Bytes, byte[]> metrics = driver.getKeyValueStore(RunStateProjection.METRICS_STORE);
    List<Long> steps = new ArrayList<>();
    List<Double> loss = new ArrayList<>();
    List<Long> lrSteps = new ArrayList<>();
    List<Double> lr = new ArrayList<>();
    try (KeyValueIterator<Bytes, byte[]> it = metrics.range(MetricChunk.first("run:r1"), MetricChunk.last("run:r1"))) {
      it.forEachRemaining(kv -> {
        MetricChunk.read(kv.value, "loss", steps, loss);
        MetricChunk.read(kv.value, "lr", lrSteps, lr);
      });
    }
    assertThat(steps).hasSize(20).isSorted().startsWith(10L).endsWith(200L);
    assertThat(loss.get(0)).isEqualTo(2.9);
    assertThat(loss.get(19)).isEqualTo(1.0);
    assertThat(lr).hasSize(20).containsOnly(0.003);
    try (KeyValueIterator<Bytes, byte[]> it = metrics.range(MetricChunk.first("run:r2"), MetricChunk.last("run:r2"))) {
      assertThat(it.hasNext()).as("another run's range is empty").isFalse();
    }
  }

  @Test
  void aRecordThatCannotBeProjectedGoesToTheDeadLetterTopicWithItsReasonAndTheRestIsProjected() {
    List<EventEnvelope> scenario = new RunStateTest().scenario();
    publish(scenario.subList(0, 5));
    events.pipeInput("run:r1", "not avro at all".getBytes(StandardCharsets.UTF_8));
    EventEnvelope misrouted = scenario.get(5);
    events.pipeInput("run:other", serializer.serialize(EVENTS, misrouted));
    publish(scenario.subList(5, scenario.size()));

    assertThat(stored("run:r1")).isEqualTo(RunStateCodec.encode(RunState.replay("r1", scenario)));
    assertThat(stored("run:other")).isNull();
    // (The driver does not route deserialization failures to the dead-letter topic; RunStateProjectionIT checks that against the broker.)
    List<TestRecord<byte[], byte[]>> dead = deadLetters.readRecordsToList();
    assertThat(dead).hasSize(1);
    assertThat(reason(dead.get(0))).isEqualTo("event e-5: the record key 'run:other' is not the event's subject 'run:r1'");
    assertThat(dead.get(0).value()).as("the record as it was").isEqualTo(serializer.serialize(EVENTS, misrouted));
  }

  static String reason(TestRecord<byte[], byte[]> r) {
    StringBuilder all = new StringBuilder();
    for (Header h : r.headers()) {
      if (h.key().equals("__streams.errors.message") && h.value() != null) {
        all.append(new String(h.value(), StandardCharsets.UTF_8));
      }
    }
    return all.toString();
  }

  @Test
  void theInMemoryFoldOfARebuildWritesWhatTheStoresHoldAfterTheSameEvents() {
    RunStateTest t = new RunStateTest();
    List<EventEnvelope> list = new ArrayList<>(t.scenario());
    for (long step = 0; step < 100; step++) {
      list.add(t.run(StepSummary.newBuilder().setStep(step).setLoss(3.0 - step / 50.0).setMetrics(Map.of("lr", 1e-3, "loss", 9.0)).build()));
      list.add(t.event("run:r2", StepSummary.newBuilder().setStep(step * 3).setLoss(2.0).setMetrics(Map.of()).build()));
    }
    // Steps that go back into chunks already closed, one replacing a step it held.
    list.add(t.run(StepSummary.newBuilder().setStep(40).setLoss(0.5).setMetrics(Map.of("lr", 2e-3)).build()));
    list.add(t.run(StepSummary.newBuilder().setStep(5).setLoss(0.25).setMetrics(Map.of()).build()));
    list.add(t.run(StepSummary.newBuilder().setStep(100).setLoss(0.125).setMetrics(Map.of()).build()));
    publish(list);

    RunStateProjection.InMemory memory = new RunStateProjection.InMemory();
    Map<String, byte[]> metricLog = new java.util.TreeMap<>();
    for (EventEnvelope e : list) {
      memory.apply(e.getSubject(), e, (k, v) -> metricLog.put(java.util.HexFormat.of().formatHex(k), v));
    }
    memory.forEachOpenChunk((k, v) -> metricLog.put(java.util.HexFormat.of().formatHex(k), v));
    Map<String, byte[]> stateLog = new java.util.TreeMap<>();
    memory.forEachState((k, v) -> stateLog.put(new String(k, StandardCharsets.UTF_8), v));

    KeyValueStore<String, byte[]> states = driver.getKeyValueStore(RunStateProjection.STATE_STORE);
    KeyValueStore<Bytes, byte[]> metrics = driver.getKeyValueStore(RunStateProjection.METRICS_STORE);
    assertThat(stateLog.keySet()).containsExactly("run:r1", "run:r2");
    stateLog.forEach((k, v) -> assertThat(v).as(k).isEqualTo(states.get(k)));
    Map<String, byte[]> stored = new java.util.TreeMap<>();
    try (KeyValueIterator<Bytes, byte[]> it = metrics.all()) {
      it.forEachRemaining(kv -> stored.put(java.util.HexFormat.of().formatHex(kv.key.get()), kv.value));
    }
    assertThat(metricLog.keySet()).isEqualTo(stored.keySet());
    metricLog.forEach((k, v) -> assertThat(v).as(k).isEqualTo(stored.get(k)));
  }
}
