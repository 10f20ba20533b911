package io.lineageledger.service.alerts;

import io.lineageledger.events.Alert;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every alert of {@code ledger.alerts}, read from the beginning by each instance (alerts are
 * few) and kept in the order this instance read them, once per alert id: a condition raised
 * again by detectors that rebuilt their state has the same id and is dropped.
 *
 * <p>A position in the log is a {@link Cursor}: the next offset of each partition. Each entry
 * carries the cursor just after it, which is what {@code GET /alerts/stream} sends as the event
 * id; a client that comes back with it as {@code Last-Event-ID} gets exactly the alerts at or
 * beyond those offsets, whichever instance it reconnects to.
 *
 * <p>Thread-safe. One thread of its own polls the topic; listeners are called on it, under the
 * log's lock, and must only hand entries on.
 */
public final class AlertLog implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(AlertLog.class);

  private final KafkaConsumer<String, Alert> consumer;
  private final Thread poller;
  private final List<Entry> entries = new ArrayList<>(); // guarded by this
  private final Set<String> ids = new HashSet<>(); // guarded by this
  private final List<Consumer<Entry>> listeners = new CopyOnWriteArrayList<>();
  private long[] next; // guarded by this
  private volatile boolean caughtUp;
  private volatile boolean closing;

  /** An alert with its place in the log and the cursor just after it. */
  public record Entry(int partition, long offset, Cursor after, Alert alert) {}

  /** The next offset of each partition of {@code ledger.alerts}, written {@code o0.o1.o2}. */
  public record Cursor(long[] next) {
    public static Cursor parse(String text, int partitions) {
      long[] out = new long[partitions];
      if (text == null || text.isBlank()) {
        return new Cursor(out);
      }
      String[] parts = text.trim().split("\\.");
      if (parts.length != partitions) {
        throw new IllegalArgumentException("an alert cursor has " + partitions + " parts like 0.0.0 (one per partition of "
            + LedgerTopics.ALERTS + "), not '" + text + "'");
      }
      for (int i = 0; i < partitions; i++) {
        try {
          out[i] = Long.parseLong(parts[i]);
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("an alert cursor is offsets separated by dots like 0.0.0, not '" + text + "'");
        }
      }
      return new Cursor(out);
    }

    /** The later of this and {@code other}, partition by partition. */
    public Cursor max(Cursor other) {
      long[] out = next.clone();
      for (int i = 0; i < Math.min(out.length, other.next.length); i++) {
        out[i] = Math.max(out[i], other.next[i]);
      }
      return new Cursor(out);
    }

    boolean before(Entry e) {
      return e.partition() >= next.length || e.offset() >= next[e.partition()];
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (int i = 0; i < next.length; i++) {
        sb.append(i == 0 ? "" : ".").append(next[i]);
      }
      return sb.toString();
    }
  }

  /** Which alerts a reader wants; null fields match everything. */
  public record Filter(String run, String model, Set<String> kinds, Instant since) {
    public boolean matches(Alert a) {
      return (run == null || run.equals(a.getRunId()))
          && (model == null || model.equals(a.getModel()) || ("model:" + model).equals(a.getSubject()))
          && (kinds == null || kinds.isEmpty() || kinds.contains(a.getKind()))
          && (since == null || !a.getRaisedAt().isBefore(since));
    }
  }

  public AlertLog(String bootstrapServers, SchemaRegistryClient registry) {
    Map<String, Object> config = new LinkedHashMap<>();
    config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    config.put(ConsumerConfig.CLIENT_ID_CONFIG, "ledger-alert-log");
    this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new LedgerAvroDeserializer<>(registry, Alert.class));
    this.poller = new Thread(this::poll, "ledger-alert-log");
    this.poller.setDaemon(true);
  }

  public AlertLog start() {
    List<TopicPartition> partitions = consumer.partitionsFor(LedgerTopics.ALERTS, Duration.ofSeconds(30)).stream()
        .map(p -> new TopicPartition(p.topic(), p.partition())).sorted((a, b) -> Integer.compare(a.partition(), b.partition())).toList();
    synchronized (this) {
      next = new long[partitions.size()];
    }
    consumer.assign(partitions);
    consumer.seekToBeginning(partitions);
    poller.start();
    return this;
  }

  public int partitions() {
    synchronized (this) {
      return next.length;
    }
  }

  /** Whether everything that was in the topic when this log started has been read. */
  public boolean caughtUp() {
    return caughtUp;
  }

  private void poll() {
    try {
      Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment());
      while (!closing) {
        try {
          var records = consumer.poll(Duration.ofMillis(200));
          for (ConsumerRecord<String, Alert> r : records) {
            if (r.value() != null) {
              append(r.partition(), r.offset(), r.value());
            } else {
              advance(r.partition(), r.offset());
            }
          }
          if (!caughtUp) {
            caughtUp = ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
          }
        } catch (WakeupException e) {
          throw e;
        } catch (RuntimeException e) {
          LOG.error("reading {} failed; trying again in 1 s", LedgerTopics.ALERTS, e);
          Thread.sleep(1000);
        }
      }
    } catch (WakeupException e) {
      if (!closing) {
        LOG.error("the alert log was woken up without being closed; alerts stop arriving at this instance", e);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private synchronized void advance(int partition, long offset) {
    next[partition] = Math.max(next[partition], offset + 1);
  }

  private synchronized void append(int partition, long offset, Alert alert) {
    advance(partition, offset);
    if (!ids.add(alert.getAlertId())) {
      return;
    }
    Entry e = new Entry(partition, offset, new Cursor(next.clone()), alert);
    entries.add(e);
    for (Consumer<Entry> l : listeners) {
      l.accept(e);
    }
  }

  /** The entries at or beyond {@code from} that match {@code filter}, oldest first, at most {@code limit}. */
  public synchronized List<Entry> read(Cursor from, Filter filter, int limit) {
    List<Entry> out = new ArrayList<>();
    for (Entry e : entries) {
      if (from.before(e) && filter.matches(e.alert())) {
        out.add(e);
        if (out.size() >= limit) {
          break;
        }
      }
    }
    return out;
  }

  /** The cursor after everything read so far. */
  public synchronized Cursor end() {
    return new Cursor(next.clone());
  }

  /** A page of {@link #read}, and the cursor to go on from: after its last entry when it is full, else after everything read. */
  public record Page(List<Entry> entries, Cursor next) {}

  public synchronized Page page(Cursor from, Filter filter, int limit) {
    List<Entry> entries = read(from, filter, limit);
    Cursor after = entries.size() == limit ? entries.get(entries.size() - 1).after() : end();
    return new Page(entries, after.max(from));
  }

  /**
   * Hands {@code sink} every entry at or beyond {@code from} that matches {@code filter} (the
   * backlog), then each new one as it is read, with nothing missed or repeated in between.
   * Returns what stops the subscription.
   */
  public synchronized Runnable follow(Cursor from, Filter filter, Consumer<Entry> sink) {
    for (Entry e : read(from, filter, Integer.MAX_VALUE)) {
      sink.accept(e);
    }
    // A client may come back with a cursor ahead of this instance (which is still reading, or lags another instance):
    // what it already has is not sent again.
    Consumer<Entry> listener = e -> {
      if (from.before(e) && filter.matches(e.alert())) {
        sink.accept(e);
      }
    };
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    closing = true;
    if (!poller.isAlive() && poller.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(5)); // never started
      return;
    }
    consumer.wakeup();
    try {
      poller.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** An alert as the API shows it. */
  public static Map<String, Object> json(Alert a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("alert_id", a.getAlertId());
    m.put("kind", a.getKind());
    m.put("severity", a.getSeverity().name());
    m.put("subject", a.getSubject());
    m.put("run_id", a.getRunId());
    m.put("model", a.getModel());
    m.put("message", a.getMessage());
    m.put("raised_at", a.getRaisedAt().toString());
    m.put("condition_key", a.getConditionKey());
    m.put("evidence_event_ids", List.copyOf(a.getEvidenceEventIds()));
    m.put("details", new LinkedHashMap<>(a.getDetails()));
    return m;
  }
}
