package io.lineageledger.projections;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.run.RunStateCodec;
import io.lineageledger.projections.run.RunStateProjection;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventDedupeTest {
  static final String EVENTS = "ledger.events";
  static final Instant T0 = Instant.parse("2026-11-22T10:00:00Z");

  @TempDir
  Path stateDir;

  final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
  final LedgerAvroSerializer<EventEnvelope> serializer = new LedgerAvroSerializer<>(registry);
  TopologyTestDriver driver;
  TestInputTopic<String, byte[]> events;

  @BeforeEach
  void start() {
    var topology = LedgerTopology.build(EVENTS, new LedgerAvroDeserializer<>(registry, EventEnvelope.class));
    driver = new TopologyTestDriver(topology, LedgerTopology.streamsConfig("dedupe-test", "unused:9092", stateDir, null, EVENTS + ".dlq", Map.of()));
    events = driver.createInputTopic(EVENTS, new StringSerializer(), new ByteArraySerializer());
  }

  @AfterEach
  void stop() {
    driver.close();
  }

  /** A UUIDv7 with timestamp {@code ms} and {@code n} in its random part. */
  static String uuidV7(long ms, long n) {
    String hex = String.format("%012x", ms);
    return hex.substring(0, 8) + "-" + hex.substring(8) + "-7000-8000-" + String.format("%012x", n);
  }

  static EventEnvelope summary(String id, long step) {
    return EventEnvelope.newBuilder().setEventId(id).setOccurredAt(T0.plusMillis(step)).setSubject("run:r1")
        .setProducer(io.lineageledger.events.ProducerInfo.newBuilder().setId("p").setName("test").setVersion("1").setHost("h").setSeq(step).build())
        .setPayload(StepSummary.newBuilder().setStep(step).setStepsCovered(1).setLoss(1.0).setMetrics(Map.of()).setTokensSeen(step).build())
        .build();
  }

  void publish(List<EventEnvelope> list) {
    for (EventEnvelope e : list) {
      events.pipeInput(e.getSubject(), serializer.serialize(EVENTS, e));
    }
  }

  long counted() {
    KeyValueStore<String, byte[]> states = driver.getKeyValueStore(RunStateProjection.STATE_STORE);
    byte[] bytes = states.get("run:r1");
    return bytes == null ? 0 : RunStateCodec.decode(bytes).events();
  }

  @Test
  void aUuidV7sTimestampIsReadFromItsTextAndOtherIdsAreNotTakenForOne() {
    assertThat(EventDedupe.uuidV7Millis("0193a2b4-c5d6-7e8f-9a0b-1c2d3e4f5a6b")).isEqualTo(0x0193a2b4c5d6L);
    assertThat(EventDedupe.uuidV7Millis("0193A2B4-C5D6-7E8F-9A0B-1C2D3E4F5A6B")).isEqualTo(0x0193a2b4c5d6L);
    assertThat(EventDedupe.uuidV7Millis("0193a2b4-c5d6-4e8f-9a0b-1c2d3e4f5a6b")).as("a UUIDv4").isEqualTo(-1);
    assertThat(EventDedupe.uuidV7Millis("0193a2b4-c5g6-7e8f-9a0b-1c2d3e4f5a6b")).as("not hex").isEqualTo(-1);
    assertThat(EventDedupe.uuidV7Millis("e-1")).isEqualTo(-1);
    assertThat(EventDedupe.key(uuidV7(1_000, 1))).as("one 10 ms slot, one key").isEqualTo(EventDedupe.key(uuidV7(1_009, 2)));
    assertThat(EventDedupe.key(uuidV7(1_000, 1))).isNotEqualTo(EventDedupe.key(uuidV7(1_010, 1)));
    assertThat(EventDedupe.key("e-1")).isNotEqualTo(EventDedupe.key("e-2"));
  }

  @Test
  void aBucketDecodesToTheIdsItWasEncodedFrom() {
    EventDedupe.Bucket b = EventDedupe.Bucket.decode(null);
    for (String id : List.of("a", "é-ü", uuidV7(5, 5), "x".repeat(200))) {
      b.add(id);
    }
    EventDedupe.Bucket again = EventDedupe.Bucket.decode(b.encode());
    for (String id : List.of("a", "é-ü", uuidV7(5, 5), "x".repeat(200))) {
      assertThat(again.contains(id)).as(id).isTrue();
    }
    assertThat(again.contains("b")).isFalse();
  }

  @Test
  void idsOfOneSlotShareAnEntryUpToItsLimitAndEveryIdIsCountedOnce() {
    List<EventEnvelope> list = new ArrayList<>();
    int sameSlot = EventDedupe.BUCKET_IDS + 100;
    for (int i = 0; i < sameSlot; i++) {
      list.add(summary(uuidV7(1_700_000_000_000L, i), i));
    }
    list.add(summary(uuidV7(1_700_000_000_010L, 0), sameSlot)); // the next slot
    list.add(summary("retry-safe-id-1", sameSlot + 1));
    list.add(summary("0193a2b4-c5d6-4e8f-9a0b-1c2d3e4f5a6b", sameSlot + 2)); // a UUIDv4
    publish(list);
    assertThat(counted()).isEqualTo(list.size());

    publish(list); // shipped again
    publish(list.subList(10, 20));
    publish(list.subList(list.size() - 150, list.size()));
    assertThat(counted()).isEqualTo(list.size());

    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(EventDedupe.STORE);
    int entries = 0;
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      while (it.hasNext()) {
        it.next();
        entries++;
      }
    }
    // the full slot, its 100 overflowing ids, the next slot, and the two ids that are no UUIDv7
    assertThat(entries).isEqualTo(1 + 100 + 1 + 2);
  }

  @Test
  void theInMemoryDedupeOfARebuildHoldsWhatTheStoreHoldsAfterTheSameIds() {
    List<EventEnvelope> list = new ArrayList<>();
    for (int i = 0; i < EventDedupe.BUCKET_IDS + 300; i++) {
      list.add(summary(uuidV7(1_700_000_000_000L, i), i)); // one slot, overflowing
    }
    for (int i = 0; i < 500; i++) {
      list.add(summary(uuidV7(1_700_000_000_000L + 10 * (i / 50), 100_000 + i), 10_000 + i)); // ten slots
      list.add(summary("legacy-" + i, 20_000 + i)); // not UUIDv7: an entry each
    }
    for (int i = 0; i < list.size(); i += 13) {
      list.add(list.get(i)); // shipped twice
    }
    list.add(summary(uuidV7(1_700_000_000_000L, EventDedupe.BUCKET_IDS + 50), 1)); // back in the overflowed slot
    publish(list);

    EventDedupe.InMemory memory = new EventDedupe.InMemory();
    Map<Bytes, java.util.Set<String>> logged = new java.util.HashMap<>();
    long firstSeen = 0;
    for (int i = 0; i < list.size(); i++) {
      if (memory.firstSeen(list.get(i).getEventId())) {
        firstSeen++;
      }
      if (i % 700 == 0) {
        memory.drainChanged((k, v) -> logged.put(Bytes.wrap(k), EventDedupe.Bucket.decode(v).ids()), true);
      }
    }
    memory.drainChanged((k, v) -> logged.put(Bytes.wrap(k), EventDedupe.Bucket.decode(v).ids()), false);

    Map<Bytes, java.util.Set<String>> stored = new java.util.HashMap<>();
    KeyValueStore<Bytes, byte[]> store = driver.getKeyValueStore(EventDedupe.STORE);
    try (KeyValueIterator<Bytes, byte[]> it = store.all()) {
      it.forEachRemaining(kv -> stored.put(kv.key, EventDedupe.Bucket.decode(kv.value).ids()));
    }
    assertThat(logged).isEqualTo(stored);
    assertThat(firstSeen).isEqualTo(counted()).isEqualTo(EventDedupe.BUCKET_IDS + 300 + 500 + 500L);
  }
}
