package io.lineageledger.service.query;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.EventDedupe;
import java.nio.charset.StandardCharsets;
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
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Reads one subject's events back from {@code ledger.events}, in log order, for replay. A
 * subject lives in one partition (the producer's default partitioner hashes the key), so this
 * reads that partition from its start to its current end and keeps the subject's records.
 * Records the projections could not use (unreadable, invalid) are skipped the same way, so a
 * replay folds exactly what the live store folded.
 *
 * <p>Each call uses its own consumer; thread-safe.
 */
public final class RunHistory {
  private final String bootstrapServers;
  private final Deserializer<EventEnvelope> envelopes;
  private final String topic;

  public RunHistory(String bootstrapServers, Deserializer<EventEnvelope> envelopes) {
    this(bootstrapServers, envelopes, LedgerTopics.EVENTS);
  }

  /** The history in another events topic (benchmarks use topics of their own). */
  public RunHistory(String bootstrapServers, Deserializer<EventEnvelope> envelopes, String topic) {
    this.bootstrapServers = bootstrapServers;
    this.envelopes = envelopes;
    this.topic = topic;
  }

  public List<EventEnvelope> events(String subject) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
    byte[] key = subject.getBytes(StandardCharsets.UTF_8);
    List<EventEnvelope> out = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      int partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).size();
      TopicPartition tp = new TopicPartition(topic, Utils.toPositive(Utils.murmur2(key)) % partitions);
      consumer.assign(List.of(tp));
      consumer.seekToBeginning(List.of(tp));
      long end = consumer.endOffsets(List.of(tp), Duration.ofSeconds(10)).get(tp);
      long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
      while (consumer.position(tp, Duration.ofSeconds(10)) < end) {
        if (System.nanoTime() > deadline) {
          throw new StoreUnavailableException("reading the history of " + subject + " took longer than 2 minutes", null);
        }
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (r.offset() >= end) {
            break;
          }
          if (r.key() == null || !java.util.Arrays.equals(r.key(), key) || r.value() == null) {
            continue;
          }
          EventEnvelope event;
          try {
            event = envelopes.deserialize(topic, r.headers(), r.value());
          } catch (RuntimeException e) {
            continue; // in the dead-letter topic; the live projection skipped it too
          }
          if (EventDedupe.invalidReason(subject, event) == null) {
            out.add(event);
          }
        }
      }
    }
    return out;
  }

}
