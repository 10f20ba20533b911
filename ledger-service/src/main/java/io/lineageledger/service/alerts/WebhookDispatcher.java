package io.lineageledger.service.alerts;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.Alert;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.producers.Digests;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers alerts to webhooks, at least once. Each subscription has a consumer group of its own
 * on {@code ledger.alerts} ({@value #GROUP_PREFIX}{@code <id>}), whose committed offsets are its
 * delivery state: an offset is committed only once the alert at it was delivered (or is not for
 * this subscription), so a receiver that is down, or a service that restarts, delays deliveries
 * but loses none. Instances share a subscription's partitions through the group.
 *
 * <p>Each delivery is a JSON POST signed with HMAC-SHA256 over the body under the subscription's
 * secret ({@value #SIGNATURE_HEADER}: {@code sha256=<hex>}), with a delivery id
 * ({@value #DELIVERY_HEADER}) derived from the subscription and the alert, so a redelivery after
 * a crash has the same id and a receiver can drop it. Failed attempts are retried with
 * exponential backoff up to {@link #MAX_BACKOFF}, in order, for as long as it takes.
 *
 * <p>Thread-safe; each subscription's deliveries run on a thread of their own.
 */
public final class WebhookDispatcher implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookDispatcher.class);
  public static final String GROUP_PREFIX = "ledger-webhooks.";
  public static final String SIGNATURE_HEADER = "X-Ledger-Signature-256";
  public static final String DELIVERY_HEADER = "X-Ledger-Delivery";
  static final Duration FIRST_BACKOFF = Duration.ofMillis(250);
  static final Duration MAX_BACKOFF = Duration.ofSeconds(5);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final String bootstrapServers;
  private final SchemaRegistryClient registry;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final Map<String, Worker> workers = new ConcurrentHashMap<>();

  /** What this instance has done for a subscription since it started. */
  public record Stats(long delivered, long failedAttempts, String lastError, Instant lastDeliveredAt, String retrying) {}

  public WebhookDispatcher(String bootstrapServers, SchemaRegistryClient registry) {
    this.bootstrapServers = bootstrapServers;
    this.registry = registry;
  }

  /** Starts delivering to {@code s} (again, if it changed). */
  public synchronized void start(Subscription s) {
    Worker old = workers.remove(s.id());
    if (old != null) {
      old.stop();
    }
    Worker w = new Worker(s);
    workers.put(s.id(), w);
    w.thread.start();
  }

  public synchronized void stop(String subscriptionId) {
    Worker w = workers.remove(subscriptionId);
    if (w != null) {
      w.stop();
    }
  }

  /** This instance's delivery figures for a subscription, or null when it does not deliver to it. */
  public Stats stats(String subscriptionId) {
    Worker w = workers.get(subscriptionId);
    return w == null ? null : new Stats(w.delivered.get(), w.failed.get(), w.lastError, w.lastDeliveredAt, w.retrying);
  }

  /** The delivery id of {@code alertId} to {@code subscriptionId}: the same for every attempt, on every instance. */
  public static String deliveryId(String subscriptionId, String alertId) {
    String digest = Digests.sha256((subscriptionId + "|" + alertId).getBytes(StandardCharsets.UTF_8));
    return "dlv-" + digest.substring(digest.indexOf(':') + 1, digest.indexOf(':') + 33);
  }

  /** {@code sha256=} and the hex HMAC-SHA256 of {@code body} under {@code secret}. */
  public static String signature(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void close() {
    workers.values().forEach(Worker::stop);
    workers.clear();
  }

  /** One subscription's deliveries, on its own thread with its own consumer. */
  private final class Worker {
    final Subscription sub;
    final Thread thread;
    final KafkaConsumer<String, Alert> consumer;
    final AtomicLong delivered = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    volatile String lastError;
    volatile Instant lastDeliveredAt;
    volatile String retrying;
    volatile boolean stopping;
    final java.util.concurrent.CountDownLatch stopped = new java.util.concurrent.CountDownLatch(1);

    Worker(Subscription sub) {
      this.sub = sub;
      Map<String, Object> config = new LinkedHashMap<>();
      config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
      config.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP_PREFIX + sub.id());
      config.put(ConsumerConfig.CLIENT_ID_CONFIG, GROUP_PREFIX + sub.id());
      config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
      config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
      // Alerts raised before the subscription are skipped by time, so a new group may start at the beginning safely.
      config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 50);
      this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new LedgerAvroDeserializer<>(registry, Alert.class));
      this.thread = new Thread(this::run, "ledger-webhook-" + sub.id());
      this.thread.setDaemon(true);
    }

    // Stopped by wakeup() and a latch, never by interrupting a thread inside KafkaConsumer calls.
    void stop() {
      stopping = true;
      stopped.countDown();
      consumer.wakeup();
      try {
        thread.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }

    private void run() {
      try {
        consumer.subscribe(List.of(LedgerTopics.ALERTS));
        while (!stopping) {
          try {
            if (!pollAndDeliver()) {
              return; // stopping
            }
          } catch (WakeupException e) {
            throw e;
          } catch (RuntimeException e) {
            // Whatever went wrong (the broker, the registry, a rebalance), the committed offsets still say what was delivered.
            lastError = e.toString();
            LOG.error("webhook {}: {}; going on in 1 s from the last delivered alert", sub.id(), e.toString());
            if (stopped.await(1, java.util.concurrent.TimeUnit.SECONDS)) {
              return;
            }
          }
        }
      } catch (WakeupException | InterruptedException e) {
        if (!stopping) {
          LOG.error("webhook {} stopped unexpectedly", sub.id(), e);
        }
      } finally {
        Thread.interrupted();
        consumer.close(Duration.ofSeconds(5));
      }
    }

    /** One poll's alerts, delivered and committed in order; false when stopping. */
    private boolean pollAndDeliver() {
      ConsumerRecords<String, Alert> records = consumer.poll(Duration.ofMillis(200));
      for (TopicPartition tp : records.partitions()) {
        for (ConsumerRecord<String, Alert> r : records.records(tp)) {
          if (r.value() != null && sub.wants(r.value()) && !deliver(r.value())) {
            return false;
          }
          try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(r.offset() + 1)));
          } catch (CommitFailedException | org.apache.kafka.common.errors.RebalanceInProgressException e) {
            // The partition moved (or is moving) to another instance, which goes on from the last commit.
            LOG.info("webhook {}: {} moved to another instance", sub.id(), tp);
            break;
          }
        }
      }
      return true;
    }

    /** Delivers {@code a}, retrying until it is accepted; false when stopping first. */
    private boolean deliver(Alert a) {
      String id = deliveryId(sub.id(), a.getAlertId());
      byte[] body;
      try {
        Map<String, Object> payload = new LinkedHashMap<>();
        payload.put("delivery_id", id);
        payload.put("subscription_id", sub.id());
        payload.put("alert", AlertLog.json(a));
        body = JSON.writeValueAsBytes(payload);
      } catch (java.io.IOException e) {
        throw new IllegalStateException(e);
      }
      HttpRequest request = HttpRequest.newBuilder(URI.create(sub.url())).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/json").header("User-Agent", "lineage-ledger-webhooks")
          .header(DELIVERY_HEADER, id).header("X-Ledger-Alert-Id", a.getAlertId()).header(SIGNATURE_HEADER, signature(sub.secret(), body))
          .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
      Duration backoff = FIRST_BACKOFF;
      long lastPoll = System.nanoTime();
      while (!stopping) {
        try {
          HttpResponse<Void> r = http.send(request, HttpResponse.BodyHandlers.discarding());
          if (r.statusCode() / 100 == 2) {
            delivered.incrementAndGet();
            lastDeliveredAt = Instant.now();
            retrying = null;
            return true;
          }
          lastError = sub.url() + " answered " + r.statusCode();
        } catch (java.io.IOException e) {
          lastError = sub.url() + " could not be reached: " + e;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        failed.incrementAndGet();
        retrying = a.getAlertId();
        LOG.warn("webhook {}: delivery {} of {} failed ({}); retrying in {} ms", sub.id(), id, a.getAlertId(), lastError,
            backoff.toMillis());
        try {
          if (stopped.await(backoff.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
            return false;
          }
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
        backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
        if (System.nanoTime() - lastPoll > Duration.ofMinutes(1).toNanos()) {
          keepMembership();
          lastPoll = System.nanoTime();
        }
      }
      return false;
    }

    /** Polls with every partition paused, so that a long outage of the receiver does not cost the group membership. */
    private void keepMembership() {
      consumer.pause(consumer.assignment());
      ConsumerRecords<String, Alert> got = consumer.poll(Duration.ZERO);
      // Partitions a rebalance in that poll assigned are not paused: give back what it fetched of them.
      for (TopicPartition tp : got.partitions()) {
        consumer.seek(tp, got.records(tp).get(0).offset());
      }
      consumer.resume(consumer.assignment());
    }
  }
}
