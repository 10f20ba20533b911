package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import io.lineageledger.producers.Digests;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.ndjson.RejectsFile;
import io.lineageledger.producers.sidecar.Sidecar;
import io.lineageledger.service.LedgerNode;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger demo}: starts the embedded ledger and runs the reference trainer scenario through
 * it: a baseline run registered as a model version and designated the model's baseline, a
 * reproduction of it, a variant with a much higher learning rate, and a resume of the baseline
 * from its middle checkpoint without the optimizer state. Then prints the model's lineage, the
 * reproduction's verdict and the alerts, and leaves the ledger up for queries.
 */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Start the ledger, run the reference trainer scenario, and print lineage, reproduction verdict and alerts.",
    footer = {"", "Builds the reference trainer with CMake when it is missing. The ledger stays up afterwards (Ctrl-C stops it),",
        "so `ledger runs`, `ledger lineage`, `ledger report` and `ledger alerts --follow` can be tried on what it recorded."})
public final class DemoCommand implements Callable<Integer> {
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("MMdd-HHmmss").withZone(ZoneOffset.UTC);
  static final String MODEL = "charlm-demo";

  @Spec
  CommandSpec spec;

  @Option(names = "--data-dir", defaultValue = "${env:LEDGER_DEMO_DIR:-.ledger-demo}",
      description = "Where the demo's ledger keeps its data (env LEDGER_DEMO_DIR; default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--host", defaultValue = "localhost", description = "Host name to listen on (default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--kafka-port", defaultValue = "9092", description = "Embedded broker port (default: ${DEFAULT-VALUE}).")
  int kafkaPort;

  @Option(names = "--controller-port", defaultValue = "9093", description = "Embedded KRaft controller port (default: ${DEFAULT-VALUE}).")
  int controllerPort;

  @Option(names = "--registry-port", defaultValue = "8081", description = "Schema registry port (default: ${DEFAULT-VALUE}).")
  int registryPort;

  @Option(names = "--http-port", defaultValue = "8080", description = "Ledger API port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--trainer", defaultValue = "${env:LEDGER_TRAINER:-producers/trainer/build/lineage-trainer}",
      description = "The reference trainer binary; built from producers/trainer when missing (env LEDGER_TRAINER; default: ${DEFAULT-VALUE}).")
  Path trainer;

  @Option(names = "--steps", defaultValue = "300", description = "Steps of each training run (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--exit", description = "Stop the ledger after printing instead of leaving it up.")
  boolean exit;

