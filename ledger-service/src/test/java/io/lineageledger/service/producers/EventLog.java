package io.lineageledger.service.producers;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

/** Reads everything committed to {@code ledger.events}, as raw bytes and as events, the way a projection sees it. */
final class EventLog {
  record Entry(int partition, long offset, byte[] key, byte[] value, EventEnvelope event) {}

  private EventLog() {}

  static List<Entry> readAll(String bootstrap, String registryUrl) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
    LedgerAvroDeserializer<EventEnvelope> deserializer = new LedgerAvroDeserializer<>(new RestSchemaRegistryClient(registryUrl), EventEnvelope.class);
    List<Entry> entries = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(LedgerTopics.EVENTS, Duration.ofSeconds(30)).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + LedgerTopics.EVENTS + " to its end within 60 s");
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          entries.add(new Entry(r.partition(), r.offset(), r.key(), r.value(), deserializer.deserialize(r.topic(), r.value())));
        }
      }
    }
    return entries;
  }
}
