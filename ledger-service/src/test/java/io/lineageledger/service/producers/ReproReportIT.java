package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.producers.LedgerClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reproducibility reports and comparisons end to end: the reference trainer under
 * {@code ledger run} in a git working tree against the real broker, then the report and the
 * comparison over HTTP and through the CLI.
 */
@Timeout(600)
class ReproReportIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String XSS = "<script>alert(1)</script>";
  static final HttpClient HTTP = HttpClient.newHttpClient();

  @TempDir
  static Path dir;
  static LedgerCluster cluster;
  static Path trainer;
  static Path repo;

  @BeforeAll
  static void start() throws Exception {
    trainer = TrainerBuild.binary();
    cluster = new LedgerCluster(dir.resolve("ledger")).start();
    repo = Files.createDirectories(dir.resolve("repo"));
    Files.writeString(repo.resolve("requirements.txt"), "numpy==2.1.3\n");
    Files.writeString(repo.resolve("train.sh"), "#!/bin/sh\nexec lineage-trainer \"$@\"\n");
    git("init", "-q");
    git("add", "requirements.txt", "train.sh");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "the experiment");
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  static void git(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(repo.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as("git %s: %s", String.join(" ", args), out).isZero();
  }

  static void train(String runId, String experiment, long seed, int steps) throws Exception {
    LedgerCliProcess.Result r = LedgerCliProcess.run(repo, cluster.env(), "run-" + runId, "run", "--run-id", runId, "--experiment", experiment,
        "--determinism", "deterministic_kernels=true", "--spool-dir", dir.resolve("spool").toString(),
        "--events-file", dir.resolve("events-" + runId + ".ndjson").toString(), "--",
        trainer.toString(), "--steps", String.valueOf(steps), "--seed", String.valueOf(seed), "--checkpoint-every", "100",
        "--out", dir.resolve("out-" + runId).toString());
    assertThat(r.exitCode()).as("ledger run %s; stderr:%n%s", runId, r.stderr()).isZero();
  }

  static HttpResponse<String> get(String path, String accept) throws Exception {
    HttpResponse<String>[] last = new HttpResponse[1];
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).until(() -> {
      last[0] = HTTP.send(HttpRequest.newBuilder(URI.create(cluster.apiUrl() + path)).header("Accept", accept).build(),
          HttpResponse.BodyHandlers.ofString());
      return last[0].statusCode() != 503;
    });
    return last[0];
  }

  static JsonNode json(String path) throws Exception {
    HttpResponse<String> r = get(path, "application/json");
    assertThat(r.statusCode()).as(path + " answered " + r.body()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  /** Waits until the run's RunFinished is projected. */
  static void finished(String runId) {
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
        .until(() -> !json("/api/v1/runs/" + runId).path("finished").isNull());
  }

  @Test
  void aSecondRunWithTheSameSeedIsABitwiseL1ReproductionAndAnotherSeedIsNot() throws Exception {
    train("repro-1", XSS, 42, 200);
    train("repro-2", XSS, 42, 200);
    train("seed-43", XSS, 43, 200);
    for (String id : List.of("repro-1", "repro-2", "seed-43")) {
      finished(id);
    }

    JsonNode report = json("/api/v1/runs/repro-2/report");
    assertThat(report.path("complete").asBoolean()).isTrue();
    for (JsonNode item : report.path("checklist")) {
      assertThat(item.path("passed").asBoolean()).as("%s: %s", item.path("item").asText(), item.path("detail").asText()).isTrue();
      assertThat(item.path("evidence")).as(item.path("item").asText()).isNotEmpty();
    }
    assertThat(report.path("checklist")).hasSize(8);
    assertThat(report.path("reproductions")).hasSize(1);
    JsonNode rep = report.path("reproductions").get(0);
    assertThat(rep.path("run_id").asText()).isEqualTo("repro-1");
    assertThat(rep.path("verdict").asText()).isEqualTo("BITWISE");
    assertThat(rep.path("level").asText()).isEqualTo("L1");
    assertThat(rep.path("checkpoints")).hasSize(2);
    assertThat(report.path("level").path("level").asText()).isEqualTo("L1");
    assertThat(report.path("reproduce").path("commands").toString()).contains("git checkout ").contains("--seed seed=42");

    // Another seed: not a reproduction; the seed is the only config change; metrics with their intervals.
    JsonNode cmp = json("/api/v1/compare?a=repro-1&b=seed-43");
    assertThat(cmp.path("same_fingerprint").asBoolean()).isFalse();
    assertThat(fieldNames(cmp.path("config").path("changed"))).containsExactly("seed");
    assertThat(cmp.path("config").path("added")).isEmpty();
    assertThat(cmp.path("config").path("removed")).isEmpty();
    JsonNode valLoss = metric(cmp, "val_loss");
    assertThat(valLoss.path("a_kind").asText()).isEqualTo("per_sample");
    assertThat(valLoss.path("a").path("n").asInt()).isGreaterThan(100);
    assertThat(valLoss.path("a").path("ci_low").asDouble()).isLessThan(valLoss.path("a").path("mean").asDouble());
    assertThat(valLoss.path("b").path("ci_high").asDouble()).isGreaterThan(valLoss.path("b").path("mean").asDouble());
    assertThat(valLoss.path("welch").path("p").isNumber()).isTrue();
    assertThat(json("/api/v1/runs/seed-43/report").path("reproductions")).as("another seed is another fingerprint").isEmpty();

    // A run that declares what it reproduces is compared with it even with another fingerprint, naming what differs.
    LedgerCliProcess.Result declared = LedgerCliProcess.run(repo, cluster.env(), "run-declared", "run", "--run-id", "declared-1",
        "--experiment", "charlm", "--reproduction-of", "repro-1", "--determinism", "deterministic_kernels=true",
        "--spool-dir", dir.resolve("spool").toString(), "--events-file", dir.resolve("events-declared.ndjson").toString(), "--",
        trainer.toString(), "--steps", "200", "--seed", "42", "--checkpoint-every", "100", "--lr", "0.004",
        "--out", dir.resolve("out-declared").toString());
    assertThat(declared.exitCode()).as(declared.stderr()).isZero();
    finished("declared-1");
    JsonNode declaredReport = json("/api/v1/runs/declared-1/report");
    assertThat(declaredReport.path("reproductions")).hasSize(1);
    JsonNode toOriginal = declaredReport.path("reproductions").get(0);
    assertThat(toOriginal.path("run_id").asText()).isEqualTo("repro-1");
    assertThat(toOriginal.path("relation").asText()).isEqualTo("original_of_this_run");
    assertThat(toOriginal.path("same_fingerprint").asBoolean()).isFalse();
    assertThat(toOriginal.path("fingerprint_differences").toString()).isEqualTo("[\"config\"]");
    assertThat(toOriginal.path("verdict").asText()).isIn("DIVERGED", "STATISTICAL");
    assertThat(json("/api/v1/runs/repro-1/report").path("reproductions").findValuesAsText("relation"))
        .containsExactlyInAnyOrder("same_fingerprint", "declares_to_reproduce_this_run");

    LedgerCliProcess.Result md = LedgerCliProcess.run(dir, cluster.env(), "compare-md", "compare", "repro-1", "seed-43", "--output", "md");
    assertThat(md.exitCode()).as(md.stderr()).isZero();
    assertThat(md.stdout()).contains("| seed | changed | 42 | 43 |").contains("| val_loss |").contains("Not a reproduction");

    // HTML: self-contained, the experiment's name escaped, the loss curves drawn.
    LedgerCliProcess.Result html = LedgerCliProcess.run(dir, cluster.env(), "report-html", "report", "repro-2", "--output", "html");
    assertThat(html.exitCode()).as(html.stderr()).isZero();
    assertThat(html.stdout()).contains("&lt;script&gt;alert(1)&lt;/script&gt;").doesNotContain(XSS).doesNotContainIgnoringCase("<script")
        .doesNotContain("src=").doesNotContain("href=").doesNotContain("url(").doesNotContain("@import");
    assertThat(html.stdout()).contains("<svg").contains("<polyline");
    assertThat(count(html.stdout(), "<polyline")).isEqualTo(2);

    HttpResponse<String> markdown = get("/api/v1/runs/repro-2/report", "text/markdown");
    assertThat(markdown.headers().firstValue("Content-Type").orElse("")).startsWith("text/markdown");
    assertThat(markdown.body()).contains("## Level reached: L1").contains("### repro-1: BITWISE at L1");
  }

  @Test
  void aRunFromADirtyWorkingTreeFailsTheCodeItemAndCitesTheDiffDigest() throws Exception {
    Path dirtyRepo = repo;
    Files.writeString(dirtyRepo.resolve("train.sh"), "#!/bin/sh\n# tuned by hand\nexec lineage-trainer \"$@\"\n");
    try {
      train("dirty-1", "charlm", 42, 100);
    } finally {
      git("checkout", "--", "train.sh");
    }
    finished("dirty-1");
    JsonNode state = json("/api/v1/runs/dirty-1");
    String diffDigest = state.path("started").path("code").path("diff_digest").asText();
    assertThat(diffDigest).startsWith("sha256:");
    JsonNode report = json("/api/v1/runs/dirty-1/report");
    JsonNode code = null;
    for (JsonNode item : report.path("checklist")) {
      if (item.path("item").asText().equals("code_committed_and_clean")) {
        code = item;
      }
    }
    assertThat(code).isNotNull();
    assertThat(code.path("passed").asBoolean()).isFalse();
    assertThat(code.path("detail").asText()).contains(diffDigest);
    assertThat(code.path("evidence").get(0).asText()).isEqualTo(state.path("started_event_id").asText());
    assertThat(report.path("checklist_passed").asBoolean()).isFalse();
  }

  @Test
  void fiveSeedsAgainstFiveSeedsOfAVariantGiveWelchsPValue() throws Exception {
    double[] base = {1.912, 1.887, 1.951, 1.903, 1.934};
    double[] variant = {1.991, 2.043, 1.968, 2.081, 2.012};
    List<String> a = new ArrayList<>();
    List<String> b = new ArrayList<>();
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(cluster.bootstrapServers()).schemaRegistryUrl(cluster.registryUrl())
        .producerIdentity("repro-it", "repro-it", "1").build()) {
      for (int i = 0; i < 5; i++) {
        a.add(seedRun(client, "base-s" + i, "baseline", i, base[i]));
        b.add(seedRun(client, "variant-s" + i, "variant", i, variant[i]));
      }
    }
    for (String id : concat(a, b)) {
      finished(id);
    }
    JsonNode cmp = json("/api/v1/compare?a=" + String.join(",", a) + "&b=" + String.join(",", b));
    JsonNode valLoss = metric(cmp, "val_loss");
    assertThat(valLoss.path("a_kind").asText()).isEqualTo("per_run");
    assertThat(valLoss.path("a").path("n").asInt()).isEqualTo(5);
    assertThat(valLoss.path("welch").path("p").asDouble()).isCloseTo(new TTest().tTest(base, variant), org.assertj.core.data.Offset.offset(1e-6));
    assertThat(valLoss.path("bootstrap_ci").path("low").asDouble()).isPositive();
    assertThat(valLoss.path("better").asText()).isEqualTo("a");

    assertThat(get("/api/v1/runs/no-such-run/report", "application/json").statusCode()).isEqualTo(404);
    HttpResponse<String> bad = get("/api/v1/compare?a=base-s0", "application/json");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body()).contains("?b= is required");
  }

  static String seedRun(LedgerClient client, String runId, String variant, long seed, double valLoss) throws Exception {
    String subject = "run:" + runId;
    Map<String, String> params = new HashMap<>(Map.of("seed", String.valueOf(seed), "variant", "\"" + variant + "\""));
    client.publish(client.envelope(subject, RunStarted.newBuilder().setRunId(runId).setExperiment("seeds")
        .setCode(CodeVersion.newBuilder().setCommit("abc").build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("linux").setHost("h").setHardware(Hardware.newBuilder().setCpu("x").setCpuCount(1).build()).build())
        .setSeeds(Map.of("seed", seed)).build(), null, null)).get(30, TimeUnit.SECONDS);
    client.publish(client.envelope(subject, ConfigSnapshot.newBuilder().setParams(params).setDigest("sha256:" + variant + seed)
        .setChangedKeys(List.of()).build(), null, null)).get(30, TimeUnit.SECONDS);
    client.publish(client.envelope(subject, EvaluationCompleted.newBuilder().setEvalId("e-" + runId).setSuiteName("val").setSeed(1L)
        .setMetrics(Map.of("val_loss", valLoss)).build(), null, null)).get(30, TimeUnit.SECONDS);
    client.publish(client.envelope(subject, RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build(), null, null))
        .get(30, TimeUnit.SECONDS);
    return runId;
  }

  static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  static JsonNode metric(JsonNode comparison, String name) {
    for (JsonNode m : comparison.path("metrics")) {
      if (m.path("metric").asText().equals(name)) {
        return m;
      }
    }
    throw new AssertionError("no metric " + name + " in " + comparison.path("metrics"));
  }

  static List<String> fieldNames(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  static int count(String s, String needle) {
    int n = 0;
    for (int i = s.indexOf(needle); i >= 0; i = s.indexOf(needle, i + 1)) {
      n++;
    }
    return n;
  }
}
