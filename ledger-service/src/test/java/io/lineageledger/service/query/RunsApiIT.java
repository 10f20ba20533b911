package io.lineageledger.service.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The run-state projection end to end: events through the real broker, answers over HTTP. */
@Timeout(300)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class RunsApiIT {
  static final ObjectMapper JSON = new ObjectMapper();
  final HttpClient http = HttpClient.newHttpClient();

  @TempDir
  static Path dir;

  LedgerNode node;
  LedgerClient client;

  @BeforeAll
  void start() {
    node = LedgerNode.start(new LedgerNode.Settings(dir, "localhost", FreePorts.next(), FreePorts.next(), 0, 0, null, null));
    client = LedgerClient.builder().bootstrapServers(node.bootstrapServers()).schemaRegistryUrl(node.schemaRegistryUrl())
        .producerIdentity("runs-api-it", "runs-api-it", "1").build();
  }

  @AfterAll
  void stop() {
    client.close();
    node.close();
  }

  static List<Object[]> scenario(String runId, int steps) {
    List<Object[]> events = new ArrayList<>(); // {subject, payload}
    String subject = "run:" + runId;
    events.add(new Object[] {subject, RunStarted.newBuilder().setRunId(runId).setExperiment("charlm")
        .setCode(CodeVersion.newBuilder().setRepo("git@example.com:lab/charlm").setCommit("abc123").setDirty(false).build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("node-1")
            .setHardware(Hardware.newBuilder().setCpu("x86").setCpuCount(2).build()).build())
        .setSeeds(Map.of("seed", 42L)).build()});
    events.add(new Object[] {subject, ConfigSnapshot.newBuilder().setParams(Map.of("lr", "0.003", "steps", String.valueOf(steps)))
        .setDigest("sha256:cfg1").setChangedKeys(List.of("lr", "steps")).build()});
    events.add(new Object[] {subject, DatasetBound.newBuilder().setRole("train").setDataset(DatasetVersionRef.newBuilder()
        .setName("corpus.train").setVersion("v1").setDigest("sha256:d1").build()).build()});
    for (long s = 1; s <= steps; s++) {
      events.add(new Object[] {subject, StepSummary.newBuilder().setStep(s).setStepsCovered(1).setLoss(4.0 - s * 0.01)
          .setMetrics(Map.of("lr", 0.003, "grad_norm", 1.0 + s % 3)).setTokensSeen(s * 64).build()});
      if (s % 20 == 0) {
        events.add(new Object[] {subject, CheckpointSaved.newBuilder().setStep(s).setUri("file:///ckpt/" + s)
            .setDigest("sha256:ck" + s).setSizeBytes(1000).setContents(CheckpointContents.newBuilder().setModel(true)
                .setOptimizer(true).setScheduler(true).setRng(true).setDataCursor(true).build()).build()});
      }
    }
    events.add(new Object[] {subject, EvaluationCompleted.newBuilder().setEvalId(runId + "-eval").setCheckpointDigest("sha256:ck" + steps)
        .setSuiteName("val").setSeed(7L).setMetrics(Map.of("val_loss", 2.5)).build()});
    events.add(new Object[] {subject, RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build()});
    return events;
  }

  List<EventEnvelope> publish(List<Object[]> events) throws Exception {
    List<EventEnvelope> sent = new ArrayList<>();
    for (Object[] e : events) {
      EventEnvelope envelope = client.envelope((String) e[0], e[1], null, null);
      client.publish(envelope).get(30, TimeUnit.SECONDS);
      sent.add(envelope);
    }
    return sent;
  }

  /** GET, retried while the API answers 503 with Retry-After (the projections are starting or rebalancing), as a client should. */
  HttpResponse<String> get(String path) throws Exception {
    @SuppressWarnings("unchecked")
    HttpResponse<String>[] last = new HttpResponse[1];
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200)).until(() -> {
      last[0] = http.send(HttpRequest.newBuilder(URI.create(node.apiUrl() + path)).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      if (last[0].statusCode() == 503) {
        assertThat(last[0].headers().firstValue("Retry-After")).isPresent();
        return false;
      }
      return true;
    });
    return last[0];
  }

  JsonNode json(String path) throws Exception {
    HttpResponse<String> r = get(path);
    assertThat(r.statusCode()).as(path + " answered " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** The live state once it has folded {@code events} events. */
  JsonNode liveAfter(String runId, int events) {
    JsonNode[] state = new JsonNode[1];
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(100)).ignoreExceptions().until(() -> {
      state[0] = json("/api/v1/runs/" + runId);
      return state[0].get("events").asInt() == events;
    });
    return state[0];
  }

  @Test
  void theStateRebuiltAtAStepEqualsTheLiveStateCapturedWhenItWasTheLatest() throws Exception {
    List<Object[]> all = scenario("r-replay", 60);
    int cut = 0; // up to and including step 40's summary and its checkpoint
    while (!(all.get(cut)[1] instanceof CheckpointSaved c && c.getStep() == 40)) {
      cut++;
    }
    publish(all.subList(0, cut + 1));
    JsonNode atStep40 = liveAfter("r-replay", cut + 1);
    assertThat(atStep40.get("latest_step").asLong()).isEqualTo(40);
    assertThat(atStep40.get("status").asText()).isEqualTo("RUNNING");

    List<EventEnvelope> rest = publish(all.subList(cut + 1, all.size()));
    JsonNode finished = liveAfter("r-replay", all.size());
    assertThat(finished.get("status").asText()).isEqualTo("COMPLETED");
    assertThat(finished.get("checkpoints")).hasSize(3);
    assertThat(finished.get("started").get("code").get("commit").asText()).isEqualTo("abc123");

    assertThat(json("/api/v1/runs/r-replay/state?step=40")).isEqualTo(atStep40);
    assertThat(json("/api/v1/runs/r-replay/state?at=" + rest.get(0).getOccurredAt().minusNanos(1000))).isEqualTo(atStep40);
    assertThat(json("/api/v1/runs/r-replay/state")).as("a full replay equals the live state").isEqualTo(finished);

    // The same events again (a spool shipped twice): nothing is counted twice.
    for (EventEnvelope e : rest.subList(0, 10)) {
      client.publish(e).get(30, TimeUnit.SECONDS);
    }
    EventEnvelope marker = publish(List.<Object[]>of(new Object[] {"run:r-replay", StepSummary.newBuilder().setStep(61)
        .setLoss(3.0).setMetrics(Map.of()).build()})).get(0);
    JsonNode after = liveAfter("r-replay", all.size() + 1);
    assertThat(after.get("latest_step").asLong()).isEqualTo(61);
    assertThat(marker.getEventId()).isNotBlank();
  }

  @Test
  void metricHistoryComesBackInStepOrderAndDownsampledOnRequest() throws Exception {
    List<Object[]> all = scenario("r-metrics", 100);
    publish(all);
    liveAfter("r-metrics", all.size());
    JsonNode loss = json("/api/v1/runs/r-metrics/metrics?name=loss");
    assertThat(loss.get("points")).hasSize(100);
    assertThat(loss.get("points").get(0).get("step").asLong()).isEqualTo(1);
    assertThat(loss.get("points").get(99).get("value").asDouble()).isEqualTo(3.0, org.assertj.core.data.Offset.offset(1e-9));
    JsonNode five = json("/api/v1/runs/r-metrics/metrics?name=grad_norm&points=5");
    assertThat(five.get("downsampled").asBoolean()).isTrue();
    assertThat(five.get("points")).hasSize(5);
    for (JsonNode p : five.get("points")) {
      assertThat(p.get("count").asInt()).isEqualTo(20);
      assertThat(p.get("min").asDouble()).isEqualTo(1.0);
      assertThat(p.get("max").asDouble()).isEqualTo(3.0);
    }
    assertThat(json("/api/v1/runs").get("runs").findValuesAsText("run_id")).contains("r-metrics");
  }

  HttpResponse<String> post(String path, String contentType, String body) throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(node.apiUrl() + path)).timeout(Duration.ofSeconds(60))
        .header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void eventsPostedOverHttpArePublishedItemByItemAndBadItemsAreNamed() throws Exception {
    String array = "[{\"type\":\"run_started\",\"run_id\":\"r-http\",\"experiment\":\"http\",\"event_id\":\"http-1\","
        + "\"code\":{\"commit\":\"abc\",\"dirty\":false},\"environment\":{\"os\":\"linux\",\"host\":\"h\",\"hardware\":{\"cpu\":\"x86\",\"cpu_count\":2}}},"
        + "{\"type\":\"step_summary\",\"run_id\":\"r-http\",\"loss\":2.5},"
        + "{\"type\":\"step_summary\",\"run_id\":\"r-http\",\"step\":1,\"loss\":2.5,\"event_id\":\"http-2\"},"
        + "{\"type\":\"teleport\",\"run_id\":\"r-http\"}]";
    HttpResponse<String> r = post("/api/v1/events", "application/json", array);
    assertThat(r.statusCode()).as(r.body()).isEqualTo(207);
    JsonNode body = JSON.readTree(r.body());
    assertThat(body.get("published").asInt()).as(r.body()).isEqualTo(2);
    assertThat(body.get("rejected").asInt()).isEqualTo(2);
    JsonNode items = body.get("items");
    assertThat(items.get(0).get("status").asText()).isEqualTo("published");
    assertThat(items.get(0).get("event_id").asText()).isEqualTo("http-1");
    assertThat(items.get(1).get("status").asText()).isEqualTo("rejected");
    assertThat(items.get(1).get("error").asText()).contains("step");
    assertThat(items.get(2).get("offset").asLong()).isNotNegative();
    assertThat(items.get(3).get("error").asText()).contains("teleport");

    // NDJSON, with one event already sent: all published, the repeat counted once by the projections.
    String ndjson = "{\"type\":\"step_summary\",\"run_id\":\"r-http\",\"step\":1,\"loss\":2.5,\"event_id\":\"http-2\"}\n\n"
        + "{\"type\":\"step_summary\",\"run_id\":\"r-http\",\"step\":2,\"loss\":2.4}\n";
    HttpResponse<String> again = post("/api/v1/events", "application/x-ndjson", ndjson);
    assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
    assertThat(JSON.readTree(again.body()).get("published").asInt()).isEqualTo(2);
    JsonNode state = liveAfter("r-http", 3);
    assertThat(state.get("latest_step").asLong()).isEqualTo(2);

    // The log as written, duplicate included, in order, as JSON.
    JsonNode log = json("/api/v1/events?subject=run:r-http");
    assertThat(log.get("count").asInt()).isEqualTo(4);
    assertThat(log.get("truncated").asBoolean()).isFalse();
    assertThat(log.get("events").findValuesAsText("type")).containsExactly("run_started", "step_summary", "step_summary", "step_summary");
    assertThat(log.get("events").findValuesAsText("event_id").subList(0, 3)).containsExactly("http-1", "http-2", "http-2");
    assertThat(log.get("events").get(3).at("/payload/step").asLong()).isEqualTo(2);
    assertThat(log.get("events").get(0).at("/payload/experiment").asText()).isEqualTo("http");
    assertThat(json("/api/v1/events?subject=run:r-http&limit=1").get("truncated").asBoolean()).isTrue();
    assertThat(get("/api/v1/events").body()).contains("?subject= is required");
    assertThat(get("/api/v1/events?subject=run:r-http&limit=0").statusCode()).isEqualTo(400);

    HttpResponse<String> none = post("/api/v1/events", "application/json", "[{\"type\":\"step_summary\"}]");
    assertThat(none.statusCode()).isEqualTo(400);
    assertThat(JSON.readTree(none.body()).get("items").get(0).get("status").asText()).isEqualTo("rejected");
    HttpResponse<String> empty = post("/api/v1/events", "application/json", "  ");
    assertThat(empty.statusCode()).isEqualTo(400);
    assertThat(empty.body()).contains("no events");
    assertThat(post("/api/v1/events", "application/json", "[{\"type\": ").body()).contains("not a JSON array");
  }

  @Test
  void badQueriesGetTypedJsonErrors() throws Exception {
    HttpResponse<String> missing = get("/api/v1/runs/no-such-run");
    assertThat(missing.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(missing.body()).get("error").asText()).isEqualTo("not_found");
    assertThat(JSON.readTree(missing.body()).get("message").asText()).contains("no-such-run");
    HttpResponse<String> badStep = get("/api/v1/runs/r-metrics/state?step=ten");
    assertThat(badStep.statusCode()).isEqualTo(400);
    assertThat(badStep.body()).contains("?step= must be a step number");
    HttpResponse<String> noName = get("/api/v1/runs/r-metrics/metrics");
    assertThat(noName.statusCode()).isEqualTo(400);
    assertThat(get("/api/v1/runs/no-such-run/state?step=3").statusCode()).isEqualTo(404);

    HttpResponse<String> unknownNode = get("/api/v1/lineage/dataset:never-seen@v9");
    assertThat(unknownNode.statusCode()).isEqualTo(404);
    assertThat(unknownNode.body()).contains("dataset:never-seen@v9");
    HttpResponse<String> notANode = get("/api/v1/lineage/widget:7");
    assertThat(notANode.statusCode()).isEqualTo(400);
    assertThat(notANode.body()).contains("'widget:7' is not a node id", "model:NAME/VERSION");
    assertThat(get("/api/v1/lineage/model:charlm").body()).contains("a model node names a version");
    assertThat(get("/api/v1/lineage/run:r-metrics?direction=sideways").body()).contains("?direction= must be upstream, downstream or both");
    assertThat(get("/api/v1/lineage/run:r-metrics?depth=101").statusCode()).isEqualTo(400);
  }

  @Test
  void aPoisonRecordLandsInTheDeadLetterTopicWithItsReasonAndProjectionGoesOn() throws Exception {
    List<Object[]> all = scenario("r-poison", 5);
    publish(all.subList(0, 3));
    Properties p = new Properties();
    p.put("bootstrap.servers", node.bootstrapServers());
    try (KafkaProducer<String, byte[]> raw = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer())) {
      raw.send(new ProducerRecord<>(LedgerTopics.EVENTS, "run:r-poison", "{\"not\": \"avro\"}".getBytes(StandardCharsets.UTF_8))).get();
    }
    publish(all.subList(3, all.size()));
    JsonNode state = liveAfter("r-poison", all.size());
    assertThat(state.get("status").asText()).isEqualTo("COMPLETED");

    Properties c = new Properties();
    c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, node.bootstrapServers());
    c.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + System.nanoTime());
    c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
    c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
    List<ConsumerRecord<byte[], byte[]>> dead = new ArrayList<>();
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.subscribe(List.of(LedgerTopics.DEAD_LETTERS));
      await().atMost(Duration.ofSeconds(60)).until(() -> {
        consumer.poll(Duration.ofMillis(200)).forEach(dead::add);
        return dead.stream().anyMatch(r -> new String(r.value(), StandardCharsets.UTF_8).contains("not"));
      });
    }
    ConsumerRecord<byte[], byte[]> poison = dead.stream().filter(r -> new String(r.value(), StandardCharsets.UTF_8).contains("not")).findFirst().orElseThrow();
    assertThat(new String(poison.key(), StandardCharsets.UTF_8)).isEqualTo("run:r-poison");
    Header message = poison.headers().lastHeader("__streams.errors.message");
    assertThat(message).as("the reason travels with the record").isNotNull();
    assertThat(new String(message.value(), StandardCharsets.UTF_8)).containsIgnoringCase("magic byte");
  }

  String cli(String... args) {
    java.io.StringWriter out = new java.io.StringWriter();
    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cmd = io.lineageledger.service.cli.LedgerCli.commandLine();
    cmd.setOut(new java.io.PrintWriter(out));
    cmd.setErr(new java.io.PrintWriter(err));
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--api-url", node.apiUrl()));
    int exit = cmd.execute(all.toArray(String[]::new));
    assertThat(exit).as("ledger " + String.join(" ", args) + ": " + err).isZero();
    return out.toString();
  }

  @Test
  void theCliListsRunsAndShowsAStateAsOfAStep() throws Exception {
    List<Object[]> all = scenario("r-cli", 30);
    publish(all);
    liveAfter("r-cli", all.size());
    assertThat(cli("runs")).containsPattern("r-cli\\s+charlm\\s+COMPLETED\\s+30");
    JsonNode json = JSON.readTree(cli("state", "r-cli", "--at-step", "10", "--output", "json"));
    assertThat(json).isEqualTo(json("/api/v1/runs/r-cli/state?step=10"));
    assertThat(json.get("latest_step").asLong()).isEqualTo(10);
    String table = cli("state", "r-cli");
    assertThat(table).contains("status", "COMPLETED", "abc123", "corpus.train@v1  sha256:d1", "checkpoint @20", "sha256:ck20");

    java.io.StringWriter err = new java.io.StringWriter();
    picocli.CommandLine cmd = io.lineageledger.service.cli.LedgerCli.commandLine();
    cmd.setErr(new java.io.PrintWriter(err));
    assertThat(cmd.execute("state", "nope", "--api-url", node.apiUrl())).isEqualTo(1);
    assertThat(err.toString()).contains("no run 'nope'");
    assertThat(cmd.execute("state", "r-cli", "--at-step", "3", "--at", "2026-01-01T00:00:00Z", "--api-url", node.apiUrl()))
        .as("--at-step and --at exclude each other").isEqualTo(2);
  }

  @Test
  void aRebuildFromOffsetZeroAnswersExactlyAsTheLiveStoresDid() throws Exception {
    List<Object[]> all = scenario("r-rebuild", 40);
    publish(all);
    liveAfter("r-rebuild", all.size());
    List<String> ids = json("/api/v1/runs").get("runs").findValuesAsText("run_id");
    Map<String, JsonNode> before = new java.util.TreeMap<>();
    for (String id : ids) {
      before.put(id, json("/api/v1/runs/" + id));
    }
    JsonNode lossBefore = json("/api/v1/runs/r-rebuild/metrics?name=loss");
    // The global lineage store follows the edges topic a moment behind the run-state store.
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
        assertThat(json("/api/v1/lineage/run:r-rebuild?direction=both&depth=5").get("nodes").findValuesAsText("id")).contains(
            "code:git@example.com:lab/charlm@abc123", "config:sha256:cfg1", "dataset:corpus.train@v1", "checkpoint:sha256:ck40", "eval:r-rebuild-eval"));
    JsonNode lineageBefore = json("/api/v1/lineage/run:r-rebuild?direction=both&depth=5");

    String printed = cli("rebuild");
    assertThat(printed).containsPattern("Rebuilt every projection from [\\d,]+ events in");
    JsonNode status = json("/api/v1/rebuild");
    assertThat(status.get("state").asText()).isEqualTo("DONE");
    assertThat(status.get("application_id").asText()).startsWith("ledger-projections-rebuild-");
    assertThat(status.get("consumed").asLong()).isEqualTo(status.get("total").asLong()).isPositive();

    Map<String, JsonNode> after = new java.util.TreeMap<>();
    for (String id : ids) {
      after.put(id, json("/api/v1/runs/" + id));
    }
    assertThat(after).isEqualTo(before);
    assertThat(json("/api/v1/runs/r-rebuild/metrics?name=loss")).isEqualTo(lossBefore);
    assertThat(json("/api/v1/lineage/run:r-rebuild?direction=both&depth=5")).isEqualTo(lineageBefore);
    assertThat(java.nio.file.Files.readString(dir.resolve("streams/application-id")).trim())
        .as("a restart serves from the rebuilt stores").isEqualTo(status.get("application_id").asText());
  }
}
