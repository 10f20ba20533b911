package io.lineageledger.service.alerts;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.infra.LedgerTopics;
import java.time.Duration;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The webhook subscriptions, kept in the compacted topic {@value LedgerTopics#SUBSCRIPTIONS}
 * (key: id, value: the subscription as JSON, a tombstone when deleted), so that every instance
 * knows all of them and they survive restarts. Each instance reads the topic from the start and
 * starts or stops its {@link WebhookDispatcher} workers as subscriptions come and go.
 *
 * <p>Thread-safe; one thread of its own reads the topic.
 */
public final class Subscriptions implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final KafkaProducer<String, String> producer;
  private final KafkaConsumer<String, String> consumer;
  private final WebhookDispatcher dispatcher;
  private final Map<String, Subscription> subscriptions = new ConcurrentHashMap<>();
  private final Thread reader;
  private volatile boolean closing;
  private long applied = -1; // guarded by this

  public Subscriptions(String bootstrapServers, WebhookDispatcher dispatcher) {
    this.dispatcher = dispatcher;
    this.producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers, ProducerConfig.ACKS_CONFIG, "all",
        ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true), new StringSerializer(), new StringSerializer());
    this.consumer = new KafkaConsumer<>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false, ConsumerConfig.CLIENT_ID_CONFIG, "ledger-subscriptions"),
        new StringDeserializer(), new StringDeserializer());
    this.reader = new Thread(this::read, "ledger-subscriptions");
    this.reader.setDaemon(true);
  }

  public Subscriptions start() {
    TopicPartition tp = new TopicPartition(LedgerTopics.SUBSCRIPTIONS, 0);
    consumer.assign(List.of(tp));
    consumer.seekToBeginning(List.of(tp));
    reader.start();
    return this;
  }

  private void read() {
    try {
      while (!closing) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          apply(r.key(), r.value());
          synchronized (this) {
            applied = r.offset();
            notifyAll();
          }
        }
      }
    } catch (WakeupException e) {
      if (!closing) {
        throw e;
      }
    } catch (RuntimeException e) {
      LOG.error("reading {} failed; subscriptions stop changing at this instance", LedgerTopics.SUBSCRIPTIONS, e);
    } finally {
      consumer.close(Duration.ofSeconds(5));
    }
  }

  private void apply(String id, String value) {
    if (value == null) {
      if (subscriptions.remove(id) != null) {
        dispatcher.stop(id);
      }
      return;
    }
    try {
      Subscription s = decode(value);
      Subscription before = subscriptions.put(id, s);
      if (!s.equals(before)) {
        dispatcher.start(s);
      }
    } catch (Exception e) {
      LOG.error("subscription {} in {} is not readable and is skipped: {}", id, LedgerTopics.SUBSCRIPTIONS, e.toString());
    }
  }

  /** Stores {@code s}; returns once this instance delivers to it. */
  public Subscription put(Subscription s) {
    try {
      write(s.id(), encode(s));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
    return s;
  }

  static String encode(Subscription s) throws com.fasterxml.jackson.core.JsonProcessingException {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", s.id());
    m.put("url", s.url());
    m.put("secret", s.secret());
    m.put("run", s.run());
    m.put("model", s.model());
    m.put("kinds", s.kinds());
    m.put("created_at", s.createdAt().toString());
    return JSON.writeValueAsString(m);
  }

  static Subscription decode(String value) throws java.io.IOException {
    JsonNode n = JSON.readTree(value);
    List<String> kinds = new java.util.ArrayList<>();
    n.path("kinds").forEach(k -> kinds.add(k.asText()));
    return new Subscription(n.path("id").asText(), n.path("url").asText(), n.path("secret").asText(), text(n, "run"), text(n, "model"),
        kinds, java.time.Instant.parse(n.path("created_at").asText()));
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  /** Deletes subscription {@code id}; false when there is none. */
  public boolean delete(String id) {
    if (!subscriptions.containsKey(id)) {
      return false;
    }
    write(id, null);
    return true;
  }

  private void write(String id, String value) {
    try {
      long offset = producer.send(new ProducerRecord<>(LedgerTopics.SUBSCRIPTIONS, 0, id, value)).get(30, TimeUnit.SECONDS).offset();
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      synchronized (this) {
        while (applied < offset) {
          long left = deadline - System.nanoTime();
          if (left <= 0) {
            throw new IllegalStateException("subscription " + id + " was stored but not read back within 30 s");
          }
          TimeUnit.NANOSECONDS.timedWait(this, left);
        }
      }
    } catch (ExecutionException e) {
      throw new IllegalStateException("could not store subscription " + id + ": " + e.getCause().getMessage(), e.getCause());
    } catch (TimeoutException e) {
      throw new IllegalStateException("could not store subscription " + id + " within 30 s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while storing subscription " + id, e);
    }
  }

  public Optional<Subscription> get(String id) {
    return Optional.ofNullable(subscriptions.get(id));
  }

  public List<Subscription> list() {
    return subscriptions.values().stream().sorted(Comparator.comparing(Subscription::createdAt).thenComparing(Subscription::id)).toList();
  }

  /** A subscription as the API shows it, with this instance's delivery figures. */
  public Map<String, Object> json(Subscription s) {
    Map<String, Object> m = new LinkedHashMap<>(s.json());
    WebhookDispatcher.Stats st = dispatcher.stats(s.id());
    if (st != null) {
      Map<String, Object> d = new LinkedHashMap<>();
      d.put("delivered", st.delivered());
      d.put("failed_attempts", st.failedAttempts());
      d.put("last_error", st.lastError());
      d.put("last_delivered_at", st.lastDeliveredAt() == null ? null : st.lastDeliveredAt().toString());
      d.put("retrying_alert", st.retrying());
      m.put("this_instance", d);
    }
    return m;
  }

  @Override
  public void close() {
    closing = true;
    if (reader.getState() == Thread.State.NEW) {
      consumer.close(Duration.ofSeconds(5)); // never started
      producer.close(Duration.ofSeconds(5));
      dispatcher.close();
      return;
    }
    consumer.wakeup();
    try {
      reader.join(10_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    producer.close(Duration.ofSeconds(5));
    dispatcher.close();
  }
}
