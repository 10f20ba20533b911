package io.lineageledger.producers;

import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.net.InetAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes ledger events from a JVM process: one typed method per payload, each filling the
 * envelope (UUIDv7 event id, time, subject, producer id and sequence) and returning a future
 * {@link Receipt}.
 *
 * <p>It never swallows a failure and never holds the caller longer than {@code maxBlock}: with a
 * spool configured, an event the broker cannot take (unreachable, timed out, registry down) is
 * written to the {@link Spool} on disk and the receipt says SPOOLED; from then on new events go
 * to the spool too, keeping their order (a new event waits in memory until every older one
 * still with the producer is acknowledged or has failed over to the spool before it), until a
 * background drain has shipped the spool exactly once (see {@link SpoolShipper}) and the client
 * goes back to the broker. Without a
 * spool, or for a failure that retrying cannot fix (a record too large, a schema the registry
 * refuses), the future fails with {@link PublishException}.
 *
 * <p>Thread-safe. Kafka's I/O thread completes the futures of published events; the
 * "ledger-spooler" thread those of spooled ones; "ledger-spool-drain" ships the spool.
 */
public final class LedgerClient implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerClient.class);
  public static final String DEFAULT_TOPIC = "ledger.events";
  /** The producer's {@code buffer.memory} unless {@link Builder#kafkaProperty} sets it: 8 MiB. */
  public static final long DEFAULT_BUFFER_MEMORY = 8L << 20;

  private enum Mode { ONLINE, SPOOLING }

  private final Producer<String, EventEnvelope> producer;
  private final String topic;
  private final String producerId;
  private final String producerName;
  private final String producerVersion;
  private final String host;
  private final AtomicLong seq = new AtomicLong();
  private final EventIds ids = new EventIds();
  private final Spool spool;
  private final SpoolDrain drain;
  private final Object modeLock = new Object();
  private final BlockingQueue<Pending> toSpool = new LinkedBlockingQueue<>();
  private final Thread spooler;
  private final ScheduledExecutorService drainer;
  private final Duration closeTimeout;
  private volatile Mode mode = Mode.ONLINE; // written under modeLock
  private long pendingSpool; // enqueued for the spool (or held), not yet appended; guarded by modeLock
  // What is still in flight, from counters each written by its own side, so that publishing
  // threads and Kafka's I/O thread never write the same memory per event and publishing takes
  // no lock while ONLINE: every publish takes the next send order (one atomic increment), those
  // held for the spool instead of handed on are counted under modeLock, and Kafka's I/O thread
  // counts acknowledgements (published) and failures (resolvedOtherwise). Sends handed on =
  // sendOrder - heldSends; resolved = published + resolvedOtherwise; see releaseHeld.
  private final AtomicLong sendOrder = new AtomicLong();
  private long heldSends; // guarded by modeLock
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong resolvedOtherwise = new AtomicLong(); // handed-on sends that failed over or failed
  private final AtomicLong spooled = new AtomicLong();
  private final AtomicLong failed = new AtomicLong();
  // Events bound for the spool while older sends are unresolved, by send order; guarded by modeLock.
  private final java.util.TreeMap<Long, Pending> held = new java.util.TreeMap<>();
  private volatile boolean closed;

  private LedgerClient(Builder b, Producer<String, EventEnvelope> producer, SpoolDrain drain) {
    this.producer = producer;
    this.topic = b.topic;
    this.producerId = b.producerId;
    this.producerName = b.producerName;
    this.producerVersion = b.producerVersion;
    this.host = localHostName();
    this.spool = b.spoolDir == null ? null : Spool.open(b.spoolDir, b.spoolMaxBytes);
    this.drain = drain;
    this.closeTimeout = b.closeTimeout;
    if (spool != null) {
      spooler = new Thread(this::spoolLoop, "ledger-spooler");
      spooler.setDaemon(true);
      spooler.start();
      drainer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ledger-spool-drain");
        t.setDaemon(true);
        return t;
      });
      if (spool.size() > 0) {
        mode = Mode.SPOOLING; // a spool left by an earlier process: ship it before anything newer
        LOG.info("spool {} holds {} event(s) from an earlier run; they are published before new events", spool.dir(), spool.size());
      }
      long every = b.retryInterval.toMillis();
      drainer.scheduleWithFixedDelay(this::drainOnce, every, every, TimeUnit.MILLISECONDS);
    } else {
      spooler = null;
      drainer = null;
    }
  }

  public static Builder builder() {
    return new Builder();
  }

  // ---- typed methods, one per payload ----

  public CompletableFuture<Receipt> runStarted(RunStarted payload) {
    return publish(Subjects.run(payload.getRunId()), payload);
  }

  public CompletableFuture<Receipt> configSnapshot(String runId, ConfigSnapshot payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> dataTransformApplied(DataTransformApplied payload) {
    return publish(Subjects.of(payload), payload);
  }

  public CompletableFuture<Receipt> datasetBound(String runId, DatasetBound payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> stepSummary(String runId, StepSummary payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> checkpointSaved(String runId, CheckpointSaved payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> evaluationCompleted(String runId, EvaluationCompleted payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> runFinished(String runId, RunFinished payload) {
    return publish(Subjects.run(runId), payload);
  }

  public CompletableFuture<Receipt> modelVersionRegistered(ModelVersionRegistered payload) {
    return publish(Subjects.of(payload), payload);
  }

  public CompletableFuture<Receipt> baselineDesignated(BaselineDesignated payload) {
    return publish(Subjects.of(payload), payload);
  }

  /** Wraps {@code payload} in a new envelope for {@code subject} and publishes it. */
  public CompletableFuture<Receipt> publish(String subject, Object payload) {
    return publish(envelope(subject, payload, null, null));
  }

  /**
   * A new envelope from this client. {@code eventId} and {@code occurredAt} may be null (a new
   * UUIDv7, now); a producer that supplies its own event id makes its retries idempotent.
   */
  public EventEnvelope envelope(String subject, Object payload, String eventId, Instant occurredAt) {
    Objects.requireNonNull(payload, "payload");
    Objects.requireNonNull(subject, "subject");
    // All-argument constructors: the builders validate and copy on every call, which shows at high rates.
    ProducerInfo info = new ProducerInfo(producerId, producerName, producerVersion, host, seq.getAndIncrement());
    Instant at = occurredAt == null ? Instant.now() : occurredAt;
    int nanos = at.getNano();
    if (nanos % 1000 != 0) {
      at = Instant.ofEpochSecond(at.getEpochSecond(), nanos - nanos % 1000); // to the microsecond, as the schema keeps it
    }
    return new EventEnvelope(eventId != null ? eventId : occurredAt == null ? ids.next(at.toEpochMilli()) : ids.next(), at, subject, info, payload);
  }

  /** Publishes a complete envelope as it is. */
  public CompletableFuture<Receipt> publish(EventEnvelope event) {
    if (closed) {
      failed.incrementAndGet();
      return CompletableFuture.failedFuture(new PublishException(event.getEventId(), "the client is closed", null));
    }
    Send send = new Send(event, sendOrder.getAndIncrement());
    // The increment above comes before this read, and a switch to SPOOLING (under modeLock)
    // comes before its count of what is in flight: either this send is seen as handed on, or it
    // sees SPOOLING. A send that sees SPOOLING counts itself as held instead, under the lock.
    if (mode == Mode.SPOOLING) {
      synchronized (modeLock) {
        if (mode == Mode.SPOOLING) {
          heldSends++;
          hold(send.order, new Pending(event, send));
          return send;
        }
      } // back ONLINE meanwhile: hand it on
    }
    try {
      producer.send(new ProducerRecord<>(topic, event.getSubject(), event), send);
    } catch (RuntimeException e) {
      failedSend(send.order, event, send, e);
      resolvedOtherwise.incrementAndGet();
      releaseIfSpooling();
    }
    return send;
  }

  /**
   * How many events this client has published (acknowledged by the broker), spooled and failed
   * (their futures failed) so far. Counts move when a receipt is completed, just before its
   * future's dependents run; an event still in flight is in none of them.
   */
  public Stats stats() {
    return new Stats(published.get(), spooled.get(), failed.get());
  }

  /** Event counts by outcome; see {@link #stats()}. */
  public record Stats(long published, long spooled, long failed) {
    /** Events settled either way. */
    public long settled() {
      return published + spooled + failed;
    }
  }

  /**
   * One event handed to the producer: the receipt the caller holds and the producer's callback
   * in one object, so that an acknowledgement touches one allocation per event instead of two.
   */
  private final class Send extends CompletableFuture<Receipt> implements Callback {
    private final EventEnvelope event;
    private final String eventId; // the acknowledgement needs only this: it need not load the envelope again
    private final long order;

    Send(EventEnvelope event, long order) {
      this.event = event;
      this.eventId = event.getEventId();
      this.order = order;
    }

    @Override
    public void onCompletion(RecordMetadata metadata, Exception e) {
      if (e == null) {
        published.incrementAndGet();
        complete(new Receipt(eventId, Receipt.Outcome.PUBLISHED, metadata.topic(), metadata.partition(), metadata.offset(), -1));
      } else {
        failedSend(order, event, this, e);
        resolvedOtherwise.incrementAndGet();
      }
      releaseIfSpooling();
    }
  }

  /**
   * A send handed to the producer was acknowledged or failed over, and counted. Events are held
   * only while SPOOLING, and mode is set before anything is held: either the holder sees this
   * count when it compares the counters, or this sees SPOOLING after counting and releases them.
   */
  private void releaseIfSpooling() {
    if (mode == Mode.SPOOLING) {
      synchronized (modeLock) {
        releaseHeld();
      }
    }
  }

  /**
   * Queues an event for the spool. It waits until no older send is unresolved: an older event
   * that fails later (a delivery timeout) must reach the spool first, and one that succeeds
   * must not be overtaken by a spooled one. Callers hold modeLock.
   */
  private void hold(long order, Pending p) {
    pendingSpool++;
    held.put(order, p);
    releaseHeld();
  }

  private void releaseHeld() {
    // Each counter is read after the ones it follows from, so every read is a lower bound that
    // never passes the sends handed on: equal means nothing older is in flight.
    if (!held.isEmpty() && sendOrder.get() - heldSends == published.get() + resolvedOtherwise.get()) {
      toSpool.addAll(held.values()); // in send order; already counted in pendingSpool
      held.clear();
    }
  }

  private void failedSend(long order, EventEnvelope event, CompletableFuture<Receipt> receipt, Exception e) {
    // Sends aborted by close() never reached the broker: they belong in the spool too.
    if (spool != null && (retriable(e) || closed)) {
      synchronized (modeLock) {
        if (mode == Mode.ONLINE) {
          LOG.warn("broker unreachable ({}); spooling events to {} until it returns", e.toString(), spool.dir());
          mode = Mode.SPOOLING;
        }
        hold(order, new Pending(event, receipt));
      }
    } else {
      failed.incrementAndGet();
      receipt.completeExceptionally(new PublishException(event.getEventId(),
          spool == null && retriable(e) ? "the broker could not take it and no spool is configured" : "it cannot be published", e));
    }
  }

  static boolean retriable(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof RetriableException) {
        return true;
      }
      if (t instanceof SchemaRegistryException sre) {
        return sre.isRetriable();
      }
      if (t instanceof SerializationException && t.getCause() == null) {
        return false;
      }
    }
    return false;
  }

  private void spoolLoop() {
    List<Pending> batch = new ArrayList<>();
    while (true) {
      try {
        batch.add(toSpool.take());
      } catch (InterruptedException e) {
        return;
      }
      toSpool.drainTo(batch, 4096);
      if (batch.size() == 1 && batch.get(0) == Pending.STOP) {
        return;
      }
      boolean stop = batch.remove(Pending.STOP);
      List<EventEnvelope> events = batch.stream().map(Pending::event).toList();
      try {
        long[] seqs = spool.append(events);
        for (int i = 0; i < batch.size(); i++) {
          Pending p = batch.get(i);
          spooled.incrementAndGet();
          p.receipt().complete(new Receipt(p.event().getEventId(), Receipt.Outcome.SPOOLED, null, -1, -1, seqs[i]));
        }
      } catch (RuntimeException e) {
        for (Pending p : batch) {
          failed.incrementAndGet();
          p.receipt().completeExceptionally(new PublishException(p.event().getEventId(), "the broker is unreachable and the spool refused it", e));
        }
      } finally {
        synchronized (modeLock) {
          pendingSpool -= batch.size();
        }
      }
      batch.clear();
      if (stop) {
        return;
      }
    }
  }

  /**
   * Ships the spool now, on the calling thread, instead of waiting for the background drain;
   * returns whether the client is back online (the spool is drained). A command that is about
   * to exit calls it so that what it spooled does not wait for the next command.
   */
  public boolean drainNow() {
    if (spool == null) {
      return true;
    }
    drainOnce();
    return !spooling();
  }

  private synchronized void drainOnce() {
    synchronized (modeLock) {
      if (mode == Mode.ONLINE) {
        return;
      }
    }
    try {
      SpoolDrain.Result result = drain.ship(spool);
      if (result.published() > 0) {
        LOG.info("shipped {} spooled event(s) from {}", result.published(), spool.dir());
      }
      synchronized (modeLock) {
        if (pendingSpool == 0 && spool.lastSeq() <= result.lastShipped()) {
          spool.deleteThrough(result.lastShipped());
          mode = Mode.ONLINE;
          LOG.info("spool {} is drained; publishing to the broker again", spool.dir());
        }
      }
    } catch (RuntimeException e) {
      LOG.debug("spool drain attempt failed, will retry: {}", e.toString());
    }
  }

  /** Whether events currently go to the spool (the broker was unreachable and the spool is not drained yet). */
  public boolean spooling() {
    synchronized (modeLock) {
      return mode == Mode.SPOOLING;
    }
  }

  /** The spool, if one is configured. */
  public Spool spool() {
    return spool;
  }

  /** Waits until every event handed over so far is published or spooled (bounded by the delivery timeout). */
  public void flush() {
    producer.flush();
  }

  /**
   * Flushes, then stops. Events still in flight when the close timeout expires fail over to
   * the spool (when one is configured) before the spool is closed.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    producer.close(closeTimeout);
    if (spool != null) {
      toSpool.add(Pending.STOP);
      try {
        spooler.join(closeTimeout.toMillis() + 5000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      drainer.shutdownNow();
      try {
        drainer.awaitTermination(closeTimeout.toMillis(), TimeUnit.MILLISECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      spool.close();
    }
  }

  /** This machine's host name as producers record it (HOSTNAME, or "unknown", when it cannot be resolved). */
  public static String localHostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (Exception e) {
      return Objects.requireNonNullElse(System.getenv("HOSTNAME"), "unknown");
    }
  }

  private record Pending(EventEnvelope event, CompletableFuture<Receipt> receipt) {
    static final Pending STOP = new Pending(null, null);
  }

  /** Settings of a {@link LedgerClient}. */
  public static final class Builder {
    private String bootstrapServers;
    private String schemaRegistryUrl;
    private SchemaRegistryClient registry;
    private Producer<String, EventEnvelope> producer;
    private SpoolDrain drain;
    private String topic = DEFAULT_TOPIC;
    private String producerId = UUID.randomUUID().toString();
    private String producerName = "ledger-java-client";
    private String producerVersion = versionOf(LedgerClient.class);
    private Path spoolDir;
    private long spoolMaxBytes = 1L << 30;
    private Duration maxBlock = Duration.ofMillis(500);
    private Duration deliveryTimeout = Duration.ofSeconds(15);
    private Duration retryInterval = Duration.ofSeconds(2);
    private Duration closeTimeout = Duration.ofSeconds(10);
    private final Map<String, Object> kafka = new HashMap<>();

    public Builder bootstrapServers(String v) {
      bootstrapServers = v;
      return this;
    }

    public Builder schemaRegistryUrl(String v) {
      schemaRegistryUrl = v;
      return this;
    }

    /** A registry client to use instead of one built from the URL. */
    public Builder schemaRegistry(SchemaRegistryClient v) {
      registry = v;
      return this;
    }

    /** A producer to use instead of building a KafkaProducer (tests pass a MockProducer). */
    public Builder producer(Producer<String, EventEnvelope> v) {
      producer = v;
      return this;
    }

    /** How the spool is shipped when the broker returns (default: a {@link SpoolShipper}). */
    public Builder spoolDrain(SpoolDrain v) {
      drain = v;
      return this;
    }

    public Builder topic(String v) {
      topic = v;
      return this;
    }

    /** Producer identity written into every envelope; the id defaults to a new UUID per client. */
    public Builder producerIdentity(String id, String name, String version) {
      producerId = id;
      producerName = name;
      producerVersion = version;
      return this;
    }

    /** Spool events here while the broker is unreachable, up to {@code maxBytes}. */
    public Builder spool(Path dir, long maxBytes) {
      spoolDir = dir;
      spoolMaxBytes = maxBytes;
      return this;
    }

    /** The longest a publish call may block (Kafka's {@code max.block.ms}; default 500 ms). */
    public Builder maxBlock(Duration v) {
      maxBlock = v;
      return this;
    }

    /** How long the broker may take to acknowledge before an event fails over to the spool (default 15 s). */
    public Builder deliveryTimeout(Duration v) {
      deliveryTimeout = v;
      return this;
    }

    /** How often a spooling client tries to ship its spool (default 2 s). */
    public Builder retryInterval(Duration v) {
      retryInterval = v;
      return this;
    }

    public Builder closeTimeout(Duration v) {
      closeTimeout = v;
      return this;
    }

    /** Any Kafka producer setting, passed through. */
    public Builder kafkaProperty(String key, Object value) {
      kafka.put(key, value);
      return this;
    }

    public LedgerClient build() {
      SchemaRegistryClient reg = registry;
      if (reg == null && schemaRegistryUrl != null) {
        reg = new RestSchemaRegistryClient(schemaRegistryUrl);
      }
      Producer<String, EventEnvelope> p = producer;
      if (p == null) {
        if (bootstrapServers == null || reg == null) {
          throw new IllegalArgumentException("LedgerClient needs bootstrapServers and schemaRegistryUrl (or a producer)");
        }
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, 5);
        // Larger batches than Kafka's 16 KiB default: bursts (a file emitted, a spool drained) need
        // fewer requests; a trainer's trickle of events is bounded by linger.ms, not by this.
        config.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, 128 * 1024);
        // A quarter of Kafka's 32 MiB default: an event in flight holds its envelope and payload
        // (kept to fail over to the spool), and 8 MiB of records is still tens of thousands of
        // events, far beyond a training job's rate. The job's heap and caches stay small, and a
        // burst waits up to max.block for room instead of piling up.
        config.putIfAbsent(ProducerConfig.BUFFER_MEMORY_CONFIG, DEFAULT_BUFFER_MEMORY);
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (int) maxBlock.toMillis());
        int request = (int) Math.min(deliveryTimeout.toMillis() / 2, 30_000);
        config.putIfAbsent(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, request);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, (int) Math.max(deliveryTimeout.toMillis(), request + 5));
        config.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "ledger-client-" + producerId);
        p = new KafkaProducer<>(config, new StringSerializer(), new LedgerAvroSerializer<>(reg));
      }
      SpoolDrain d = drain;
      if (d == null && spoolDir != null) {
        if (bootstrapServers == null || reg == null) {
          throw new IllegalArgumentException("a spool needs bootstrapServers and schemaRegistryUrl to be shipped, or a spoolDrain");
        }
        Map<String, Object> config = new HashMap<>(kafka);
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        d = new SpoolShipper(config, reg, topic, Duration.ofSeconds(5));
      }
      return new LedgerClient(this, p, d);
    }

    private static String versionOf(Class<?> c) {
      String v = c.getPackage() == null ? null : c.getPackage().getImplementationVersion();
      return v == null ? "dev" : v;
    }
  }
}
