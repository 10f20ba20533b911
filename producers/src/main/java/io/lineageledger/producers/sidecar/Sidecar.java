package io.lineageledger.producers.sidecar;

import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.ndjson.NdjsonProtocol;
import io.lineageledger.producers.ndjson.NdjsonPublisher;
import io.lineageledger.producers.ndjson.RejectsFile;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code ledger run}: starts a training command with {@code LEDGER_RUN_ID} and
 * {@code LEDGER_EVENTS} (a file to append NDJSON to) in its environment, records
 * {@link RunStarted} (code, environment, hardware, lock files, seeds, determinism flags, the
 * command line) before it, publishes every line it writes while it runs, and records
 * {@link RunFinished} with its outcome: COMPLETED on exit code 0, FAILED with the tail of its
 * stderr otherwise, KILLED when a signal ended it or the sidecar was stopped.
 *
 * <p>The command is never slowed by the ledger: it appends to a plain file that the sidecar
 * follows, and a broker outage only sends events to the client's spool. Secrets are scrubbed
 * from everything recorded ({@link SecretRedactor}).
 *
 * <p>{@link #run()} owns the calling thread until the command ends; {@link #stop()} may be
 * called from any thread (a shutdown hook).
 */
public final class Sidecar {
  /** Environment variables recorded as determinism flags when set. */
  static final List<String> DETERMINISM_ENV = List.of("CUBLAS_WORKSPACE_CONFIG", "PYTHONHASHSEED", "CUDA_LAUNCH_BLOCKING",
      "TF_DETERMINISTIC_OPS", "TF_CUDNN_DETERMINISTIC", "NVIDIA_TF32_OVERRIDE", "TORCH_DETERMINISTIC", "OMP_NUM_THREADS",
      "MKL_NUM_THREADS", "CUDA_VISIBLE_DEVICES");
  static final int STDERR_TAIL_BYTES = 4096;
  private static final long POLL_MS = 50;

  /**
   * What to run and what to record about it.
   *
   * @param recordEnv names of environment variables to record as tags {@code env.<NAME>} (secret-looking ones are redacted)
   */
  public record Settings(String runId, String experiment, String name, List<String> command, Path workDir, Path eventsFile,
      Map<String, Long> seeds, Map<String, String> determinismFlags, List<String> recordEnv, Map<String, String> tags,
      String parentRunId, String reproductionOf, String resumedFrom) {
    public Settings {
      Objects.requireNonNull(runId, "runId");
      Objects.requireNonNull(experiment, "experiment");
      if (command.isEmpty()) {
        throw new IllegalArgumentException("no command to run");
      }
      command = List.copyOf(command);
      seeds = Map.copyOf(seeds);
      determinismFlags = Map.copyOf(determinismFlags);
      recordEnv = List.copyOf(recordEnv);
      tags = Map.copyOf(tags);
    }
  }

  /** How the command ended and what happened to the lines it wrote. */
  public record Outcome(RunStatus status, int exitCode, NdjsonPublisher.Summary lines) {}

  private final Settings settings;
  private final LedgerClient client;
  private final RejectsFile rejects;
  private final PrintStream err;
  private final Map<String, String> environment;
  private final SecretRedactor redactor;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final Map<String, Double> finalMetrics = new TreeMap<>();
  private ProcessBuilder.Redirect stdout = ProcessBuilder.Redirect.INHERIT;
  private volatile Process process;
  private volatile boolean stopRequested;

  /**
   * @param environment the environment the command inherits (usually {@code System.getenv()})
   * @param err where bad lines and the command's stderr go
   */
  public Sidecar(Settings settings, LedgerClient client, RejectsFile rejects, PrintStream err, Map<String, String> environment) {
    this.settings = settings;
    this.client = client;
    this.rejects = rejects;
    this.err = err;
    this.environment = Map.copyOf(environment);
    this.redactor = new SecretRedactor(environment);
  }

  /** Where the command's stdout goes (default: the sidecar's own). */
  public Sidecar stdout(ProcessBuilder.Redirect redirect) {
    this.stdout = redirect;
    return this;
  }

  /** The run's {@link RunStarted}, as it is recorded. */
  public RunStarted runStarted() {
    RunEnvironmentProbe probe = new RunEnvironmentProbe(settings.workDir());
    Map<String, String> determinism = new TreeMap<>();
    for (String name : DETERMINISM_ENV) {
      if (environment.containsKey(name)) {
        determinism.put(name, redactor.value(name, environment.get(name)));
      }
    }
    settings.determinismFlags().forEach((k, v) -> determinism.put(k, redactor.value(k, v)));
    Map<String, Long> seeds = new TreeMap<>(seedsFromCommandLine(settings.command()));
    seeds.putAll(settings.seeds());
    Map<String, String> tags = new TreeMap<>();
    settings.tags().forEach((k, v) -> tags.put(k, redactor.value(k, v)));
    for (String name : settings.recordEnv()) {
      String value = environment.get(name);
      if (value != null) {
        tags.put("env." + name, redactor.value(name, value));
      }
    }
    return RunStarted.newBuilder()
        .setRunId(settings.runId())
        .setExperiment(settings.experiment())
        .setName(settings.name())
        .setParentRunId(settings.parentRunId())
        .setReproductionOf(settings.reproductionOf())
        .setResumedFrom(settings.resumedFrom())
        .setCode(probe.code())
        .setEnvironment(probe.environment())
        .setSeeds(seeds)
        .setDeterminismFlags(determinism)
        .setCommandLine(redactor.commandLine(settings.command()))
        .setTags(tags)
        .build();
  }

  /** {@code --seed N} or {@code --seed=N} on the command line, recorded as seed "seed" (likewise {@code --data-seed}). */
  static Map<String, Long> seedsFromCommandLine(List<String> command) {
    Map<String, Long> seeds = new LinkedHashMap<>();
    for (int i = 0; i < command.size(); i++) {
      String arg = command.get(i);
      if (!arg.startsWith("--") || !arg.contains("seed")) {
        continue;
      }
      int eq = arg.indexOf('=');
      String flag = eq < 0 ? arg.substring(2) : arg.substring(2, eq);
      String value = eq < 0 ? (i + 1 < command.size() ? command.get(i + 1) : null) : arg.substring(eq + 1);
      if (!flag.matches("[a-z0-9_-]*seed") || value == null) {
        continue;
      }
      try {
        seeds.put(flag.replace('-', '_'), Long.parseLong(value));
      } catch (NumberFormatException e) {
        // not a numeric seed: nothing to record
      }
    }
    return seeds;
  }

  /** Runs the command to its end and records the run; returns how it ended. */
  public Outcome run() throws IOException, InterruptedException {
    try {
      return doRun();
    } finally {
      finished.countDown();
    }
  }

  private Outcome doRun() throws IOException, InterruptedException {
    Path events = settings.eventsFile().toAbsolutePath();
    Files.createDirectories(events.getParent());
    long start = Files.exists(events) ? Files.size(events) : 0; // a re-used run id: earlier lines were already published
    client.runStarted(runStarted());

    NdjsonProtocol protocol = new NdjsonProtocol(settings.runId(),
        Set.of(NdjsonProtocol.EventType.RUN_STARTED, NdjsonProtocol.EventType.RUN_FINISHED),
        "`ledger run` records run_started and run_finished itself");
    NdjsonPublisher publisher = new NdjsonPublisher(client, protocol, rejects, err, events.toString())
        .lineFilter(redactor::scrub)
        .listener(this::remember);

    ProcessBuilder pb = new ProcessBuilder(settings.command()).directory(settings.workDir().toFile())
        .redirectInput(ProcessBuilder.Redirect.INHERIT).redirectOutput(stdout);
    pb.environment().put("LEDGER_RUN_ID", settings.runId());
    pb.environment().put("LEDGER_EVENTS", events.toString());
    StderrTail stderr = new StderrTail(err);
    RunStatus status;
    int exitCode;
    String error = null;
    try (EventFileTail tail = new EventFileTail(events, start, publisher::line)) {
      try {
        process = pb.start();
      } catch (IOException e) {
        error = "cannot start " + settings.command().get(0) + ": " + e.getMessage();
        err.println("ledger run: " + error);
        client.runFinished(settings.runId(), RunFinished.newBuilder().setStatus(RunStatus.FAILED)
            .setError(redactor.scrub(error)).setExitCode(127).build());
        return new Outcome(RunStatus.FAILED, 127, publisher.finish());
      }
      Thread copier = stderr.start(process.getErrorStream());
      if (stopRequested) {
        process.destroy();
      }
      while (!process.waitFor(POLL_MS, TimeUnit.MILLISECONDS)) {
        tail.poll();
      }
      copier.join(2_000);
      tail.finish();
      exitCode = process.exitValue();
    }
    if (stopRequested) {
      status = RunStatus.KILLED;
      error = "stopped: the sidecar received a termination signal and ended the command (exit code " + exitCode + ")";
    } else if (exitCode == 0) {
      status = RunStatus.COMPLETED;
    } else if (exitCode > 128 && exitCode <= 128 + 64) {
      // The JVM reports a command ended by signal N as exit code 128 + N.
      status = RunStatus.KILLED;
      error = "killed by signal " + (exitCode - 128) + signalName(exitCode - 128);
    } else {
      status = RunStatus.FAILED;
      error = "exit code " + exitCode + "; the tail of stderr:\n" + stderr.tail();
    }
    NdjsonPublisher.Summary summary = publisher.finish();
    RunFinished.Builder finishedEvent = RunFinished.newBuilder().setStatus(status).setExitCode(exitCode)
        .setError(redactor.scrub(error));
    synchronized (finalMetrics) {
      finishedEvent.setFinalMetrics(new HashMap<>(finalMetrics));
    }
    client.runFinished(settings.runId(), finishedEvent.build());
    client.flush();
    return new Outcome(status, exitCode, summary);
  }

  private static String signalName(int signal) {
    return switch (signal) {
      case 1 -> " (SIGHUP)";
      case 2 -> " (SIGINT)";
      case 6 -> " (SIGABRT)";
      case 9 -> " (SIGKILL)";
      case 11 -> " (SIGSEGV)";
      case 15 -> " (SIGTERM)";
      default -> "";
    };
  }

  private void remember(NdjsonProtocol.ParsedEvent event) {
    synchronized (finalMetrics) {
      if (event.payload() instanceof StepSummary s) {
        finalMetrics.put("loss", s.getLoss());
      } else if (event.payload() instanceof EvaluationCompleted e) {
        finalMetrics.putAll(e.getMetrics());
      }
    }
  }

  /**
   * Ends the command (SIGTERM, then SIGKILL after {@code grace}) and waits until the run is
   * recorded as KILLED. For a shutdown hook: the JVM exits once it returns.
   */
  public void stop(long graceMillis) throws InterruptedException {
    stopRequested = true;
    Process p = process;
    if (p != null && p.isAlive()) {
      p.destroy();
      if (!p.waitFor(graceMillis, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
      }
    }
    finished.await(graceMillis + 15_000, TimeUnit.MILLISECONDS);
  }

  /** Copies the command's stderr through and keeps its last bytes for RunFinished. */
  private static final class StderrTail {
    private final PrintStream target;
    private final byte[] ring = new byte[STDERR_TAIL_BYTES];
    private long written;

    StderrTail(PrintStream target) {
      this.target = target;
    }

    Thread start(InputStream in) {
      Thread t = new Thread(() -> copy(in), "ledger-run-stderr");
      t.setDaemon(true);
      t.start();
      return t;
    }

    private void copy(InputStream in) {
      byte[] buf = new byte[8192];
      try (in) {
        for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
          ((OutputStream) target).write(buf, 0, n);
          target.flush();
          synchronized (this) {
            for (int i = 0; i < n; i++) {
              ring[(int) (written++ % ring.length)] = buf[i];
            }
          }
        }
      } catch (IOException e) {
        // the command closed its stderr
      }
    }

    synchronized String tail() {
      int len = (int) Math.min(written, ring.length);
      byte[] out = new byte[len];
      long from = written - len;
      for (int i = 0; i < len; i++) {
        out[i] = ring[(int) ((from + i) % ring.length)];
      }
      String s = new String(out, StandardCharsets.UTF_8);
      if (written > ring.length) {
        int nl = s.indexOf('\n');
        s = "..." + (nl >= 0 && nl < s.length() - 1 ? s.substring(nl + 1) : s);
      }
      return s.strip();
    }
  }
}
