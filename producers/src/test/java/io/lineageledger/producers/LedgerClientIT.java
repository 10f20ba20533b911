package io.lineageledger.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.infra.EmbeddedKafka;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(240)
class LedgerClientIT {
  @TempDir
  Path dir;
  final int port = FreePorts.next();
  final int controllerPort = FreePorts.next();
  final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
  EmbeddedKafka kafka;

  EmbeddedKafka startBroker() {
    kafka = EmbeddedKafka.builder(dir.resolve("kafka")).port(port).controllerPort(controllerPort).build().start();
    try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
      LedgerTopics.ensure(admin, (short) 1);
    }
    return kafka;
  }

  @AfterEach
  void stopBroker() {
    if (kafka != null) {
      kafka.close();
    }
  }

  static StepSummary step(long s) {
    return StepSummary.newBuilder().setStep(s).setLoss(2.0).setMetrics(Map.of()).build();
  }

  @Test
  void aBrokerOutageSpoolsEventsAndEveryOneArrivesOnceWhenItReturns() throws Exception {
    startBroker();
    String bootstrap = kafka.bootstrapServers();
    List<CompletableFuture<Receipt>> receipts = new ArrayList<>();
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(bootstrap).schemaRegistry(registry)
        .spool(dir.resolve("spool"), 64L << 20).maxBlock(Duration.ofMillis(300)).deliveryTimeout(Duration.ofSeconds(3))
        .retryInterval(Duration.ofMillis(500)).build()) {
      for (int i = 0; i < 50; i++) {
        receipts.add(client.stepSummary("outage", step(i)));
      }
      client.flush();
      assertThat(receipts).allSatisfy(r -> assertThat(r.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.PUBLISHED));

      kafka.close();
      kafka = null;
      for (int i = 50; i < 100; i++) {
        receipts.add(client.stepSummary("outage", step(i)));
      }
      for (CompletableFuture<Receipt> r : receipts.subList(50, 100)) {
        assertThat(r.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(Receipt.Outcome.SPOOLED);
      }
      assertThat(client.spooling()).isTrue();

      startBroker();
      await().atMost(Duration.ofSeconds(90)).until(() -> !client.spooling());
      for (int i = 100; i < 150; i++) {
        receipts.add(client.stepSummary("outage", step(i)));
      }
      client.flush();
      // A broker that has just come back may still be settling its partitions' leadership: a send
      // that cannot get metadata within max.block goes to the spool again, and is drained from it.
      assertThat(receipts.subList(100, 150)).allSatisfy(r -> assertThat(r.get(10, TimeUnit.SECONDS).outcome())
          .isIn(Receipt.Outcome.PUBLISHED, Receipt.Outcome.SPOOLED));
      await().atMost(Duration.ofSeconds(90)).until(() -> !client.spooling());
    }
    List<EventEnvelope> log = readAll(bootstrap);
    Map<String, Long> perEventId = log.stream().collect(Collectors.groupingBy(EventEnvelope::getEventId, Collectors.counting()));
    assertThat(perEventId).hasSize(150);
    assertThat(perEventId.values()).allMatch(n -> n == 1);
    assertThat(log).extracting(e -> ((StepSummary) e.getPayload()).getStep())
        .as("one subject, one partition: the history keeps its order across the outage")
        .containsExactlyElementsOf(java.util.stream.LongStream.range(0, 150).boxed().toList());
  }

  @Test
  void shippingACopiedSpoolTwicePublishesEachEventOnce() throws Exception {
    startBroker();
    Path original = dir.resolve("node-spool");
    try (Spool spool = Spool.open(original, 64L << 20)) {
      List<EventEnvelope> events = new ArrayList<>();
      for (int i = 0; i < 1200; i++) {
        events.add(SpoolTest.event(i));
      }
      spool.append(events);
    }
    Path copy = dir.resolve("copied-spool");
    copyDir(original, copy);

    Map<String, Object> config = new HashMap<>(Map.of("bootstrap.servers", kafka.bootstrapServers()));
    SpoolShipper shipper = new SpoolShipper(config, registry, LedgerTopics.EVENTS, Duration.ofSeconds(10));
    try (Spool a = Spool.open(original, 64L << 20); Spool b = Spool.open(copy, 64L << 20)) {
      assertThat(shipper.ship(a).published()).isEqualTo(1200);
      assertThat(shipper.ship(b).published()).isZero();
      SpoolDrain.Result again = shipper.ship(a);
      assertThat(again.published()).isZero();
      assertThat(again.lastShipped()).isEqualTo(1199);
    }
    List<EventEnvelope> log = readAll(kafka.bootstrapServers());
    assertThat(log).hasSize(1200);
    assertThat(log.stream().map(EventEnvelope::getEventId).distinct().count()).isEqualTo(1200);
  }

  private List<EventEnvelope> readAll(String bootstrap) {
    if (kafka == null) {
      startBroker();
    }
    Map<String, Object> c = new HashMap<>();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<EventEnvelope> out = new ArrayList<>();
    try (KafkaConsumer<String, EventEnvelope> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
        new LedgerAvroDeserializer<>(registry, EventEnvelope.class))) {
      List<TopicPartition> partitions = consumer.partitionsFor(LedgerTopics.EVENTS).stream()
          .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (System.nanoTime() < deadline && partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
        for (ConsumerRecord<String, EventEnvelope> r : consumer.poll(Duration.ofMillis(200))) {
          out.add(r.value());
        }
      }
    }
    return out;
  }

  private static void copyDir(Path from, Path to) throws Exception {
    Files.createDirectories(to);
    try (var files = Files.list(from)) {
      for (Path f : files.toList()) {
        Files.copy(f, to.resolve(f.getFileName()));
      }
    }
  }
}
