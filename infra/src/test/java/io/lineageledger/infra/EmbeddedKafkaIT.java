package io.lineageledger.infra;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

@Timeout(180)
class EmbeddedKafkaIT {

  @Test
  void brokerKeepsTopicsAndRecordsAcrossARestart(@TempDir Path dir) throws Exception {
    int port = FreePorts.next();
    int controllerPort = FreePorts.next();
    try (EmbeddedKafka kafka = EmbeddedKafka.builder(dir).port(port).controllerPort(controllerPort).build().start();
         Admin admin = admin(kafka)) {
      assertThat(LedgerTopics.ensure(admin, (short) 1))
          .containsExactlyInAnyOrder(LedgerTopics.EVENTS, LedgerTopics.ALERTS, LedgerTopics.DEAD_LETTERS, LedgerTopics.SCHEMAS,
              LedgerTopics.SPOOL_PROGRESS, LedgerTopics.LINEAGE_EDGES, LedgerTopics.SUBSCRIPTIONS);
      assertThat(LedgerTopics.ensure(admin, (short) 1)).isEmpty();
      try (KafkaProducer<String, String> producer = producer(kafka)) {
        for (int i = 0; i < 10; i++) {
          producer.send(new ProducerRecord<>(LedgerTopics.EVENTS, "run:r1", "event-" + i)).get();
        }
      }
    }

    try (EmbeddedKafka kafka = EmbeddedKafka.builder(dir).port(port).controllerPort(controllerPort).build().start();
         Admin admin = admin(kafka)) {
      var description = admin.describeTopics(List.of(LedgerTopics.EVENTS)).allTopicNames().get(30, TimeUnit.SECONDS);
      assertThat(description.get(LedgerTopics.EVENTS).partitions()).hasSize(LedgerTopics.EVENT_PARTITIONS);
      ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, LedgerTopics.EVENTS);
      Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
      assertThat(config.get("retention.ms").value()).isEqualTo("-1");
      for (String compacted : List.of(LedgerTopics.SCHEMAS, LedgerTopics.LINEAGE_EDGES, LedgerTopics.SUBSCRIPTIONS)) {
        ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, compacted);
        assertThat(admin.describeConfigs(List.of(topic)).all().get(30, TimeUnit.SECONDS).get(topic).get("cleanup.policy").value())
            .as(compacted).isEqualTo("compact");
      }

      List<String> values = new ArrayList<>();
      try (KafkaConsumer<String, String> consumer = consumer(kafka)) {
        consumer.subscribe(List.of(LedgerTopics.EVENTS));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (values.size() < 10 && System.nanoTime() < deadline) {
          for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(500))) {
            values.add(r.value());
          }
        }
      }
      assertThat(values).containsExactly("event-0", "event-1", "event-2", "event-3", "event-4",
          "event-5", "event-6", "event-7", "event-8", "event-9");
    }
  }

  static Admin admin(EmbeddedKafka kafka) {
    return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
  }

  static KafkaProducer<String, String> producer(EmbeddedKafka kafka) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
  }

  static KafkaConsumer<String, String> consumer(EmbeddedKafka kafka) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
    p.put(ConsumerConfig.GROUP_ID_CONFIG, "embedded-kafka-it");
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
  }
}
