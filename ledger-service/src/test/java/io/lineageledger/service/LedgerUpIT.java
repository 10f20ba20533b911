package io.lineageledger.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.StepSummary;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import io.lineageledger.schemas.serde.SerdeConfig;
import io.lineageledger.schemas.serde.WireFormat;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ledger up} as a user runs it: the shaded jar in its own process, stopped with Ctrl-C
 * (SIGINT) and started again on the same data directory.
 */
@Timeout(300)
class LedgerUpIT {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();
  final int kafkaPort = FreePorts.next();
  final int controllerPort = FreePorts.next();
  final int registryPort = FreePorts.next();
  final int httpPort = FreePorts.next();
  final String bootstrap = "localhost:" + kafkaPort;
  final String registryUrl = "http://localhost:" + registryPort;
  @TempDir
  Path dir;
  Process ledger;

  @AfterEach
  void stop() throws InterruptedException {
    if (ledger != null && ledger.isAlive()) {
      ledger.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void eventsAndSchemasSurviveCtrlCAndRestart() throws Exception {
    Path log = dir.resolve("ledger-1.log");
    ledger = startLedger(log);
    JsonNode health = awaitHealthy(log);
    assertThat(health.at("/components/kafka/embedded").asBoolean()).isTrue();
    assertThat(Files.readString(log)).contains("Kafka            " + bootstrap, "Schema registry  " + registryUrl,
        "Ledger API       http://localhost:" + httpPort + "/api/v1/health");

    EventEnvelope sent = envelope();
    RecordMetadata written;
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
    p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, LedgerAvroSerializer.class.getName());
    p.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
    try (KafkaProducer<String, EventEnvelope> producer = new KafkaProducer<>(p)) {
      written = producer.send(new ProducerRecord<>(LedgerTopics.EVENTS, sent.getSubject(), sent)).get(60, TimeUnit.SECONDS);
    }
    EventEnvelope read = readBack(written);
    assertThat(read).isEqualTo(sent);
    int schemaId = schemaIdOf(written);
    String schemaBefore = get(registryUrl + "/schemas/ids/" + schemaId).body();
    assertThat(JSON.readTree(schemaBefore).get("schema").asText()).contains("EventEnvelope");

    interruptAndAwaitExit(log);

    Path log2 = dir.resolve("ledger-2.log");
    ledger = startLedger(log2);
    awaitHealthy(log2);
    assertThat(readBack(written)).isEqualTo(sent);
    assertThat(get(registryUrl + "/schemas/ids/" + schemaId).body()).isEqualTo(schemaBefore);
    String body = JSON.writeValueAsString(Map.of("schema", EventEnvelope.SCHEMA$.toString()));
    HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create(registryUrl + "/subjects/ledger.events-value/versions"))
        .header("Content-Type", "application/vnd.schemaregistry.v1+json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(JSON.readTree(again.body()).get("id").asInt()).isEqualTo(schemaId);
    interruptAndAwaitExit(log2);
  }

  private Process startLedger(Path log) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(java, "-Xmx1g", "-jar", Path.of("target", "ledger.jar").toAbsolutePath().toString(), "up",
        "--data-dir", dir.resolve("data").toString(), "--kafka-port", String.valueOf(kafkaPort),
        "--controller-port", String.valueOf(controllerPort), "--registry-port", String.valueOf(registryPort),
        "--http-port", String.valueOf(httpPort))
        .redirectErrorStream(true).redirectOutput(log.toFile()).start();
  }

  private JsonNode awaitHealthy(Path log) {
    JsonNode[] health = new JsonNode[1];
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
      assertThat(ledger.isAlive()).as("ledger process alive; log:%n%s", Files.readString(log)).isTrue();
      HttpResponse<String> r = get("http://localhost:" + httpPort + "/api/v1/health");
      assertThat(r.statusCode()).isEqualTo(200);
      health[0] = JSON.readTree(r.body());
      assertThat(health[0].get("status").asText()).isEqualTo("UP");
    });
    return health[0];
  }

  private void interruptAndAwaitExit(Path log) throws Exception {
    new ProcessBuilder("kill", "-INT", String.valueOf(ledger.pid())).inheritIO().start().waitFor();
    assertThat(ledger.waitFor(60, TimeUnit.SECONDS)).as("ledger stops within 60 s of Ctrl-C").isTrue();
    assertThat(Files.readString(log)).contains("Stopping the ledger...", "Stopped.");
  }

  private EventEnvelope readBack(RecordMetadata written) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "ledger-up-it-" + UUID.randomUUID());
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
    c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, LedgerAvroDeserializer.class.getName());
    c.put(SerdeConfig.SCHEMA_REGISTRY_URL, registryUrl);
    c.put(SerdeConfig.SPECIFIC_VALUE_TYPE, EventEnvelope.class.getName());
    List<EventEnvelope> seen = new ArrayList<>();
    try (KafkaConsumer<String, EventEnvelope> consumer = new KafkaConsumer<>(c)) {
      consumer.subscribe(List.of(LedgerTopics.EVENTS));
      long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
      while (seen.isEmpty() && System.nanoTime() < deadline) {
        for (ConsumerRecord<String, EventEnvelope> r : consumer.poll(Duration.ofMillis(500))) {
          if (r.partition() == written.partition() && r.offset() == written.offset()) {
            seen.add(r.value());
          }
        }
      }
    }
    assertThat(seen).as("the record at %s-%d offset %d", LedgerTopics.EVENTS, written.partition(), written.offset()).hasSize(1);
    return seen.get(0);
  }

  private int schemaIdOf(RecordMetadata written) {
    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      var tp = new org.apache.kafka.common.TopicPartition(LedgerTopics.EVENTS, written.partition());
      consumer.assign(List.of(tp));
      consumer.seek(tp, written.offset());
      long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
      while (System.nanoTime() < deadline) {
        for (var r : consumer.poll(Duration.ofMillis(500))) {
          return WireFormat.schemaId(r.value(), r.topic());
        }
      }
    }
    throw new AssertionError("record not found");
  }

  private HttpResponse<String> get(String url) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
  }

  static EventEnvelope envelope() {
    return EventEnvelope.newBuilder()
        .setEventId(UUID.randomUUID().toString())
        .setOccurredAt(Instant.parse("2026-11-20T10:00:00.000001Z"))
        .setSubject("run:ledger-up-it")
        .setProducer(ProducerInfo.newBuilder().setId("it").setName("ledger-up-it").setVersion("1").setHost("localhost").setSeq(0).build())
        .setPayload(StepSummary.newBuilder().setStep(100).setLoss(2.25).setMetrics(Map.of("lr", 0.001)).build())
        .build();
  }
}
