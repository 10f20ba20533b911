package io.lineageledger.service.registry;

import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.CompatibilityLevel;
import io.lineageledger.schemas.registry.SchemaCatalog;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import io.lineageledger.schemas.registry.StoreRecord;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.avro.Schema;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link SchemaCatalog} kept in the compacted {@code _schemas} topic, in Confluent's record
 * layout, so registered schemas survive restarts and a topic written by Confluent's registry
 * can be served too.
 *
 * <p>The topic is the source of truth: a reader thread ("schema-store-reader") tails it and
 * applies every record to the catalog. A write appends a record, waits for the broker's
 * acknowledgement, then waits until the reader has applied it, so an answer never runs ahead of
 * the log. Writes are serialized by one lock, and before planning one the store catches up to
 * the topic's end. One registry instance writes to a topic at a time (as with Confluent's
 * leader); any number may read it.
 */
public final class KafkaSchemaStore implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaSchemaStore.class);
  private static final TopicPartition PARTITION = new TopicPartition(LedgerTopics.SCHEMAS, 0);
  private static final Duration WAIT = Duration.ofSeconds(30);

  private final SchemaCatalog catalog = new SchemaCatalog();
  private final KafkaProducer<byte[], byte[]> producer;
  private final KafkaConsumer<byte[], byte[]> reader;
  private final KafkaConsumer<byte[], byte[]> endOffsets;
  private final Object writeLock = new Object();
  private final Thread readerThread;
  private long applied; // next offset to apply; guarded by catalog's monitor
  private volatile boolean running = true;
  private volatile RuntimeException readerFailure;

  public KafkaSchemaStore(String bootstrapServers) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    p.put(ProducerConfig.CLIENT_ID_CONFIG, "ledger-schema-store");
    producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    reader = consumer(bootstrapServers, "ledger-schema-store-reader");
    endOffsets = consumer(bootstrapServers, "ledger-schema-store-end");
    endOffsets.assign(List.of(PARTITION));
    reader.assign(List.of(PARTITION));
    reader.seekToBeginning(List.of(PARTITION));
    readerThread = new Thread(this::readLoop, "schema-store-reader");
    readerThread.setDaemon(true);
  }

  private static KafkaConsumer<byte[], byte[]> consumer(String bootstrapServers, String clientId) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    // The store is written without transactions, so the high watermark is the end to catch up to.
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_uncommitted");
    c.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "50");
    return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
  }

  /** Starts tailing the topic and returns once everything already in it has been applied. */
  public KafkaSchemaStore start() {
    readerThread.start();
    catchUp();
    LOG.info("schema store loaded {} subject(s) from {}", read(c -> c.subjects().size()), LedgerTopics.SCHEMAS);
    return this;
  }

  private void readLoop() {
    try {
      while (running) {
        var records = reader.poll(Duration.ofMillis(200));
        long position = reader.position(PARTITION);
        synchronized (catalog) {
          for (ConsumerRecord<byte[], byte[]> r : records) {
            try {
              StoreRecord record = StoreRecord.parse(r.key(), r.value());
              if (record != null) {
                catalog.apply(record);
              }
            } catch (RuntimeException e) {
              LOG.warn("skipping unreadable record at {}-{} offset {}: {}", r.topic(), r.partition(), r.offset(), e.getMessage());
            }
          }
          applied = position;
          catalog.notifyAll();
        }
      }
    } catch (WakeupException e) {
      // close() asked the reader to stop.
    } catch (RuntimeException e) {
      readerFailure = e;
      LOG.error("schema store reader stopped", e);
      synchronized (catalog) {
        catalog.notifyAll();
      }
    } finally {
      reader.close();
    }
  }

  /** Runs a read against the catalog under its lock. */
  public <R> R read(Function<SchemaCatalog, R> query) {
    synchronized (catalog) {
      return query.apply(catalog);
    }
  }

  /**
   * Registers {@code schema} under {@code subject}: returns the existing id when it is there
   * already, else stores a new version (after the compatibility check) and returns its id.
   */
  public int register(String subject, Schema schema) {
    synchronized (writeLock) {
      catchUp();
      SchemaCatalog.Registration plan = read(c -> c.planRegistration(subject, schema));
      if (!plan.existing()) {
        append(plan.version());
      }
      return plan.version().id();
    }
  }

  /** Sets (or, with {@code level} null, clears) a subject's compatibility level; {@code subject} null means global. */
  public void setCompatibility(String subject, CompatibilityLevel level) {
    synchronized (writeLock) {
      append(new StoreRecord.Config(subject, level));
    }
  }

  private void append(StoreRecord record) {
    try {
      RecordMetadata written = producer.send(new ProducerRecord<>(LedgerTopics.SCHEMAS, 0, record.key(), record.value()))
          .get(WAIT.toSeconds(), TimeUnit.SECONDS);
      awaitApplied(written.offset() + 1);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw storeError("interrupted while writing to " + LedgerTopics.SCHEMAS, e);
    } catch (ExecutionException | TimeoutException e) {
      throw storeError("could not write to " + LedgerTopics.SCHEMAS + ": " + e.getMessage(), e);
    }
  }

  private void catchUp() {
    long end;
    synchronized (endOffsets) {
      end = endOffsets.endOffsets(List.of(PARTITION), WAIT).get(PARTITION);
    }
    awaitApplied(end);
  }

  private void awaitApplied(long offset) {
    long deadline = System.nanoTime() + WAIT.toNanos();
    synchronized (catalog) {
      while (applied < offset) {
        if (readerFailure != null) {
          throw storeError("the schema store reader failed: " + readerFailure.getMessage(), readerFailure);
        }
        long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
        if (left <= 0) {
          throw storeError("timed out reading " + LedgerTopics.SCHEMAS + " up to offset " + offset, null);
        }
        try {
          catalog.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw storeError("interrupted while reading " + LedgerTopics.SCHEMAS, e);
        }
      }
    }
  }

  private static SchemaRegistryException storeError(String message, Throwable cause) {
    return new SchemaRegistryException(500, SchemaRegistryException.STORE_ERROR, "Error in the backend data store: " + message, cause);
  }

  @Override
  public void close() {
    running = false;
    reader.wakeup();
    try {
      readerThread.join(Duration.ofSeconds(10).toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(10));
    synchronized (endOffsets) {
      endOffsets.close();
    }
  }

  /** Used by the health check: the reader is alive and caught up with what it last saw. */
  public boolean healthy() {
    return readerFailure == null && readerThread.isAlive();
  }
}
