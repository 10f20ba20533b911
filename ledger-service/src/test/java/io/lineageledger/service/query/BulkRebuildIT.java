package io.lineageledger.service.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.projections.BulkRebuild;
import io.lineageledger.projections.run.RunStateProjection;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.service.LedgerNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A bulk rebuild, whole or stopped early by its memory bound and finished by the application,
 * leaves stores equal byte for byte to those of an application that processed every record
 * itself, with duplicates dropped and a poison record skipped the same way.
 */
@Timeout(300)
class BulkRebuildIT {
  static final int RUNS = 6;

  @TempDir
  Path dir;

  @Test
  void aBulkRebuildWholeOrHandedOverMidwayEqualsProcessingEveryRecord() throws Exception {
    try (LedgerNode node = LedgerNode.start(new LedgerNode.Settings(dir.resolve("node"), "localhost", FreePorts.next(), FreePorts.next(), 0,
        FreePorts.next(), null, null));
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers()))) {
      try (LedgerClient client = LedgerClient.builder().bootstrapServers(node.bootstrapServers()).schemaRegistryUrl(node.schemaRegistryUrl())
          .producerIdentity("bulk-rebuild-it", "it", "1").build()) {
        List<EventEnvelope> sent = new ArrayList<>();
        for (int r = 0; r < RUNS; r++) {
          for (Object[] e : RunsApiIT.scenario("bulk-" + r, 1500 + 100 * r)) {
            EventEnvelope envelope = client.envelope((String) e[0], e[1], null, null);
            client.publish(envelope);
            sent.add(envelope);
          }
        }
        for (int i = 0; i < sent.size(); i += 7) {
          client.publish(sent.get(i)); // shipped twice: counted once
        }
        client.flush();
      }
      try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(Map.of("bootstrap.servers", node.bootstrapServers()),
          new StringSerializer(), new ByteArraySerializer())) {
        raw.send(new ProducerRecord<>(LedgerTopics.EVENTS, "run:bulk-0", "not avro".getBytes(StandardCharsets.UTF_8))).get();
      }
      Map<TopicPartition, Long> end = endOffsets(admin);
      long total = end.values().stream().mapToLong(Long::longValue).sum();
      LedgerAvroDeserializer<EventEnvelope> envelopes =
          new LedgerAvroDeserializer<>(new RestSchemaRegistryClient(node.schemaRegistryUrl()), EventEnvelope.class);

      try (LedgerStreams live = serving("bulk-it-live", node, envelopes, admin, end)) {
        Map<String, String> liveStates = entries(live.store(RunStateProjection.STATE_STORE));
        Map<String, String> liveMetrics = entries(live.store(RunStateProjection.METRICS_STORE));
        assertThat(liveStates).hasSize(RUNS);
        assertThat(liveMetrics).isNotEmpty();

        BulkRebuild bulk = new BulkRebuild(node.bootstrapServers(), LedgerTopics.EVENTS, LedgerTopics.LINEAGE_EDGES, envelopes);
        BulkRebuild.Result whole = bulk.load("bulk-it-whole", end, done -> { });
        assertThat(whole.offsets()).isEqualTo(total);
        assertThat(whole.skipped()).as("the poison record").isEqualTo(1);
        try (LedgerStreams rebuilt = serving("bulk-it-whole", node, envelopes, admin, end)) {
          assertThat(entries(rebuilt.store(RunStateProjection.STATE_STORE))).isEqualTo(liveStates);
          assertThat(entries(rebuilt.store(RunStateProjection.METRICS_STORE))).isEqualTo(liveMetrics);
        }

        // A bound far below what the folds need: each thread stops after its first batch, the application folds the rest.
        BulkRebuild.Result part = new BulkRebuild(node.bootstrapServers(), LedgerTopics.EVENTS, LedgerTopics.LINEAGE_EDGES, envelopes)
            .memoryBytes(16 * 1024).load("bulk-it-part", end, done -> { });
        assertThat(part.offsets()).isPositive().isLessThan(total);
        try (LedgerStreams rebuilt = serving("bulk-it-part", node, envelopes, admin, end)) {
          assertThat(entries(rebuilt.store(RunStateProjection.STATE_STORE))).isEqualTo(liveStates);
          assertThat(entries(rebuilt.store(RunStateProjection.METRICS_STORE))).isEqualTo(liveMetrics);
        }
      }
    }
  }

  /** The application {@code id}, started and waited for until it has committed {@code end} and serves every partition. */
  private LedgerStreams serving(String id, LedgerNode node, LedgerAvroDeserializer<EventEnvelope> envelopes, Admin admin,
                                Map<TopicPartition, Long> end) {
    LedgerStreams streams = new LedgerStreams(id, node.bootstrapServers(), dir.resolve(id), null, envelopes, Map.of()).start();
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(100)).until(
        () -> committed(admin, id, end) && streams.activeOnAll(end.size()));
    return streams;
  }

  private static boolean committed(Admin admin, String group, Map<TopicPartition, Long> end) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
    return end.entrySet().stream().allMatch(e -> e.getValue() == 0
        || (offsets.get(e.getKey()) != null && offsets.get(e.getKey()).offset() >= e.getValue()));
  }

  private static Map<TopicPartition, Long> endOffsets(Admin admin) throws Exception {
    int partitions = admin.describeTopics(List.of(LedgerTopics.EVENTS)).allTopicNames().get(30, TimeUnit.SECONDS)
        .get(LedgerTopics.EVENTS).partitions().size();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(LedgerTopics.EVENTS, p), OffsetSpec.latest());
    }
    Map<TopicPartition, Long> end = new HashMap<>();
    admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
    return end;
  }

  /** Every entry of a store, keys and values in Base64 (keys are strings or bytes). */
  private static <K> Map<String, String> entries(ReadOnlyKeyValueStore<K, byte[]> store) {
    Map<String, String> out = new TreeMap<>();
    try (KeyValueIterator<K, byte[]> it = store.all()) {
      it.forEachRemaining(kv -> {
        byte[] key = kv.key instanceof Bytes b ? b.get() : kv.key.toString().getBytes(StandardCharsets.UTF_8);
        out.put(Base64.getEncoder().encodeToString(key), Base64.getEncoder().encodeToString(kv.value));
      });
    }
    return out;
  }
}
