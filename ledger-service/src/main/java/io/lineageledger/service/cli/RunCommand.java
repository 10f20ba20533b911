package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.producers.EventIds;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.sidecar.Sidecar;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger run [--run-id R] [--experiment E] -- CMD...}: the training sidecar ({@link Sidecar}). */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Run a training command and record it: run_started (git, environment, hardware, lock files, seeds) before,",
        "every NDJSON line the command appends to $LEDGER_EVENTS while it runs, and run_finished with its outcome.",
        "Values of environment variables whose names look like keys, tokens, secrets or passwords are never recorded."},
    footer = {"", "Example: ledger run --experiment charlm -- ./lineage-trainer --steps 300 --seed 42",
        "", "Exit code: the command's own (128+N when signal N ended it, 127 when it could not start); 2 usage error."})
public final class RunCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions client;

  @Option(names = "--run-id", description = "The run's id (default: a new one, printed).")
  String runId;

  @Option(names = "--experiment", defaultValue = "${env:LEDGER_EXPERIMENT:-default}", description = "Experiment the run belongs to (env LEDGER_EXPERIMENT; default: ${DEFAULT-VALUE}).")
  String experiment;

  @Option(names = "--name", description = "Human-readable run name.")
  String name;

  @Option(names = "--parent-run", description = "Run this run was started from (for example a sweep controller).")
  String parentRunId;

  @Option(names = "--reproduction-of", description = "Run id this run sets out to reproduce.")
  String reproductionOf;

  @Option(names = "--resumed-from", description = "Digest (sha256:<hex>) of the checkpoint this run resumes from.")
  String resumedFrom;

  @Option(names = "--seed", paramLabel = "NAME=VALUE", description = "A named seed to record; repeatable. --seed N flags of the command are recorded too.")
  Map<String, Long> seeds = new LinkedHashMap<>();

  @Option(names = "--determinism", paramLabel = "KEY=VALUE", description = "A determinism setting to record, for example deterministic_kernels=true; repeatable.")
  Map<String, String> determinism = new LinkedHashMap<>();

  @Option(names = "--tag", paramLabel = "KEY=VALUE", description = "A free-form tag; repeatable.")
  Map<String, String> tags = new LinkedHashMap<>();

  @Option(names = "--env", paramLabel = "NAME", description = "Record this environment variable as tag env.NAME (secret-looking names are redacted); repeatable.")
  List<String> recordEnv = new ArrayList<>();

  @Option(names = "--events-file", description = "File the command appends NDJSON to, passed as LEDGER_EVENTS (default: runs/<run-id>/events.ndjson next to the spool).")
  Path eventsFile;

  @Option(names = "--output", defaultValue = "table", description = "Summary format: table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Parameters(arity = "1..*", paramLabel = "CMD", description = "The command and its arguments (after --).")
  List<String> command = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    String id = runId != null ? runId : "run-" + new EventIds().next();
    if (id.isBlank() || id.contains("/") || id.contains("..")) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--run-id '" + id + "' must be non-empty and contain no '/' or '..'");
    }
    Path events = eventsFile != null ? eventsFile.toAbsolutePath()
        : client.spoolDir().resolveSibling("runs").resolve(id).resolve("events.ndjson");
    Sidecar.Settings settings = new Sidecar.Settings(id, experiment, name, command, Path.of("").toAbsolutePath(), events,
        seeds, determinism, recordEnv, tags, parentRunId, reproductionOf, resumedFrom);
    System.err.println("ledger run: run " + id + ", events from " + events);
    Sidecar.Outcome outcome;
    try (LedgerClient ledger = client.client("ledger-run")) {
      Sidecar sidecar = new Sidecar(settings, ledger, client.rejectsFile(), System.err, System.getenv());
      Thread hook = new Thread(() -> {
        try {
          sidecar.stop(10_000);
          ledger.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "ledger-run-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      outcome = sidecar.run();
      ledger.drainNow();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: it closes the client
      }
      print(id, outcome, ledger.spooling());
    }
    return outcome.exitCode();
  }

  private void print(String id, Sidecar.Outcome outcome, boolean spooling) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    var lines = outcome.lines();
    if (output == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("run_id", id);
      m.put("status", outcome.status().name());
      m.put("exit_code", outcome.exitCode());
      m.put("lines", lines);
      m.put("spooled_waiting", spooling);
      out.println(new ObjectMapper().writeValueAsString(m));
    } else {
      new Table("RUN", "STATUS", "EXIT", "LINES", "PUBLISHED", "SPOOLED", "REJECTED")
          .row(id, outcome.status(), outcome.exitCode(), lines.lines(), lines.published(), lines.spooled(), lines.rejected()).print(out);
      if (lines.rejected() > 0) {
        out.println("Rejected lines are kept in " + lines.rejectsFile());
      }
      if (spooling) {
        out.println("The broker is unreachable: events wait in " + client.spoolDir() + "; `ledger ship "
            + client.spoolDir() + "` or the next ledger command publishes them.");
      }
    }
    out.flush();
  }
}
