package io.lineageledger.producers;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Publishes a {@link Spool} to Kafka exactly once per spooled event, however often it runs and
 * from however many copies of the spool directory.
 *
 * <p>Each batch of events is written in one Kafka transaction together with a progress record
 * (key: the spool's id, value: the last sequence number in the batch) on the compacted
 * {@value #PROGRESS_TOPIC} topic. A run starts from the last committed progress of that spool
 * id, so an event is in the log once or not at all; the transactional id is derived from the
 * spool id, so two shippers of the same spool running at once fence each other. Consumers that
 * must never see an aborted batch read with {@code isolation.level=read_committed} (the
 * projections do).
 *
 * <p>One thread uses a shipper at a time.
 */
public final class SpoolShipper implements SpoolDrain {
  public static final String PROGRESS_TOPIC = "ledger.spool.progress";
  static final int BATCH = 500;

  private final Map<String, Object> kafka;
  private final SchemaRegistryClient registry;
  private final String eventsTopic;
  private final String progressTopic;
  private final Duration maxBlock;

  /**
   * @param kafka Kafka client settings ({@code bootstrap.servers} and any others to pass through)
   * @param registry the schema registry the event serde uses
   * @param eventsTopic where events go ({@code ledger.events})
   * @param maxBlock how long one attempt may wait for an unreachable broker
   */
  public SpoolShipper(Map<String, Object> kafka, SchemaRegistryClient registry, String eventsTopic, Duration maxBlock) {
    this(kafka, registry, eventsTopic, PROGRESS_TOPIC, maxBlock);
  }

  SpoolShipper(Map<String, Object> kafka, SchemaRegistryClient registry, String eventsTopic, String progressTopic, Duration maxBlock) {
    this.kafka = Map.copyOf(kafka);
    this.registry = registry;
    this.eventsTopic = eventsTopic;
    this.progressTopic = progressTopic;
    this.maxBlock = maxBlock;
  }

  @Override
  public Result ship(Spool spool) {
    ensureProgressTopic();
    long committed = committedProgress(spool.id());
    Map<String, Object> p = new HashMap<>(kafka);
    p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "ledger-spool-" + spool.id());
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) maxBlock.toMillis());
    p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
    p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "ledger-spool-shipper");
    LedgerAvroSerializer<EventEnvelope> serializer = new LedgerAvroSerializer<>(registry);
    long[] published = {0};
    long[] last = {committed};
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
      producer.initTransactions();
      List<Spool.Entry> batch = new ArrayList<>(BATCH);
      spool.read(committed, entry -> {
        batch.add(entry);
        if (batch.size() == BATCH) {
          commit(producer, serializer, spool.id(), batch);
          published[0] += batch.size();
          last[0] = batch.get(batch.size() - 1).seq();
          batch.clear();
        }
      });
      if (!batch.isEmpty()) {
        commit(producer, serializer, spool.id(), batch);
        published[0] += batch.size();
        last[0] = batch.get(batch.size() - 1).seq();
      }
    }
    return new Result(spool.id(), committed, published[0], last[0]);
  }

  private void commit(KafkaProducer<byte[], byte[]> producer, LedgerAvroSerializer<EventEnvelope> serializer, String spoolId, List<Spool.Entry> batch) {
    producer.beginTransaction();
    try {
      for (Spool.Entry e : batch) {
        EventEnvelope event = e.event();
        producer.send(new ProducerRecord<>(eventsTopic, event.getSubject().getBytes(StandardCharsets.UTF_8),
            serializer.serialize(eventsTopic, event)));
      }
      long lastSeq = batch.get(batch.size() - 1).seq();
      producer.send(new ProducerRecord<>(progressTopic, spoolId.getBytes(StandardCharsets.UTF_8),
          Long.toString(lastSeq).getBytes(StandardCharsets.UTF_8)));
      producer.commitTransaction();
    } catch (KafkaException e) {
      try {
        producer.abortTransaction();
      } catch (KafkaException ignored) {
        // The producer is fenced or broken; closing it is all that is left.
      }
      throw e;
    }
  }

  /** The last sequence number of {@code spoolId} committed to Kafka, or -1. */
  public long committedProgress(String spoolId) {
    Map<String, Object> c = new HashMap<>(kafka);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    c.remove(ConsumerConfig.GROUP_ID_CONFIG);
    c.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) maxBlock.toMillis());
    c.put(ConsumerConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock.toMillis(), 30_000));
    long progress = -1;
    try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(onlyClientSettings(c), new StringDeserializer(), new ByteArrayDeserializer())) {
      List<TopicPartition> partitions = new ArrayList<>();
      for (PartitionInfo info : consumer.partitionsFor(progressTopic, maxBlock)) {
        partitions.add(new TopicPartition(info.topic(), info.partition()));
      }
      if (partitions.isEmpty()) {
        return -1;
      }
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions, maxBlock);
      long deadline = System.nanoTime() + maxBlock.toNanos() * 4;
      while (!caughtUp(consumer, end)) {
        if (System.nanoTime() > deadline) {
          throw new org.apache.kafka.common.errors.TimeoutException("timed out reading " + progressTopic);
        }
        for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
          if (spoolId.equals(r.key()) && r.value() != null) {
            progress = Math.max(progress, Long.parseLong(new String(r.value(), StandardCharsets.UTF_8)));
          }
        }
      }
    }
    return progress;
  }

  private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> end) {
    for (var e : end.entrySet()) {
      if (consumer.position(e.getKey()) < e.getValue()) {
        return false;
      }
    }
    return true;
  }

  private void ensureProgressTopic() {
    Map<String, Object> settings = onlyClientSettings(new HashMap<>(kafka));
    settings.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) maxBlock.toMillis());
    settings.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(maxBlock.toMillis(), 30_000));
    Admin admin = Admin.create(settings);
    try {
      if (admin.listTopics().names().get(maxBlock.toMillis(), TimeUnit.MILLISECONDS).contains(progressTopic)) {
        return;
      }
      admin.createTopics(List.of(new NewTopic(progressTopic, java.util.Optional.of(1), java.util.Optional.empty())
              .configs(Map.of(TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT))))
          .all().get(maxBlock.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (!(e.getCause() instanceof TopicExistsException)) {
        throw new KafkaException("could not create " + progressTopic + ": " + e.getCause().getMessage(), e.getCause());
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new KafkaException("interrupted", e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new org.apache.kafka.common.errors.TimeoutException("broker unreachable at " + kafka.get("bootstrap.servers"));
    } finally {
      admin.close(Duration.ZERO); // an unreachable broker must not hold the caller for the admin's own timeouts
    }
  }

  /** Drops producer-only keys so the same settings can build consumers and admins without warnings. */
  private static Map<String, Object> onlyClientSettings(Map<String, Object> settings) {
    Map<String, Object> m = new HashMap<>(settings);
    m.keySet().removeIf(k -> k.startsWith("acks") || k.startsWith("linger") || k.startsWith("batch.") || k.startsWith("enable.idempotence")
        || k.startsWith("transactional") || k.startsWith("max.block") || k.startsWith("delivery.timeout") || k.startsWith("buffer.memory"));
    return m;
  }
}