  private PrintWriter out;
  private ApiClient api;
  private LedgerNode node;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    if (steps < 200) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--steps must be at least 200: the resume starts at step 150");
    }
    Path binary = trainer();
    Path data = dataDir.toAbsolutePath().normalize();
    out.println("Starting the ledger (data in " + data + ")...");
    out.flush();
    node = LedgerNode.start(new LedgerNode.Settings(data, host, kafkaPort, controllerPort, registryPort, httpPort, null, null));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      node.close();
      stopped.countDown();
    }, "ledger-demo-shutdown"));
    api = new ApiClient(node.apiUrl());
    String stamp = STAMP.format(Instant.now());
    Path work = Files.createDirectories(data.resolve("demo").resolve(stamp));
    String base = "demo-" + stamp + "-base";
    String repro = "demo-" + stamp + "-repro";
    String hot = "demo-" + stamp + "-lr-x20";
    String resumed = "demo-" + stamp + "-resumed";
    List<String> common = List.of("--steps", String.valueOf(steps), "--checkpoint-every", "50", "--seed", "42", "--backend", "cpu");

    step("1/5", "baseline run " + base + " (registered as a version of model " + MODEL + ")");
    train(binary, work, base, null, null, common, List.of("--register-model", MODEL));
    awaitEvaluation(base);
    JsonNode baseline = api.postJson("/api/v1/baselines", "{\"model\":\"" + MODEL + "\",\"run\":\"" + base + "\",\"rules\":["
        + "{\"metric\":\"val_loss\",\"max_relative_drop\":0.02,\"significance_level\":0.05},"
        + "{\"metric\":\"accuracy\",\"max_absolute_drop\":0.01,\"significance_level\":0.05}]}");
    out.println("      baseline of " + baseline.path("target").asText() + ": run " + base
        + " (val_loss may worsen by 2%, accuracy by 0.01, where significant at 0.05)");

    step("2/5", "reproduction " + repro + " of " + base);
    train(binary, work, repro, base, null, common, List.of("--register-model", MODEL));

    step("3/5", "variant " + hot + " with a 20x learning rate");
    train(binary, work, hot, null, null, common, List.of("--lr", "0.06", "--register-model", MODEL));

    Path checkpoint = work.resolve(base).resolve("ckpt-00000150.bin");
    String digest = Digests.sha256(Files.readAllBytes(checkpoint));
    step("4/5", "resume " + resumed + " of " + base + " from step 150 without its optimizer state");
    train(binary, work, resumed, null, digest, common, List.of("--resume", checkpoint.toString(), "--resume-without-optimizer-state"));

    step("5/5", "waiting for the detectors");
    awaitAlerts(Map.of("METRIC_REGRESSION", hot, "LOSS_CLIFF_AFTER_RESUME", resumed), Duration.ofSeconds(60));

    String version = modelVersion(base);
    heading("Lineage of model:" + MODEL + "/" + version + " (upstream)");
    cli("lineage", "model:" + MODEL + "/" + version, "--upstream", "--depth", "4", "--api-url", node.apiUrl());
    heading("Reproduction verdict");
    JsonNode report = api.get("/api/v1/runs/" + repro + "/report?format=json");
    for (JsonNode r : report.path("reproductions")) {
      out.printf("%s vs %s: %s. %s%n", repro, r.path("run_id").asText(), r.path("verdict").asText(), r.path("explanation").asText());
    }
    out.println("Level: " + report.path("level").path("level").asText() + ". Full report: ledger report " + repro + " --output html > report.html");
    heading("Alerts");
    cli("alerts", "--since", demoStart.toString(), "--api-url", node.apiUrl());
    heading("Baseline checks of " + hot);
    JsonNode checks = api.get("/api/v1/runs/" + hot + "/checks");
    checks.path("checks").forEach(c -> out.println("  " + c.path("verdict").asText() + "  " + c.path("reason").asText()));
    out.flush();
    if (exit) {
      node.close();
      return 0;
    }
    out.println();
    out.println("The ledger stays up: API " + node.apiUrl() + ", Kafka " + node.bootstrapServers() + ", schema registry "
        + node.schemaRegistryUrl() + ". Try `ledger runs`, `ledger alerts --follow`. Ctrl-C stops it.");
    out.flush();
    stopped.await();
    return 0;
  }

  private final Instant demoStart = Instant.now().minusSeconds(1);

  private Path trainer() throws IOException, InterruptedException {
    if (Files.isExecutable(trainer)) {
      return trainer;
    }
    Path source = Path.of("producers", "trainer");
    if (!Files.exists(source.resolve("CMakeLists.txt"))) {
      throw new CliException("the reference trainer " + trainer + " is missing and there is no producers/trainer here to build it from; "
          + "run the demo from the repository root or give --trainer");
    }
    Path build = trainer.toAbsolutePath().getParent();
    out.println("Building the reference trainer into " + build + " (cmake)...");
    out.flush();
    Path log = Files.createDirectories(build).resolve("demo-build.log");
    for (List<String> cmd : List.of(List.of("cmake", "-S", source.toString(), "-B", build.toString(), "-DCMAKE_BUILD_TYPE=Release"),
        List.of("cmake", "--build", build.toString(), "-j", "2"))) {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
      if (!p.waitFor(15, TimeUnit.MINUTES) || p.exitValue() != 0) {
        throw new CliException(String.join(" ", cmd) + " failed; see " + log);
      }
    }
    if (!Files.isExecutable(trainer)) {
      throw new CliException("the trainer build produced no " + trainer + "; see " + log);
    }
    return trainer;
  }

  /** Runs the trainer as run {@code id} under the sidecar, its output in {@code work/id}. */
  private void train(Path binary, Path work, String id, String reproductionOf, String resumedFrom, List<String> common, List<String> extra)
      throws Exception {
    Path dir = work.resolve(id);
    List<String> cmd = new ArrayList<>();
    cmd.add(binary.toAbsolutePath().toString());
    cmd.addAll(common);
    cmd.addAll(extra);
    cmd.add("--out");
    cmd.add(dir.toString());
    Files.createDirectories(dir);
    Sidecar.Settings settings = new Sidecar.Settings(id, "demo", id, cmd, Path.of("").toAbsolutePath(), dir.resolve("events.ndjson"),
        Map.of("seed", 42L), new LinkedHashMap<>(), List.of(), Map.of("demo", "true"), null, reproductionOf, resumedFrom);
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(node.bootstrapServers()).schemaRegistryUrl(node.schemaRegistryUrl())
        .spool(dir.resolve("spool"), 256L << 20).producerIdentity("ledger-demo@" + LedgerClient.localHostName(), "ledger-demo",
            LedgerCli.version()).build();
         PrintStream log = new PrintStream(Files.newOutputStream(dir.resolve("trainer.log")), true)) {
      Sidecar sidecar = new Sidecar(settings, client, new RejectsFile(dir.resolve("rejects.ndjson")), log, System.getenv())
          .stdout(ProcessBuilder.Redirect.appendTo(dir.resolve("trainer.out").toFile()));
      Sidecar.Outcome outcome = sidecar.run();
      client.flush();
      out.printf("      %s: %s, %d events published (log: %s)%n", id, outcome.status(), outcome.lines().published(), dir.resolve("trainer.log"));
      out.flush();
      if (outcome.exitCode() != 0) {
        throw new CliException("the trainer failed for run " + id + "; see " + dir.resolve("trainer.log"));
      }
    }
  }

  private void awaitEvaluation(String run) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (System.nanoTime() < deadline) {
      try {
        if (!api.get("/api/v1/runs/" + run).path("evaluations").isEmpty()) {
          return;
        }
      } catch (CliException notYet) {
        // not projected yet
      }
      Thread.sleep(200);
    }
    throw new CliException("run " + run + "'s evaluation was not projected within 60 s");
  }

  private void awaitAlerts(Map<String, String> expected, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Set<String> seen = new HashSet<>();
    while (System.nanoTime() < deadline && seen.size() < expected.size()) {
      for (JsonNode a : api.get("/api/v1/alerts?since=" + demoStart).path("alerts")) {
        if (expected.getOrDefault(a.path("kind").asText(), "").equals(a.path("run_id").asText())) {
          seen.add(a.path("kind").asText());
        }
      }
      Thread.sleep(250);
    }
    if (seen.size() < expected.size()) {
      out.println("      (still waiting for " + expected.keySet().stream().filter(k -> !seen.contains(k)).toList() + " after "
          + timeout.toSeconds() + " s; printing what there is)");
    }
  }

  /** The version the reference trainer registered for {@code run}: v and 12 hex digits of its final checkpoint's digest. */
  private String modelVersion(String run) {
    JsonNode checkpoints = api.get("/api/v1/runs/" + run).path("checkpoints");
    String digest = checkpoints.get(checkpoints.size() - 1).path("digest").asText();
    return "v" + digest.substring(digest.indexOf(':') + 1, digest.indexOf(':') + 13);
  }

  private void cli(String... args) {
    CommandLine cli = LedgerCli.commandLine();
    cli.setOut(out);
    cli.setErr(out);
    cli.execute(args);
    out.flush();
  }

  private void step(String n, String what) {
    out.println("[" + n + "] " + what);
    out.flush();
  }

  private void heading(String title) {
    out.println();
    out.println("== " + title + " ==");
  }
}
