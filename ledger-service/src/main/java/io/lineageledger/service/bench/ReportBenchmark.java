package io.lineageledger.service.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lineageledger.events.CheckpointContents;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.DatasetVersionRef;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.service.LedgerNode;
import java.io.PrintWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger bench report}: how long the reproducibility report of a long run takes over
 * HTTP, as JSON and as HTML with its loss curves, when a reproduction of the same length is
 * compared with it; against rebuilding the run's state from the log ({@code /state}), which is
 * what answering without the projections would take, in the same run.
 */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = "Reproducibility report of a long run with a reproduction (JSON and HTML) vs rebuilding the run from the log.")
public final class ReportBenchmark implements Callable<Integer> {
  static final ObjectMapper JSON = new ObjectMapper();

  @Spec
  CommandSpec spec;

  @Mixin
  BenchOptions options;

  @Option(names = "--steps", defaultValue = "100000", description = "Step summaries of each run (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--queries", defaultValue = "20", description = "Timed reports of each format (default: ${DEFAULT-VALUE}).")
  int queries;

  @Option(names = "--log-reads", defaultValue = "3", description = "Timed rebuilds of the run from the log (default: ${DEFAULT-VALUE}).")
  int logReads;

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    if (steps < 1 || queries < 1 || logReads < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--steps, --queries and --log-reads must be 1 or more");
    }
    Path work = Files.createTempDirectory("ledger-bench-report");
    try (LedgerNode node = LedgerNode.start(new LedgerNode.Settings(work, "localhost", FreePorts.next(), FreePorts.next(), 0, 0,
        options.bootstrapServers, options.schemaRegistryUrl))) {
      String prefix = "bench-report-" + UUID.randomUUID().toString().substring(0, 8);
      String original = prefix + "-a";
      String reproduction = prefix + "-b";
      try (LedgerClient client = LedgerClient.builder().bootstrapServers(node.bootstrapServers()).schemaRegistryUrl(node.schemaRegistryUrl())
          .producerIdentity("bench-report", "bench", "1")
        .maxBlock(BenchOptions.FILL_MAX_BLOCK).deliveryTimeout(BenchOptions.FILL_DELIVERY_TIMEOUT).build()) {
        publish(client, original);
        publish(client, reproduction);
        client.flush();
        BenchOptions.requireAllPublished(client);
      }
      String path = "/api/v1/runs/" + reproduction + "/report";
      long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
      while (true) { // both runs projected to their end
        JsonNode a = tryGet(node, "/api/v1/runs/" + original);
        JsonNode b = tryGet(node, "/api/v1/runs/" + reproduction);
        if (a != null && b != null && !a.path("finished").isNull() && !b.path("finished").isNull()) {
          break;
        }
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the runs were not projected within 10 minutes");
        }
        Thread.sleep(100);
      }
      JsonNode first = JSON.readTree(get(node, path, "application/json"));
      if (!first.path("level").path("level").asText().equals("L1") || first.path("reproductions").size() != 1) {
        throw new IllegalStateException("the report did not find the bitwise reproduction: " + first.path("level"));
      }
      for (int i = 0; i < 3; i++) { // warm-up
        get(node, path, "application/json");
        get(node, path, "text/html");
      }
      double[] json = new double[queries];
      double[] html = new double[queries];
      int htmlBytes = 0;
      for (int i = 0; i < queries; i++) {
        long t0 = System.nanoTime();
        get(node, path, "application/json");
        long t1 = System.nanoTime();
        htmlBytes = get(node, path, "text/html").length();
        long t2 = System.nanoTime();
        json[i] = (t1 - t0) / 1e6;
        html[i] = (t2 - t1) / 1e6;
      }
      double[] log = new double[logReads];
      for (int i = 0; i < logReads; i++) {
        long t0 = System.nanoTime();
        JsonNode replayed = JSON.readTree(get(node, "/api/v1/runs/" + reproduction + "/state", "application/json"));
        log[i] = (System.nanoTime() - t0) / 1e6;
        if (replayed.path("latest_step").asLong() != steps) {
          throw new IllegalStateException("the rebuilt run ends at step " + replayed.path("latest_step") + ", not " + steps);
        }
      }
      Arrays.sort(json);
      Arrays.sort(html);
      Arrays.sort(log);
      report(node, json, html, log, htmlBytes);
      return 0;
    } finally {
      BenchOptions.deleteTree(work);
    }
  }

  /** One run: started, config, data, {@code steps} summaries with a checkpoint every 1,000 steps, an evaluation with 2,048 samples. */
  private void publish(LedgerClient client, String runId) {
    String digest = "sha256:" + "5e".repeat(32);
    client.runStarted(RunStarted.newBuilder().setRunId(runId).setExperiment("bench-report")
        .setCode(CodeVersion.newBuilder().setRepo("git@example.com:lab/charlm").setCommit("0123456789abcdef").build())
        .setEnvironment(RunEnvironment.newBuilder().setOs("Linux").setHost("bench-host").setPackageLockDigest(digest)
            .setHardware(Hardware.newBuilder().setCpu("bench-cpu").setCpuCount(2).build()).build())
        .setSeeds(Map.of("seed", 42L)).setDeterminismFlags(Map.of("deterministic_kernels", "true"))
        .setCommandLine(List.of("lineage-trainer", "--steps", String.valueOf(steps), "--seed", "42")).build());
    client.configSnapshot(runId, ConfigSnapshot.newBuilder().setParams(Map.of("lr", "0.003", "seed", "42", "steps", String.valueOf(steps)))
        .setDigest(digest).setChangedKeys(List.of()).build());
    client.datasetBound(runId, DatasetBound.newBuilder().setRole("train")
        .setDataset(DatasetVersionRef.newBuilder().setName("corpus.train").setVersion("v1").setDigest(digest).build()).build());
    List<StepSummary> payloads = ProducersBenchmark.payloads(1024);
    for (int s = 1; s <= steps; s++) {
      client.stepSummary(runId, StepSummary.newBuilder(payloads.get(s & 1023)).setStep(s).build());
      if (s % 1000 == 0 || s == steps) {
        client.checkpointSaved(runId, CheckpointSaved.newBuilder().setStep(s).setUri("file:///ckpt/" + s)
            .setDigest("sha256:" + String.format("%064x", s)).setSizeBytes(1 << 20)
            .setContents(CheckpointContents.newBuilder().setModel(true).setOptimizer(true).setScheduler(true).setRng(true)
                .setDataCursor(true).build()).build());
      }
    }
    SplittableRandom rng = new SplittableRandom(7);
    List<Double> loss = new ArrayList<>();
    List<Double> accuracy = new ArrayList<>();
    for (int i = 0; i < 2048; i++) {
      loss.add(1.5 + rng.nextDouble());
      accuracy.add(rng.nextBoolean() ? 1.0 : 0.0);
    }
    client.evaluationCompleted(runId, EvaluationCompleted.newBuilder().setEvalId(runId + "-eval").setSuiteName("val").setSuiteVersion("1")
        .setDecodingParams(Map.of("mode", "\"teacher-forced\"")).setSeed(1234L)
        .setMetrics(Map.of("val_loss", loss.stream().mapToDouble(Double::doubleValue).average().orElseThrow(),
            "accuracy", accuracy.stream().mapToDouble(Double::doubleValue).average().orElseThrow()))
        .setSamples(Map.of("val_loss", loss, "accuracy", accuracy)).setSampleKind("per_sample").build());
    client.runFinished(runId, RunFinished.newBuilder().setStatus(RunStatus.COMPLETED).setExitCode(0).build());
  }

  private JsonNode tryGet(LedgerNode node, String path) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.apiUrl() + path)).build(), HttpResponse.BodyHandlers.ofString());
    return r.statusCode() == 200 ? JSON.readTree(r.body()) : null;
  }

  private String get(LedgerNode node, String path, String accept) throws Exception {
    HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(node.apiUrl() + path)).header("Accept", accept)
        .timeout(Duration.ofSeconds(120)).build(), HttpResponse.BodyHandlers.ofString());
    if (r.statusCode() != 200) {
      throw new IllegalStateException(path + " answered " + r.statusCode() + ": " + r.body());
    }
    return r.body();
  }

  private void report(LedgerNode node, double[] json, double[] html, double[] log, int htmlBytes) {
    PrintWriter out = spec.commandLine().getOut();
    double logMedian = BenchOptions.percentile(log, 0.5);
    boolean embedded = options.bootstrapServers == null;
    if (options.json()) {
      ObjectNode r = JSON.createObjectNode();
      r.put("benchmark", "report");
      r.put("steps_per_run", steps);
      r.put("queries", queries);
      r.put("embedded_broker", embedded);
      r.put("report_json_p50_ms", BenchOptions.percentile(json, 0.5));
      r.put("report_json_p99_ms", BenchOptions.percentile(json, 0.99));
      r.put("report_json_max_ms", json[json.length - 1]);
      r.put("report_html_p50_ms", BenchOptions.percentile(html, 0.5));
      r.put("report_html_max_ms", html[html.length - 1]);
      r.put("report_html_bytes", htmlBytes);
      r.put("log_rebuild_median_ms", logMedian);
      r.put("report_json_over_log_rebuild", BenchOptions.percentile(json, 0.5) / logMedian);
      out.println(r.toPrettyString());
    } else {
      out.printf("report benchmark: a run of %,d step summaries and its reproduction, broker %s%n", steps,
          embedded ? "embedded" : node.bootstrapServers());
      out.printf("  report as JSON                    p50 %8.1f ms   p99 %8.1f ms   max %8.1f ms   (%d queries)   %.3f of the log rebuild%n",
          BenchOptions.percentile(json, 0.5), BenchOptions.percentile(json, 0.99), json[json.length - 1], queries,
          BenchOptions.percentile(json, 0.5) / logMedian);
      out.printf("  report as HTML with loss curves   p50 %8.1f ms   max %8.1f ms   (%,d bytes)%n",
          BenchOptions.percentile(html, 0.5), html[html.length - 1], htmlBytes);
      out.printf("  rebuilding the run from the log   median %8.1f ms   (%d reads)%n", logMedian, log.length);
    }
    out.flush();
  }
}
