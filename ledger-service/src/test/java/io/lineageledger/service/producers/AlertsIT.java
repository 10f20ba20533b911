package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.producers.Digests;
import io.lineageledger.projections.detect.DetectorSettings;
import io.lineageledger.service.alerts.WebhookDispatcher;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Alerts end to end against the real broker: the reference trainer under {@code ledger run}
 * raising regression and health alerts, delivered over server-sent events and signed webhooks,
 * through a receiver outage and a service restart.
 */
@Timeout(900)
class AlertsIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpClient HTTP = HttpClient.newHttpClient();
  static final String SECRET = "a-webhook-secret-of-some-length";
  static final Duration SILENT_AFTER = Duration.ofSeconds(4);

  @TempDir
  static Path dir;
  static LedgerCluster cluster;
  static Path trainer;

  @BeforeAll
  static void start() throws Exception {
    trainer = TrainerBuild.binary();
    cluster = new LedgerCluster(dir.resolve("ledger"), DetectorSettings.DEFAULTS.withSilentAfter(SILENT_AFTER)).start();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  // --- the scenarios -------------------------------------------------------------------------

  @Test
  void aMuchHigherLearningRateRaisesARegressionThatReachesStreamAndWebhookWithinTwoSecondsSigned() throws Exception {
    try (Receiver receiver = Receiver.start(FreePorts.next());
         SseClient sse = SseClient.open("/api/v1/alerts/stream?model=reg-model&kind=METRIC_REGRESSION", null)) {
      subscribe(receiver, Map.of("model", "reg-model", "kind", "METRIC_REGRESSION"));
      Process follower = LedgerCliProcess.start(dir, cluster.env(), "alerts-follow",
          List.of("alerts", "--follow", "--output", "json", "--model", "reg-model", "--kind", "METRIC_REGRESSION"));
      train("reg-base", List.of("--steps", "300", "--register-model", "reg-model"));
      awaitEvaluation("reg-base");
      LedgerCliProcess.Result set = LedgerCliProcess.run(dir, cluster.env(), "baseline-set", "baseline", "set", "reg-model", "--run", "reg-base",
          "--threshold", "val_loss:2%", "--threshold", "accuracy:0.01");
      assertThat(set.exitCode()).as(set.stderr()).isZero();
      assertThat(set.stdout()).contains("Baseline of model:reg-model: run reg-base's latest evaluation", "val_loss", "lower_is_better");
      JsonNode designated = json("/api/v1/baselines/model:reg-model");
      assertThat(designated.path("run_id").asText()).isEqualTo("reg-base");
      assertThat(designated.path("rules").findValuesAsText("metric")).containsExactly("val_loss", "accuracy");
      LedgerCliProcess.Result bad = LedgerCliProcess.run(dir, cluster.env(), "baseline-bad", "baseline", "set", "reg-model", "--run", "reg-base",
          "--threshold", "val_loss");
      assertThat(bad.exitCode()).isEqualTo(2);
      assertThat(bad.stderr()).contains("--threshold takes METRIC:DROP");

      // The same configuration again: within every threshold, nothing is raised, and the checks say why.
      train("reg-same", List.of("--steps", "300", "--register-model", "reg-model"));
      await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> json("/api/v1/runs/reg-same/checks").path("checks").size() == 2);
      for (JsonNode check : json("/api/v1/runs/reg-same/checks").path("checks")) {
        assertThat(check.path("verdict").asText()).isEqualTo("OK");
        assertThat(check.path("reason").asText()).contains("no worse than the baseline");
      }

      train("reg-hot", List.of("--steps", "300", "--lr", "0.06", "--register-model", "reg-model"));
      await().atMost(Duration.ofSeconds(30)).until(() -> sse.events().size() >= 2 && receiver.deliveries().size() >= 2);
      Instant evaluated = occurredAt("run:reg-hot", "evaluation_completed");
      System.out.printf("regression alert after the evaluation: SSE %s, webhook %s%n",
          sse.events().stream().map(e -> Duration.between(evaluated, e.receivedAt()).toMillis() + " ms").toList(),
          receiver.deliveries().stream().map(d -> Duration.between(evaluated, d.receivedAt()).toMillis() + " ms").toList());
      for (SseClient.Event e : sse.events()) {
        assertThat(e.data().path("run_id").asText()).isEqualTo("reg-hot");
        assertThat(Duration.between(evaluated, e.receivedAt())).as("SSE latency after the evaluation").isLessThanOrEqualTo(Duration.ofSeconds(2));
      }
      assertThat(sse.events().stream().map(e -> e.data().path("details").path("metric").asText())).containsExactlyInAnyOrder("val_loss", "accuracy");
      JsonNode valLoss = sse.events().stream().map(SseClient.Event::data).filter(d -> d.path("details").path("metric").asText().equals("val_loss"))
          .findFirst().orElseThrow();
      assertThat(valLoss.path("details").path("p_value").asDouble()).isLessThan(0.05);
      assertThat(valLoss.path("details").path("baseline_run").asText()).isEqualTo("reg-base");
      assertThat(valLoss.path("evidence_event_ids")).hasSize(3);
      for (Receiver.Delivery d : receiver.deliveries()) {
        assertThat(d.signature()).isEqualTo(WebhookDispatcher.signature(SECRET, d.body()));
        assertThat(Duration.between(evaluated, d.receivedAt())).as("webhook latency after the evaluation").isLessThanOrEqualTo(Duration.ofSeconds(2));
        assertThat(d.json().path("alert").path("run_id").asText()).isEqualTo("reg-hot");
      }
      // One alert per regressed metric, none for reg-same, and no more for 2 s.
      await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(5)).until(() -> alerts("kind=METRIC_REGRESSION&model=reg-model").size() == 2);
      // ledger alerts --follow printed both, one JSON object per line, as they were raised.
      await().atMost(Duration.ofSeconds(30)).until(() -> Files.readAllLines(dir.resolve("alerts-follow.out")).size() >= 2);
      follower.destroy();
      List<String> followed = Files.readAllLines(dir.resolve("alerts-follow.out"));
      assertThat(followed).hasSize(2).allSatisfy(line -> assertThat(JSON.readTree(line).path("run_id").asText()).isEqualTo("reg-hot"));
    }
  }

  @Test
  void eachHealthConditionIsRaisedExactlyOnce() throws Exception {
    train("nan-run", List.of("--steps", "200", "--nan-at-step", "55"));
    train("cliff-base", List.of("--steps", "300", "--checkpoint-every", "50"));
    Path checkpoint = dir.resolve("out-cliff-base").resolve("ckpt-00000150.bin");
    String digest = Digests.sha256(Files.readAllBytes(checkpoint));
    train("resumed-ok", List.of("--steps", "300", "--resume", checkpoint.toString()), "--resumed-from", digest);
    train("resumed-lost", List.of("--steps", "300", "--resume", checkpoint.toString(), "--resume-without-optimizer-state"),
        "--resumed-from", digest);
    for (String digestOf : List.of("sha256:" + "a".repeat(64), "sha256:" + "b".repeat(64), "sha256:" + "a".repeat(64))) {
      postEvents(dataTransform("reregistered", digestOf));
    }
    // A run whose sidecar and trainer are killed: no RunFinished, then silence.
    Process killed = LedgerCliProcess.start(dir, cluster.env(), "run-killed", List.of("run", "--run-id", "killed-run", "--experiment", "alerts",
        "--spool-dir", dir.resolve("spool").toString(), "--", trainer.toString(), "--steps", "10000000", "--log-every", "10",
        "--out", dir.resolve("out-killed").toString()));
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> json("/api/v1/runs/killed-run").path("latest_step").asLong() > 0);
    killed.descendants().forEach(ProcessHandle::destroyForcibly);
    killed.destroyForcibly().waitFor(10, TimeUnit.SECONDS);

    await().atMost(Duration.ofSeconds(60)).until(() -> alerts("run=nan-run&kind=NON_FINITE_LOSS").size() == 1
        && alerts("run=resumed-lost&kind=LOSS_CLIFF_AFTER_RESUME").size() == 1
        && alerts("kind=DATASET_DIGEST_CONFLICT").stream().anyMatch(a -> a.path("details").path("dataset").asText().equals("reregistered@v1"))
        && alerts("run=killed-run&kind=RUN_SILENT").size() == 1);
    // Long enough for any repeat to show, a silence included.
    await().during(SILENT_AFTER.multipliedBy(2)).atMost(SILENT_AFTER.multipliedBy(3)).until(() -> alerts("run=nan-run").size() == 1
        && alerts("run=killed-run&kind=RUN_SILENT").size() == 1 && alerts("run=resumed-lost&kind=LOSS_CLIFF_AFTER_RESUME").size() == 1);
    assertThat(alerts("run=nan-run")).extracting(a -> a.path("kind").asText()).containsExactly("NON_FINITE_LOSS");
    assertThat(alerts("run=resumed-lost&kind=LOSS_CLIFF_AFTER_RESUME")).hasSize(1);
    JsonNode cliff = alerts("run=resumed-lost&kind=LOSS_CLIFF_AFTER_RESUME").get(0);
    assertThat(cliff.path("message").asText()).contains("optimizer state was likely not restored");
    assertThat(alerts("run=resumed-ok&kind=LOSS_CLIFF_AFTER_RESUME")).as("a resume with its optimizer state").isEmpty();
    assertThat(alerts("kind=DATASET_DIGEST_CONFLICT").stream().filter(a -> a.path("details").path("dataset").asText().equals("reregistered@v1")))
        .hasSize(1);
    assertThat(alerts("run=killed-run&kind=RUN_SILENT")).hasSize(1);
    for (String finished : List.of("nan-run", "cliff-base", "resumed-ok", "resumed-lost")) {
      assertThat(alerts("run=" + finished + "&kind=RUN_SILENT")).as("%s finished", finished).isEmpty();
    }
  }

  @Test
  void aDropBeyondTheThresholdThatIsNotSignificantRaisesNothingAndItsCheckSaysWhy() throws Exception {
    postEvents(runStarted("noisy-base", "noisy"), evaluation("noisy-base", "noisy-eval-base", 0.80, 0.30),
        runStarted("noisy-cand", "noisy"));
    post("/api/v1/baselines", "{\"experiment\":\"noisy\",\"run\":\"noisy-base\",\"rules\":["
        + "{\"metric\":\"score\",\"max_absolute_drop\":0.01,\"significance_level\":0.05}]}", 201);
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> json("/api/v1/baselines/experiment:noisy").path("run_id").asText().equals("noisy-base"));
    postEvents(evaluation("noisy-cand", "noisy-eval-cand", 0.75, 0.30));
    await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> json("/api/v1/runs/noisy-cand/checks").path("checks").size() == 1);
    JsonNode check = json("/api/v1/runs/noisy-cand/checks").path("checks").get(0);
    assertThat(check.path("verdict").asText()).isEqualTo("NOT_SIGNIFICANT");
    assertThat(check.path("reason").asText()).contains("worsened by 0.05", "not significant");
    assertThat(check.path("p_value").asDouble()).isGreaterThanOrEqualTo(0.05);
    await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(3)).until(() -> alerts("run=noisy-cand").isEmpty());
  }

  @Test
  void aWebhookDownFor30SecondsGetsEveryAlertAfterwardsAndARestartRepeatsNoneUnderANewId() throws Exception {
    int port = FreePorts.next();
    Receiver receiver = Receiver.start(port);
    String subscription = subscribe(receiver, Map.of("kind", "DATASET_DIGEST_CONFLICT"));
    receiver.close();
    Instant down = Instant.now();
    for (int i = 0; i < 3; i++) {
      postEvents(dataTransform("outage-" + i, "sha256:" + "c".repeat(64)));
      postEvents(dataTransform("outage-" + i, "sha256:" + "d".repeat(64)));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> outageAlerts().size() == 3);
    Thread.sleep(Math.max(0, Duration.ofSeconds(30).minus(Duration.between(down, Instant.now())).toMillis())); // the outage lasts 30 s
    JsonNode failing = json("/api/v1/subscriptions/" + subscription).path("this_instance");
    assertThat(failing.path("failed_attempts").asLong()).isPositive();

    receiver = Receiver.start(port);
    try {
      Receiver r = receiver;
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveredOutageAlerts(r).size() == 3);
      assertThat(deliveredOutageAlerts(r)).isEqualTo(outageAlerts());

      cluster.stop();
      cluster.start();
      postEvents(dataTransform("outage-after-restart", "sha256:" + "c".repeat(64)));
      postEvents(dataTransform("outage-after-restart", "sha256:" + "d".repeat(64)));
      await().atMost(Duration.ofSeconds(90)).until(() -> deliveredOutageAlerts(r).size() == 4);
      Map<String, Set<String>> idsPerAlert = r.deliveries().stream().collect(Collectors.groupingBy(
          d -> d.json().path("alert").path("alert_id").asText(), Collectors.mapping(Receiver.Delivery::id, Collectors.toSet())));
      assertThat(idsPerAlert).allSatisfy((alert, ids) -> assertThat(ids).as("delivery ids of %s", alert).hasSize(1));
    } finally {
      receiver.close();
    }
  }

  @Test
  void aStreamResumedWithLastEventIdGetsExactlyTheAlertsItMissed() throws Exception {
    String first;
    try (SseClient sse = SseClient.open("/api/v1/alerts/stream?kind=DATASET_DIGEST_CONFLICT", null)) {
      conflict("sse-1");
      await().atMost(Duration.ofSeconds(30)).until(() -> sse.events().stream().anyMatch(e -> dataset(e).equals("sse-1@v1")));
      first = sse.events().stream().filter(e -> dataset(e).equals("sse-1@v1")).findFirst().orElseThrow().id();
    }
    conflict("sse-2");
    conflict("sse-3");
    await().atMost(Duration.ofSeconds(30)).until(() -> alerts("kind=DATASET_DIGEST_CONFLICT").stream()
        .filter(a -> a.path("details").path("dataset").asText().equals("sse-3@v1")).count() == 1);
    try (SseClient resumed = SseClient.open("/api/v1/alerts/stream?kind=DATASET_DIGEST_CONFLICT", first)) {
      await().atMost(Duration.ofSeconds(30)).until(() -> resumed.events().size() >= 2);
      await().during(Duration.ofMillis(1500)).atMost(Duration.ofSeconds(3)).until(() -> resumed.events().size() == 2);
      // Alerts of different subjects may sit on different partitions: exactly the missed ones, in no particular order.
      assertThat(resumed.events()).extracting(AlertsIT::dataset).containsExactlyInAnyOrder("sse-2@v1", "sse-3@v1");
    }
    HttpResponse<String> bad = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + "/api/v1/alerts?after=nonsense")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("alert cursor");
    HttpResponse<String> badKind = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + "/api/v1/alerts?kind=REGRESSION")).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(badKind.statusCode()).isEqualTo(400);
    assertThat(badKind.body()).contains("'REGRESSION' is not an alert kind", "METRIC_REGRESSION");
  }

  // --- helpers -------------------------------------------------------------------------------

  static String dataset(SseClient.Event e) {
    return e.data().path("details").path("dataset").asText();
  }

  void conflict(String name) throws Exception {
    postEvents(dataTransform(name, "sha256:" + "e".repeat(64)));
    postEvents(dataTransform(name, "sha256:" + "f".repeat(64)));
  }

  static Set<String> outageAlerts() throws Exception {
    return alerts("kind=DATASET_DIGEST_CONFLICT").stream().filter(a -> a.path("details").path("dataset").asText().startsWith("outage-"))
        .map(a -> a.path("alert_id").asText()).collect(Collectors.toCollection(TreeSet::new));
  }

  static Set<String> deliveredOutageAlerts(Receiver r) {
    return r.deliveries().stream().map(d -> d.json().path("alert"))
        .filter(a -> a.path("details").path("dataset").asText().startsWith("outage-"))
        .map(a -> a.path("alert_id").asText()).collect(Collectors.toCollection(TreeSet::new));
  }

  static void train(String runId, List<String> args, String... sidecarArgs) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("run", "--run-id", runId, "--experiment", "alerts", "--spool-dir", dir.resolve("spool").toString(),
        "--events-file", dir.resolve("events-" + runId + ".ndjson").toString()));
    cmd.addAll(List.of(sidecarArgs));
    cmd.add("--");
    cmd.add(trainer.toString());
    cmd.addAll(args);
    cmd.addAll(List.of("--out", dir.resolve("out-" + runId).toString()));
    LedgerCliProcess.Result r = LedgerCliProcess.run(dir, cluster.env(), "run-" + runId, cmd.toArray(String[]::new));
    assertThat(r.exitCode()).as("ledger run %s; stderr:%n%s", runId, r.stderr()).isZero();
  }

  static void awaitEvaluation(String runId) {
    await().atMost(Duration.ofSeconds(60)).ignoreExceptions().until(() -> !json("/api/v1/runs/" + runId).path("evaluations").isEmpty());
  }

  static Instant occurredAt(String subject, String type) throws Exception {
    for (JsonNode e : json("/api/v1/events?subject=" + subject).path("events")) {
      if (e.path("type").asText().equals(type)) {
        return Instant.parse(e.path("occurred_at").asText());
      }
    }
    throw new AssertionError("no " + type + " event of " + subject);
  }

  static String subscribe(Receiver receiver, Map<String, String> filters) throws Exception {
    String body = JSON.writeValueAsString(Map.of("url", receiver.url(), "secret", SECRET, "filters", filters));
    JsonNode created = post("/api/v1/subscriptions", body, 201);
    assertThat(created.has("secret")).as("the secret is never shown").isFalse();
    return created.path("id").asText();
  }

  static List<JsonNode> alerts(String query) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    json("/api/v1/alerts?" + query).path("alerts").forEach(out::add);
    return out;
  }

  static String runStarted(String runId, String experiment) {
    return "{\"type\":\"run_started\",\"run_id\":\"" + runId + "\",\"experiment\":\"" + experiment + "\","
        + "\"code\":{\"commit\":\"abc\",\"dirty\":false},\"environment\":{\"os\":\"linux\",\"host\":\"h\",\"hardware\":{\"cpu\":\"x86\",\"cpu_count\":2}}}";
  }

  /** An evaluation whose 40 per-sample scores have mean {@code mean} and spread {@code spread}. */
  static String evaluation(String runId, String evalId, double mean, double spread) {
    List<String> samples = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      samples.add(String.valueOf(mean + spread * (i % 2 == 0 ? 1 : -1) * ((i % 5) + 1) / 3.0));
    }
    return "{\"type\":\"evaluation_completed\",\"run_id\":\"" + runId + "\",\"eval_id\":\"" + evalId + "\",\"suite_name\":\"noisy-suite\","
        + "\"metrics\":{\"score\":" + mean + "},\"samples\":{\"score\":[" + String.join(",", samples) + "]},\"sample_kind\":\"per_sample\"}";
  }

  static String dataTransform(String name, String digest) {
    return "{\"type\":\"data_transform_applied\",\"transform_id\":\"t-" + name + "-" + digest.substring(7, 9) + "\",\"transform_name\":\"import\","
        + "\"inputs\":[],\"outputs\":[{\"name\":\"" + name + "\",\"version\":\"v1\",\"digest\":\"" + digest + "\"}],"
        + "\"started_at\":\"2026-11-23T10:00:00Z\",\"ended_at\":\"2026-11-23T10:00:01Z\"}";
  }

  static void postEvents(String... lines) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + "/api/v1/events"))
        .header("Content-Type", "application/x-ndjson").POST(HttpRequest.BodyPublishers.ofString(String.join("\n", lines))).build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
  }

  static JsonNode post(String path, String body, int status) throws Exception {
    HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + " answered " + r.body()).isEqualTo(status);
    return JSON.readTree(r.body());
  }

  static JsonNode json(String path) throws Exception {
    HttpResponse<String>[] last = new HttpResponse[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
      last[0] = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + path)).build(), HttpResponse.BodyHandlers.ofString());
      return last[0].statusCode() != 503;
    });
    assertThat(last[0].statusCode()).as(path + " answered " + last[0].body()).isEqualTo(200);
    return JSON.readTree(last[0].body());
  }

  /** A webhook receiver on localhost that keeps every delivery. */
  static final class Receiver implements AutoCloseable {
    record Delivery(String id, String signature, byte[] body, JsonNode json, Instant receivedAt) {}

    private static final List<Delivery> DELIVERIES = new CopyOnWriteArrayList<>();
    private final HttpServer server;
    private final int port;

    private Receiver(HttpServer server, int port) {
      this.server = server;
      this.port = port;
    }

    /** A receiver on {@code port}; deliveries are kept across receivers of the same test class. */
    static Receiver start(int port) throws IOException {
      HttpServer server = HttpServer.create(new InetSocketAddress("localhost", port), 0);
      server.createContext("/hook", exchange -> {
        byte[] body = exchange.getRequestBody().readAllBytes();
        Delivery d = new Delivery(exchange.getRequestHeaders().getFirst(WebhookDispatcher.DELIVERY_HEADER),
            exchange.getRequestHeaders().getFirst(WebhookDispatcher.SIGNATURE_HEADER), body, JSON.readTree(body), Instant.now());
        DELIVERIES.add(d);
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
      });
      server.start();
      return new Receiver(server, port);
    }

    String url() {
      return "http://localhost:" + port + "/hook";
    }

    List<Delivery> deliveries() {
      return List.copyOf(DELIVERIES);
    }

    @Override
    public void close() {
      server.stop(0);
    }
  }

  /** A server-sent event client that keeps every event, sending {@code Last-Event-ID} when given one. */
  static final class SseClient implements AutoCloseable {
    record Event(String id, JsonNode data, Instant receivedAt) {}

    private final List<Event> events = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private volatile Stream<String> lines;
    private volatile String startedAt;

    private SseClient(String path, String lastEventId) {
      reader = new Thread(() -> read(path, lastEventId), "sse-test-client");
      reader.setDaemon(true);
    }

    static SseClient open(String path, String lastEventId) throws InterruptedException {
      SseClient c = new SseClient(path, lastEventId);
      c.reader.start();
      await().atMost(Duration.ofSeconds(30)).until(() -> c.startedAt != null); // the stream's first event names its cursor
      return c;
    }

    private void read(String path, String lastEventId) {
      HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(cluster.apiUrl() + path)).header("Accept", "text/event-stream");
      if (lastEventId != null) {
        b.header("Last-Event-ID", lastEventId);
      }
      try {
        HttpResponse<Stream<String>> r = HTTP.send(b.build(), HttpResponse.BodyHandlers.ofLines());
        lines = r.body();
        String id = null;
        String event = "message";
        StringBuilder data = new StringBuilder();
        for (Iterator<String> it = lines.iterator(); it.hasNext(); ) {
          String line = it.next();
          if (line.startsWith("id:")) {
            id = line.substring(3).trim();
          } else if (line.startsWith("event:")) {
            event = line.substring(6).trim();
          } else if (line.startsWith("data:")) {
            data.append(line.substring(5).trim());
          } else if (line.isEmpty()) {
            if (event.equals("alert") && data.length() > 0) {
              events.add(new Event(id, JSON.readTree(data.toString()), Instant.now()));
            } else if (event.equals("cursor")) {
              startedAt = id;
            }
            data.setLength(0);
            event = "message";
          }
        }
      } catch (Exception e) {
        // closed
      }
    }

    List<Event> events() {
      return List.copyOf(events);
    }

    @Override
    public void close() {
      if (lines != null) {
        lines.close();
      }
      reader.interrupt();
    }
  }
}
