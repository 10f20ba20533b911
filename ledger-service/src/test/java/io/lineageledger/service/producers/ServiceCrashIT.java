package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.service.LedgerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The service killed with SIGKILL while 100,000 events stream in, then started again on the
 * same state directory: once it has caught up, every run counts each of its events once (a
 * re-shipped batch included), and every answer equals the one a clean {@code ledger rebuild}
 * gives. The broker and registry live in this JVM; the service is its own process, as in
 * production.
 */
@Timeout(600)
class ServiceCrashIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int RUNS = 40;
  static final int PER_RUN = 2_500; // RunStarted, 2,498 step summaries, RunFinished

  @TempDir
  Path dir;

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void afterAKillDashNineMidIngestTheRestartedServiceAnswersAsACleanRebuildAndCountsNothingTwice() throws Exception {
    int httpPort = FreePorts.next();
    String api = "http://localhost:" + httpPort;
    try (LedgerNode broker = LedgerNode.start(new LedgerNode.Settings(dir.resolve("broker"), "localhost", FreePorts.next(), FreePorts.next(),
        0, 0, null, null, false))) {
      Map<String, String> env = Map.of("LEDGER_BOOTSTRAP_SERVERS", broker.bootstrapServers(), "LEDGER_SCHEMA_REGISTRY_URL",
          broker.schemaRegistryUrl(), "LEDGER_HTTP_PORT", String.valueOf(httpPort), "LEDGER_DATA_DIR", dir.resolve("service").toString(),
          "LEDGER_API_URL", api);
      Process service = LedgerCliProcess.start(dir, env, "up-1", List.of("up"));
      awaitAnswering(api, service, "up-1");

      List<EventEnvelope> sent = new ArrayList<>();
      try (LedgerClient client = LedgerClient.builder().bootstrapServers(broker.bootstrapServers())
          .schemaRegistryUrl(broker.schemaRegistryUrl()).producerIdentity("crash-it", "crash-it", "1").build()) {
        List<EventEnvelope> events = scenario(client);
        // About 25,000 events/s, so the service is mid-stream when it is killed.
        CompletableFuture<Void> ingest = CompletableFuture.runAsync(() -> {
          long start = System.nanoTime();
          for (int i = 0; i < events.size(); i++) {
            long wait = start + i * 40_000L - System.nanoTime();
            if (wait > 0) {
              LockSupport.parkNanos(wait);
            }
            client.publish(events.get(i));
          }
          client.flush();
        });
        sent.addAll(events);
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(50)).until(() -> totalEvents(api) >= 1_000);
        long counted = totalEvents(api);
        service.destroyForcibly(); // SIGKILL
        assertThat(service.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(service.exitValue()).isEqualTo(137);
        assertThat(ingest).as("the kill came while events were still arriving").isNotDone();
        assertThat(counted).as("the service had projected part of the stream when it was killed").isLessThan(RUNS * PER_RUN);

        service = LedgerCliProcess.start(dir, env, "up-2", List.of("up"));
        ingest.get(120, TimeUnit.SECONDS);
        // A spool shipped twice: the same 5,000 envelopes (same event ids) once more.
        for (EventEnvelope e : events.subList(0, 5_000)) {
          client.publish(e);
        }
        client.flush();
        assertThat(client.stats().failed()).isZero();
        assertThat(client.stats().spooled()).isZero();
      }
      try {
        awaitAnswering(api, service, "up-2");
        await().atMost(Duration.ofSeconds(180)).pollInterval(Duration.ofMillis(250)).until(() -> totalEvents(api) >= (long) RUNS * PER_RUN);
        // Every record in the log, the re-shipped batch included, has been consumed and committed.
        try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()))) {
          String group = io.lineageledger.service.query.LedgerStreams.DEFAULT_APPLICATION_ID; // no rebuild has run yet
          await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> lag(admin, group) == 0);
        }
        JsonNode runs = get(api, "/api/v1/runs").get("runs");
        assertThat(runs).hasSize(RUNS);
        for (JsonNode r : runs) {
          assertThat(r.get("events").asLong()).as(r.toString()).isEqualTo(PER_RUN);
          assertThat(r.get("latest_step").asLong()).isEqualTo(PER_RUN - 2);
          assertThat(r.get("status").asText()).isEqualTo("COMPLETED");
        }
        Map<String, JsonNode> live = answers(api);

        LedgerCliProcess.Result rebuild = LedgerCliProcess.run(dir, env, "rebuild", "rebuild");
        assertThat(rebuild.exitCode()).as(rebuild.stderr()).isZero();
        assertThat(answers(api)).isEqualTo(live);
      } finally {
        service.destroy();
        service.waitFor(60, TimeUnit.SECONDS);
      }
    }
  }

  static List<EventEnvelope> scenario(LedgerClient client) {
    List<EventEnvelope> events = new ArrayList<>(RUNS * PER_RUN);
    for (int step = 0; step <= PER_RUN - 2; step++) {
      for (int r = 0; r < RUNS; r++) {
        String run = "crash-" + r;
        Object payload = step == 0
            ? RunStarted.newBuilder().setRunId(run).setExperiment("crash").setSeeds(Map.of("seed", (long) r))
                .setCode(CodeVersion.newBuilder().setRepo("git@example.com:lab/crash").setCommit("c0ffee").setDirty(false).build())
                .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("node-" + r)
                    .setHardware(Hardware.newBuilder().setCpu("x86").setCpuCount(2).build()).build()).build()
            : StepSummary.newBuilder().setStep(step).setLoss(4.0 / (1 + step * 0.01 + r)).setMetrics(Map.of("lr", 0.001)).build();
        events.add(client.envelope("run:" + run, payload, null, null));
      }
    }
    for (int r = 0; r < RUNS; r++) {
      events.add(client.envelope("run:crash-" + r, RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build(), null, null));
    }
    return events;
  }

  /** Every run's state and loss history, keyed by path. */
  Map<String, JsonNode> answers(String api) throws Exception {
    Map<String, JsonNode> all = new TreeMap<>();
    all.put("/api/v1/runs", get(api, "/api/v1/runs"));
    for (int r = 0; r < RUNS; r++) {
      all.put("/api/v1/runs/crash-" + r, get(api, "/api/v1/runs/crash-" + r));
      all.put("/api/v1/runs/crash-" + r + "/metrics?name=loss", get(api, "/api/v1/runs/crash-" + r + "/metrics?name=loss"));
    }
    return all;
  }

  long totalEvents(String api) throws Exception {
    long sum = 0;
    for (JsonNode r : get(api, "/api/v1/runs").get("runs")) {
      sum += r.get("events").asLong();
    }
    return sum;
  }

  /** Records of ledger.events not yet committed by the projections' group. */
  static long lag(Admin admin, String group) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
    Map<TopicPartition, OffsetSpec> latest = new java.util.HashMap<>();
    for (int p = 0; p < LedgerTopics.EVENT_PARTITIONS; p++) {
      latest.put(new TopicPartition(LedgerTopics.EVENTS, p), OffsetSpec.latest());
    }
    long lag = 0;
    for (var e : admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet()) {
      OffsetAndMetadata c = committed.get(e.getKey());
      lag += e.getValue().offset() - (c == null ? 0 : c.offset());
    }
    return lag;
  }

  /** GET, retried while the service answers 503 (starting, restoring, rebalancing). */
  JsonNode get(String api, String path) throws Exception {
    HttpResponse<String>[] last = new HttpResponse[1];
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() -> {
      last[0] = http.send(HttpRequest.newBuilder(URI.create(api + path)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      return last[0].statusCode() != 503;
    });
    assertThat(last[0].statusCode()).as("%s answered %s", path, last[0].body()).isEqualTo(200);
    return JSON.readTree(last[0].body());
  }

  void awaitAnswering(String api, Process service, String name) {
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).until(() -> {
      assertThat(service.isAlive()).as("the service exited: %s", Files.readString(dir.resolve(name + ".err"))).isTrue();
      try {
        get(api, "/api/v1/runs");
        return true;
      } catch (java.io.IOException e) {
        return false; // not listening yet
      }
    });
  }
}
