package io.lineageledger.projections;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.lineage.LineageEdge;
import io.lineageledger.projections.lineage.LineageFacts;
import io.lineageledger.projections.lineage.LineageProjection;
import io.lineageledger.projections.run.RunStateProjection;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Deserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The first phase of a rebuild: folds the events topic from offset 0 with the projections'
 * own folds ({@link EventDedupe.InMemory}, {@link RunStateProjection.InMemory},
 * {@link LineageFacts}) in memory, with plain consumers, one thread per core, and writes what the
 * stores of a new application would then hold as that application's changelogs, its lineage edges
 * to the edges topic, and its group's offsets where the fold stopped. Started afterwards, the
 * {@link LedgerTopology} application restores its stores from those changelogs and goes on from
 * those offsets as if it had processed every event itself, without paying Kafka Streams'
 * per-record cost (task bookkeeping, sensors, a transaction per commit) over the whole history.
 *
 * <p>Memory is bounded: when the folds of a thread hold more than its share of
 * {@link #memoryBytes}, that thread stops its partitions where they are, and the application
 * processes the rest of the log the usual way. Records the live projections could not project
 * (undecodable, invalid, failing a fold) are skipped and counted, not written to the dead-letter
 * topic again: the live application already sent them there.
 *
 * <p>Only for an application id that has never run: its changelogs must not exist yet.
 */
public final class BulkRebuild {
  private static final Logger LOG = LoggerFactory.getLogger(BulkRebuild.class);
  private static final Duration POLL = Duration.ofMillis(200);

  /** Where the fold stopped in each partition (the offsets committed for the application), events folded, records skipped. */
  public record Result(Map<TopicPartition, Long> loadedTo, long events, long skipped) {
    /** Offsets loaded over all partitions. */
    public long offsets() {
      return loadedTo.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  private final String bootstrapServers;
  private final String eventsTopic;
  private final String edgesTopic;
  private final Deserializer<EventEnvelope> envelopes;
  private long memoryBytes = Runtime.getRuntime().maxMemory() / 4;
  private final int threads = LedgerTopology.defaultStreamThreads();

  public BulkRebuild(String bootstrapServers, String eventsTopic, String edgesTopic, Deserializer<EventEnvelope> envelopes) {
    this.bootstrapServers = bootstrapServers;
    this.eventsTopic = eventsTopic;
    this.edgesTopic = edgesTopic;
    this.envelopes = envelopes;
  }

  /** The heap the folds may hold in all (default: a quarter of the maximum heap). */
  public BulkRebuild memoryBytes(long bytes) {
    if (bytes <= 0) {
      throw new IllegalArgumentException("the bulk rebuild's memory must be positive, got " + bytes);
    }
    this.memoryBytes = bytes;
    return this;
  }

  /** The changelog topic Kafka Streams keeps for {@code store} of {@code applicationId}. */
  public static String changelogTopic(String applicationId, String store) {
    return applicationId + "-" + store + "-changelog";
  }

  /**
   * Folds every partition of the events topic up to its offset in {@code target} (the end of the
   * log when the rebuild began) for the application {@code applicationId}; {@code progress}
   * hears how many offsets are folded so far, over all partitions.
   */
  public Result load(String applicationId, Map<TopicPartition, Long> target, LongConsumer progress)
      throws InterruptedException, ExecutionException {
    Map<String, Object> common = Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    try (Admin admin = Admin.create(common);
         KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(producerConfig(), new ByteArraySerializer(), new ByteArraySerializer())) {
      List<NewTopic> changelogs = new ArrayList<>();
      for (String store : List.of(EventDedupe.STORE, RunStateProjection.STATE_STORE, RunStateProjection.METRICS_STORE)) {
        changelogs.add(new NewTopic(changelogTopic(applicationId, store), Optional.of(target.size()), Optional.empty())
            .configs(Map.of("cleanup.policy", "compact")));
      }
      try {
        admin.createTopics(changelogs).all().get(60, TimeUnit.SECONDS);
      } catch (java.util.concurrent.TimeoutException e) {
        throw new ExecutionException("the changelog topics of " + applicationId + " were not created within 60 s", e);
      }

      try {
        LedgerTopics.awaitServing(admin, changelogs.stream().map(NewTopic::name).toList(), Duration.ofSeconds(60));
      } catch (IllegalStateException e) {
        throw new ExecutionException(e.getMessage(), e);
      }
      AtomicReference<Exception> failed = new AtomicReference<>();
      Callback check = (metadata, e) -> {
        if (e != null) {
          failed.compareAndSet(null, e);
        }
      };
      AtomicLong done = new AtomicLong(); // offsets folded over all partitions
      List<List<TopicPartition>> shares = new ArrayList<>();
      int n = Math.max(1, Math.min(threads, target.size()));
      for (int i = 0; i < n; i++) {
        shares.add(new ArrayList<>());
      }
      List<TopicPartition> partitions = new ArrayList<>(target.keySet());
      partitions.sort(java.util.Comparator.comparingInt(TopicPartition::partition));
      for (int i = 0; i < partitions.size(); i++) {
        shares.get(i % n).add(partitions.get(i));
      }
      ExecutorService pool = Executors.newFixedThreadPool(n, r -> {
        Thread t = new Thread(r, "ledger-bulk-rebuild");
        t.setDaemon(true);
        return t;
      });
      Map<TopicPartition, Long> loadedTo = new HashMap<>();
      long events = 0;
      long skipped = 0;
      try {
        List<Future<Share>> futures = new ArrayList<>();
        for (List<TopicPartition> share : shares) {
          Share s = new Share(applicationId, share, target, memoryBytes / n, producer, check, done, progress);
          futures.add(pool.submit(() -> {
            s.run();
            return s;
          }));
        }
        for (Future<Share> f : futures) {
          Share s = f.get();
          loadedTo.putAll(s.loadedTo);
          events += s.events;
          skipped += s.skipped;
        }
      } finally {
        pool.shutdownNow();
      }
      producer.flush();
      if (failed.get() != null) {
        throw new ExecutionException("writing the rebuilt stores of " + applicationId + " failed", failed.get());
      }
      Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
      loadedTo.forEach((tp, offset) -> {
        if (offset > 0) {
          offsets.put(tp, new OffsetAndMetadata(offset));
        }
      });
      if (!offsets.isEmpty()) {
        try {
          admin.alterConsumerGroupOffsets(applicationId, offsets).all().get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.TimeoutException e) {
          throw new ExecutionException("the offsets of " + applicationId + " were not committed within 60 s", e);
        }
      }
      Result result = new Result(Map.copyOf(loadedTo), events, skipped);
      LOG.info("bulk-loaded {} of {} offsets of {} for {}: {} events folded, {} records skipped", result.offsets(),
          target.values().stream().mapToLong(Long::longValue).sum(), eventsTopic, applicationId, events, skipped);
      return result;
    }
  }

  private Map<String, Object> producerConfig() {
    Map<String, Object> p = new HashMap<>();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    p.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024);
    p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 << 20);
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, 128L << 20);
    p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
    return p;
  }

  /** One partition's folds and where they stand. */
  private static final class Part {
    final EventDedupe.InMemory seen = new EventDedupe.InMemory();
    final RunStateProjection.InMemory runs = new RunStateProjection.InMemory();
    final BiConsumer<byte[], byte[]> seenLog;
    final BiConsumer<byte[], byte[]> statesLog;
    final BiConsumer<byte[], byte[]> metricsLog;
    long next;

    Part(String applicationId, int partition, KafkaProducer<byte[], byte[]> producer, Callback check) {
      String seenTopic = changelogTopic(applicationId, EventDedupe.STORE);
      String statesTopic = changelogTopic(applicationId, RunStateProjection.STATE_STORE);
      String metricsTopic = changelogTopic(applicationId, RunStateProjection.METRICS_STORE);
      seenLog = (k, v) -> producer.send(new ProducerRecord<>(seenTopic, partition, k, v), check);
      statesLog = (k, v) -> producer.send(new ProducerRecord<>(statesTopic, partition, k, v), check);
      metricsLog = (k, v) -> producer.send(new ProducerRecord<>(metricsTopic, partition, k, v), check);
    }

    long approximateBytes() {
      return seen.approximateBytes() + runs.approximateBytes();
    }
  }

  /** The partitions one thread folds, with a consumer of its own. */
  private final class Share {
    final String applicationId;
    final List<TopicPartition> partitions;
    final Map<TopicPartition, Long> target;
    final long memory;
    final KafkaProducer<byte[], byte[]> producer;
    final Callback check;
    final AtomicLong done;
    final LongConsumer progress;
    final Map<TopicPartition, Long> loadedTo = new HashMap<>();
    long events;
    long skipped;
    long reported; // offsets of this thread's partitions last added to done

    Share(String applicationId, List<TopicPartition> partitions, Map<TopicPartition, Long> target, long memory,
          KafkaProducer<byte[], byte[]> producer, Callback check, AtomicLong done, LongConsumer progress) {
      this.applicationId = applicationId;
      this.partitions = partitions;
      this.target = target;
      this.memory = memory;
      this.producer = producer;
      this.check = check;
      this.done = done;
      this.progress = progress;
    }

    void run() throws InterruptedException {
      Map<TopicPartition, Part> parts = new HashMap<>();
      List<TopicPartition> open = new ArrayList<>();
      for (TopicPartition tp : partitions) {
        parts.put(tp, new Part(applicationId, tp.partition(), producer, check));
        if (target.get(tp) > 0) {
          open.add(tp);
        }
      }
      Map<String, Object> c = new HashMap<>();
      c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // as the projections read
      c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
      // The end of a partition shows as a fetch that comes back empty: do not wait the default half second for it.
      c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 50);
      try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
        consumer.assign(open);
        consumer.seekToBeginning(open);
        while (!open.isEmpty()) {
          if (Thread.interrupted()) {
            throw new InterruptedException("bulk rebuild of " + applicationId + " interrupted");
          }
          ConsumerRecords<byte[], byte[]> records = consumer.poll(POLL);
          for (TopicPartition tp : records.partitions()) {
            Part part = parts.get(tp);
            long end = target.get(tp);
            for (ConsumerRecord<byte[], byte[]> r : records.records(tp)) {
              if (r.offset() >= end) {
                break; // appended after the rebuild began: the application's to process
              }
              fold(part, r);
              part.next = r.offset() + 1;
            }
            // The buckets this batch changed go to the changelog now, while the fold goes on.
            part.seen.drainChanged(part.seenLog, true);
          }
          long held = 0;
          for (Part part : parts.values()) {
            held += part.approximateBytes();
          }
          List<TopicPartition> finished = new ArrayList<>();
          for (TopicPartition tp : open) {
            if (held > memory) {
              finished.add(tp); // stops here; the application folds the rest
            } else if (consumer.position(tp) >= target.get(tp)) {
              parts.get(tp).next = target.get(tp);
              finished.add(tp);
            }
          }
          if (held > memory && !finished.isEmpty()) {
            LOG.info("bulk rebuild of {}: the folds of {} hold about {} MiB, over this thread's {} MiB; the application goes on from there",
                applicationId, finished, held >> 20, memory >> 20);
          }
          if (!finished.isEmpty()) {
            open.removeAll(finished);
            consumer.pause(finished);
          }
          long at = 0;
          for (Part part : parts.values()) {
            at += part.next;
          }
          progress.accept(done.addAndGet(at - reported));
          reported = at;
        }
      }
      for (TopicPartition tp : partitions) {
        Part part = parts.get(tp);
        loadedTo.put(tp, part.next);
        part.seen.drainChanged(part.seenLog, false);
        part.runs.forEachState(part.statesLog);
        part.runs.forEachOpenChunk(part.metricsLog);
        parts.put(tp, null); // its folds are written: let them go
      }
    }

    /** The live topology's steps for one record: decode, check, dedupe, run state, lineage edges. */
    private void fold(Part part, ConsumerRecord<byte[], byte[]> r) {
      String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
      EventEnvelope event;
      try {
        event = envelopes.deserialize(r.topic(), r.headers(), r.value());
      } catch (RuntimeException e) {
        skipped++;
        return;
      }
      if (EventDedupe.invalidReason(key, event) != null) {
        skipped++;
        return;
      }
      if (!part.seen.firstSeen(event.getEventId())) {
        return;
      }
      try {
        part.runs.apply(key, event, part.metricsLog);
        for (LineageEdge e : LineageFacts.of(event)) {
          producer.send(new ProducerRecord<>(edgesTopic, null, r.timestamp(), e.relation().getBytes(StandardCharsets.UTF_8),
              LineageProjection.encode(e)), check);
        }
        events++;
      } catch (RuntimeException e) {
        skipped++;
      }
    }
  }
}
