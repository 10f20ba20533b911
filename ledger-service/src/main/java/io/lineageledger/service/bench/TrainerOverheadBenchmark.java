package io.lineageledger.service.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.ndjson.RejectsFile;
import io.lineageledger.producers.sidecar.Sidecar;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * What the ledger costs a training job: the reference trainer's mean step time when it runs
 * bare (events to a file nobody reads), under the {@code ledger run} sidecar with the broker
 * up, and under the sidecar with the broker unreachable (every event spooled). Rounds rotate
 * the order of the three; the step time is the mean of the trainer's own {@code step_time_ms}
 * over its step summaries, so start-up and the data pipeline do not count.
 */
@Command(name = "trainer", mixinStandardHelpOptions = true,
    description = "The reference trainer's step time bare, under `ledger run` with the broker up, and with the broker down.")
public final class TrainerOverheadBenchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--trainer", required = true, description = "The lineage-trainer binary (build it with cmake, see producers/trainer/README.md).")
  Path trainer;

  @Option(names = "--steps", defaultValue = "1000", description = "Training steps per run (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--log-every", defaultValue = "10", description = "Steps per step summary, i.e. per event (default: ${DEFAULT-VALUE}).")
  int logEvery;

  @Option(names = "--rounds", defaultValue = "5", description = "Runs per mode (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Mixin
  BenchOptions options;

  private enum Mode { BARE, BROKER_UP, BROKER_DOWN }

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    if (!Files.isExecutable(trainer)) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--trainer " + trainer + " is not an executable file");
    }
    Path work = Files.createTempDirectory("ledger-bench-trainer");
    Map<Mode, List<Double>> results = new LinkedHashMap<>();
    for (Mode m : Mode.values()) {
      results.put(m, new ArrayList<>());
    }
    try (BenchCluster cluster = options.cluster()) {
      String downServers = "localhost:" + FreePorts.next(); // nothing listens there
      String downRegistry = "http://localhost:" + FreePorts.next();
      runOnce(Mode.BARE, cluster, downServers, downRegistry, work.resolve("warmup")); // page cache, CPU frequency
      int n = 0;
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
          Mode m = Mode.values()[(r + k) % 3];
          results.get(m).add(runOnce(m, cluster, downServers, downRegistry, work.resolve("run-" + n++)));
        }
      }
    } finally {
      BenchOptions.deleteTree(work);
    }
    report(results);
    return 0;
  }

  /** One trainer run in the given mode; returns its mean step time in milliseconds. */
  private double runOnce(Mode mode, BenchCluster cluster, String downServers, String downRegistry, Path dir) throws Exception {
    Files.createDirectories(dir);
    Path events = dir.resolve("events.ndjson");
    List<String> command = List.of(trainer.toAbsolutePath().toString(), "--steps", String.valueOf(steps), "--log-every", String.valueOf(logEvery),
        "--checkpoint-every", String.valueOf(Math.max(1, steps / 4)), "--out", dir.resolve("out").toString());
    if (mode == Mode.BARE) {
      List<String> bare = new ArrayList<>(command);
      bare.addAll(List.of("--events", events.toString()));
      Process p = new ProcessBuilder(bare).redirectOutput(dir.resolve("stdout").toFile()).redirectError(dir.resolve("stderr").toFile()).start();
      if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
        throw new IllegalStateException("the trainer failed: " + Files.readString(dir.resolve("stderr")));
      }
    } else {
      boolean up = mode == Mode.BROKER_UP;
      try (LedgerClient client = LedgerClient.builder()
          .bootstrapServers(up ? cluster.bootstrapServers : downServers)
          .schemaRegistryUrl(up ? cluster.schemaRegistryUrl : downRegistry)
          .spool(dir.resolve("spool"), 1L << 30).closeTimeout(Duration.ofSeconds(2)).build()) {
        Sidecar.Settings settings = new Sidecar.Settings("bench-" + dir.getFileName(), "bench", null, command, dir, events,
            Map.of(), Map.of(), List.of(), Map.of(), null, null, null);
        PrintStream quiet = new PrintStream(OutputStream.nullOutputStream());
        Sidecar.Outcome outcome = new Sidecar(settings, client, new RejectsFile(dir.resolve("rejects.ndjson")), quiet, System.getenv())
            .stdout(ProcessBuilder.Redirect.to(dir.resolve("stdout").toFile())).run();
        if (outcome.exitCode() != 0 || outcome.lines().rejected() > 0) {
          throw new IllegalStateException("the run under the sidecar failed: " + outcome);
        }
        if (up && outcome.lines().published() != outcome.lines().lines()) {
          throw new IllegalStateException("with the broker up every line should be published: " + outcome.lines());
        }
        if (!up && outcome.lines().spooled() != outcome.lines().lines()) {
          throw new IllegalStateException("with the broker down every line should be spooled: " + outcome.lines());
        }
      }
    }
    return meanStepMillis(events);
  }

  private static double meanStepMillis(Path events) throws IOException {
    ObjectMapper json = new ObjectMapper();
    double sum = 0;
    int n = 0;
    for (String line : Files.readAllLines(events)) {
      JsonNode e = json.readTree(line);
      if ("step_summary".equals(e.path("type").asText()) && e.path("metrics").has("step_time_ms")) {
        sum += e.path("metrics").get("step_time_ms").asDouble();
        n++;
      }
    }
    if (n == 0) {
      throw new IllegalStateException("the trainer wrote no step_summary with metrics.step_time_ms to " + events);
    }
    return sum / n;
  }

  private void report(Map<Mode, List<Double>> results) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    double bare = BenchOptions.median(results.get(Mode.BARE));
    double upMs = BenchOptions.median(results.get(Mode.BROKER_UP));
    double downMs = BenchOptions.median(results.get(Mode.BROKER_DOWN));
    if (options.json()) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("benchmark", "trainer");
      r.put("steps", steps);
      r.put("log_every", logEvery);
      r.put("rounds", rounds);
      r.put("bare_step_ms", results.get(Mode.BARE));
      r.put("broker_up_step_ms", results.get(Mode.BROKER_UP));
      r.put("broker_down_step_ms", results.get(Mode.BROKER_DOWN));
      r.put("bare_median_step_ms", bare);
      r.put("broker_up_median_step_ms", upMs);
      r.put("broker_down_median_step_ms", downMs);
      r.put("broker_up_over_bare", upMs / bare);
      r.put("broker_down_over_broker_up", downMs / upMs);
      r.put("broker_down_over_bare", downMs / bare);
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(r));
    } else {
      out.printf("trainer benchmark: %d steps per run, a step summary every %d steps, %d rounds%n", steps, logEvery, rounds);
      out.printf("  bare (events to a file)        %8.3f ms/step%n", bare);
      out.printf("  ledger run, broker up          %8.3f ms/step   x%.3f of bare%n", upMs, upMs / bare);
      out.printf("  ledger run, broker down        %8.3f ms/step   x%.3f of broker up, x%.3f of bare%n", downMs, downMs / upMs, downMs / bare);
    }
    out.flush();
  }

}
