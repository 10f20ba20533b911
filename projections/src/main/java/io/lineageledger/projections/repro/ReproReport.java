package io.lineageledger.projections.repro;

import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.events.RunStarted;
import io.lineageledger.projections.run.RunState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * The reproducibility report of a run (DESIGN.md "Reproducibility"), built from run states
 * only, so it is as fast as reading a few stored states: who the run is, the checklist with the
 * event that proves each item, how far it has been reproduced (L1 same machine and
 * environment, L2 same environment on another host, L3 across hardware) and by which runs,
 * each reproduction's verdict (bitwise, statistical, diverged), and the commands to run it
 * again.
 */
public record ReproReport(Identity identity, List<CheckItem> checklist, boolean checklistPassed, Level level,
                          List<Reproduction> reproductions, Reproduce reproduce) {

  /** Who the run is and what it ran on. */
  public record Identity(String runId, String experiment, String name, String status, String fingerprint,
                         Map<String, String> fingerprintParts, String repo, String commit, String branch, boolean dirty,
                         String diffDigest, String configDigest, List<Map<String, String>> datasets, Map<String, Long> seeds,
                         Map<String, String> determinismFlags, String host, String os, Map<String, String> runtimes,
                         String packageLockDigest, Map<String, Object> hardware, String reproductionOf, String resumedFrom) {}

  /** One checklist item: passed or not, why, and the ids of the events that show it. */
  public record CheckItem(String item, String title, boolean passed, String detail, List<String> evidence) {}

  /** The level reached, with the reproductions that reached it. */
  public record Level(String level, String explanation, List<String> evidenceRuns) {}

  /** One checkpoint step both runs saved, with both digests. */
  public record CheckpointPair(long step, String digest, String otherDigest, boolean equal) {}

  /** Another run compared with this one. */
  public record Reproduction(String runId, String relation, boolean sameFingerprint, List<String> fingerprintDifferences,
                             String verdict, String explanation, String level, List<String> environmentDifferences,
                             List<CheckpointPair> checkpoints, List<MetricComparison> metrics) {}

  /** How to run it again. */
  public record Reproduce(List<String> commands, Map<String, String> config, List<String> notes) {}

  static final Pattern DIGEST = Pattern.compile("[a-z0-9]+:[0-9a-fA-F]{16,}");

  /**
   * The report of {@code run}. {@code others} may hold any runs (every run the ledger knows, for
   * example); those that share its fingerprint, that it declares to reproduce, or that declare
   * to reproduce it are compared with it, in run-id order.
   */
  public static ReproReport of(RunState run, List<RunState> others) {
    Fingerprint fp = Fingerprint.of(run);
    String original = run.started() == null ? null : run.started().getReproductionOf();
    List<Reproduction> reproductions = new ArrayList<>();
    List<RunState> sorted = new ArrayList<>(others);
    sorted.sort(java.util.Comparator.comparing(RunState::runId));
    for (RunState other : sorted) {
      if (other.runId().equals(run.runId())) {
        continue;
      }
      Fingerprint ofp = Fingerprint.of(other);
      String otherOriginal = other.started() == null ? null : other.started().getReproductionOf();
      String relation;
      if (other.runId().equals(original)) {
        relation = "original_of_this_run";
      } else if (run.runId().equals(otherOriginal)) {
        relation = "declares_to_reproduce_this_run";
      } else if (ofp.digest().equals(fp.digest())) {
        relation = "same_fingerprint";
      } else {
        continue;
      }
      reproductions.add(compare(run, fp, other, ofp, relation));
    }
    List<CheckItem> checklist = checklist(run);
    return new ReproReport(identity(run, fp), checklist, checklist.stream().allMatch(CheckItem::passed), level(reproductions),
        reproductions, reproduce(run));
  }

  static Reproduction compare(RunState run, Fingerprint fp, RunState other, Fingerprint ofp, String relation) {
    List<CheckpointPair> pairs = new ArrayList<>();
    Map<Long, String> mine = new TreeMap<>();
    run.checkpoints().forEach(c -> mine.put(c.step(), c.digest()));
    Map<Long, String> theirs = new TreeMap<>();
    other.checkpoints().forEach(c -> theirs.put(c.step(), c.digest()));
    mine.forEach((step, digest) -> {
      String od = theirs.get(step);
      if (od != null) {
        pairs.add(new CheckpointPair(step, digest, od, digest.equals(od)));
      }
    });
    List<MetricComparison> metrics = MetricComparison.compare(List.of(run), List.of(other));
    String verdict;
    String explanation;
    long differing = pairs.stream().filter(p -> !p.equal()).count();
    List<String> outside = metrics.stream().filter(m -> !m.withinTolerance()).map(MetricComparison::metric).toList();
    if (!pairs.isEmpty() && differing == 0) {
      verdict = "BITWISE";
      explanation = "equal checkpoint digests at all " + pairs.size() + " steps both runs saved";
    } else if (!metrics.isEmpty() && outside.isEmpty()) {
      verdict = "STATISTICAL";
      explanation = (pairs.isEmpty() ? "no checkpoint step in common" : differing + " of " + pairs.size() + " checkpoint digests differ")
          + "; all " + metrics.size() + " metrics within tolerance";
    } else if (metrics.isEmpty()) {
      verdict = "NOT_COMPARABLE";
      explanation = (pairs.isEmpty() ? "no checkpoint step in common" : differing + " of " + pairs.size() + " checkpoint digests differ")
          + " and no metric in common";
    } else {
      verdict = "DIVERGED";
      explanation = (pairs.isEmpty() ? "no checkpoint step in common" : differing + " of " + pairs.size() + " checkpoint digests differ")
          + "; outside tolerance: " + String.join(", ", outside);
    }
    List<String> envDiff = environmentDifferences(run.started(), other.started());
    boolean reproduced = verdict.equals("BITWISE") || verdict.equals("STATISTICAL");
    return new Reproduction(other.runId(), relation, fp.digest().equals(ofp.digest()), fp.differences(ofp), verdict, explanation,
        reproduced ? levelOf(envDiff) : null, envDiff, pairs, metrics);
  }

  /** L3 when the hardware differs, L2 when the host or the software environment does, else L1. */
  static String levelOf(List<String> environmentDifferences) {
    if (environmentDifferences.stream().anyMatch(d -> d.startsWith("hardware."))) {
      return "L3";
    }
    return environmentDifferences.isEmpty() ? "L1" : "L2";
  }

  /** Which parts of two runs' environments differ, as dotted names: host, os, runtimes.X, package_lock_digest, hardware.X. */
  public static List<String> environmentDifferences(RunStarted a, RunStarted b) {
    List<String> out = new ArrayList<>();
    if (a == null || b == null) {
      if (a != b) {
        out.add("environment (one run has no RunStarted)");
      }
      return out;
    }
    RunEnvironment ea = a.getEnvironment();
    RunEnvironment eb = b.getEnvironment();
    diff(out, "host", ea.getHost(), eb.getHost());
    diff(out, "os", ea.getOs(), eb.getOs());
    java.util.Set<String> runtimes = new java.util.TreeSet<>(ea.getRuntimes().keySet());
    runtimes.addAll(eb.getRuntimes().keySet());
    for (String r : runtimes) {
      diff(out, "runtimes." + r, ea.getRuntimes().get(r), eb.getRuntimes().get(r));
    }
    diff(out, "package_lock_digest", ea.getPackageLockDigest(), eb.getPackageLockDigest());
    Map<String, Object> hb = hardware(eb.getHardware());
    hardware(ea.getHardware()).forEach((k, v) -> diff(out, "hardware." + k, v, hb.get(k)));
    return out;
  }

  private static void diff(List<String> out, String name, Object a, Object b) {
    if (!Objects.equals(a == null ? null : a.toString(), b == null ? null : b.toString())) {
      out.add(name);
    }
  }

  /** The hardware fields that make two machines different hardware (the raw report is left out). */
  static Map<String, Object> hardware(Hardware h) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("cpu", h.getCpu());
    m.put("cpu_count", h.getCpuCount());
    m.put("memory_bytes", h.getMemoryBytes());
    m.put("gpu_model", h.getGpuModel());
    m.put("gpu_count", h.getGpuCount());
    m.put("driver", h.getDriver());
    m.put("cuda", h.getCuda());
    return m;
  }

  static Level level(List<Reproduction> reproductions) {
    String best = null;
    List<String> runs = new ArrayList<>();
    for (Reproduction r : reproductions) {
      if (r.level() == null) {
        continue;
      }
      if (best == null || r.level().compareTo(best) > 0) {
        best = r.level();
        runs.clear();
      }
      if (r.level().equals(best)) {
        runs.add(r.runId());
      }
    }
    if (best == null) {
      long diverged = reproductions.stream().filter(r -> r.verdict().equals("DIVERGED")).count();
      String why = reproductions.isEmpty() ? "no other run shares this run's fingerprint or declares a reproduction relation with it"
          : reproductions.size() + " run(s) compared, none reproduced it" + (diverged > 0 ? " (" + diverged + " diverged)" : "");
      return new Level("none", why, List.of());
    }
    String what = switch (best) {
      case "L1" -> "reproduced on the same machine in the same environment";
      case "L2" -> "reproduced in the same environment on another host (or another software environment on the same hardware)";
      default -> "reproduced across hardware";
    };
    return new Level(best, what + " by " + String.join(", ", runs), List.copyOf(runs));
  }

  static Identity identity(RunState run, Fingerprint fp) {
    RunStarted s = run.started();
    CodeVersion code = s == null ? null : s.getCode();
    RunEnvironment env = s == null ? null : s.getEnvironment();
    List<Map<String, String>> datasets = new ArrayList<>();
    for (RunState.BoundDataset d : run.datasets()) {
      Map<String, String> m = new LinkedHashMap<>();
      m.put("role", d.role());
      m.put("name", d.name());
      m.put("version", d.version());
      m.put("digest", d.digest());
      datasets.add(m);
    }
    return new Identity(run.runId(), s == null ? null : s.getExperiment(), s == null ? null : s.getName(), run.status().name(),
        fp.digest(), fp.parts(), code == null ? null : code.getRepo(), code == null ? null : code.getCommit(),
        code == null ? null : code.getBranch(), code != null && code.getDirty(), code == null ? null : code.getDiffDigest(),
        run.configDigest(), datasets, s == null ? Map.of() : new TreeMap<>(s.getSeeds()),
        s == null ? Map.of() : new TreeMap<>(s.getDeterminismFlags()), env == null ? null : env.getHost(),
        env == null ? null : env.getOs(), env == null ? Map.of() : new TreeMap<>(env.getRuntimes()),
        env == null ? null : env.getPackageLockDigest(), env == null ? Map.of() : hardware(env.getHardware()),
        s == null ? null : s.getReproductionOf(), s == null ? null : s.getResumedFrom());
  }

  static List<CheckItem> checklist(RunState run) {
    RunStarted s = run.started();
    List<String> startedEvidence = run.startedEventId() == null ? List.of() : List.of(run.startedEventId());
    List<CheckItem> out = new ArrayList<>();

    RunState.ConfigVersion config = run.configHistory().isEmpty() ? null : run.configHistory().get(run.configHistory().size() - 1);
    boolean configOk = config != null && config.digest() != null && DIGEST.matcher(config.digest()).matches() && !run.config().isEmpty();
    out.add(new CheckItem("config_archived", "Config archived", configOk,
        config == null ? "no ConfigSnapshot was recorded"
            : configOk ? run.config().size() + " parameters, digest " + config.digest()
            : "the ConfigSnapshot has no parameters or no algorithm:hex digest",
        config == null || config.eventId() == null ? List.of() : List.of(config.eventId())));

    CodeVersion code = s == null ? null : s.getCode();
    boolean codeOk = code != null && code.getCommit() != null && !code.getDirty();
    String codeDetail = s == null ? "no RunStarted was recorded"
        : code.getCommit() == null ? "the code was not under version control (no commit recorded)"
        : code.getDirty() ? "the working tree had uncommitted changes at " + code.getCommit() + " (diff digest "
            + (code.getDiffDigest() == null ? "not recorded" : code.getDiffDigest()) + ")"
        : "commit " + code.getCommit() + (code.getBranch() == null ? "" : " on " + code.getBranch()) + ", clean working tree";
    out.add(new CheckItem("code_committed_and_clean", "Code committed and clean", codeOk, codeDetail, startedEvidence));

    List<String> unhashed = run.datasets().stream().filter(d -> d.version() == null || d.version().isBlank()
        || d.digest() == null || !DIGEST.matcher(d.digest()).matches()).map(d -> d.role() + " " + d.name()).toList();
    boolean dataOk = !run.datasets().isEmpty() && unhashed.isEmpty();
    out.add(new CheckItem("data_versioned_and_hashed", "Data versioned and hashed", dataOk,
        run.datasets().isEmpty() ? "no DatasetBound was recorded"
            : dataOk ? run.datasets().size() + " datasets bound, each with a version and a digest"
            : "without a version or an algorithm:hex digest: " + String.join(", ", unhashed),
        run.datasets().stream().map(RunState.BoundDataset::eventId).filter(Objects::nonNull).toList()));

    String lock = s == null ? null : s.getEnvironment().getPackageLockDigest();
    out.add(new CheckItem("dependencies_locked", "Dependencies locked", lock != null,
        s == null ? "no RunStarted was recorded" : lock == null ? "no lock file was found (requirements.txt, poetry.lock, pom.xml, ...)"
            : "lock files " + String.join(", ", new TreeMap<>(s.getEnvironment().getLockFiles()).keySet()) + ", combined digest " + lock,
        startedEvidence));

    boolean seedsOk = s != null && !s.getSeeds().isEmpty() && !s.getDeterminismFlags().isEmpty();
    out.add(new CheckItem("seeds_and_determinism_recorded", "Seeds and determinism flags recorded", seedsOk,
        s == null ? "no RunStarted was recorded"
            : "seeds " + (s.getSeeds().isEmpty() ? "none" : new TreeMap<>(s.getSeeds()).toString()) + "; determinism flags "
            + (s.getDeterminismFlags().isEmpty() ? "none" : new TreeMap<>(s.getDeterminismFlags()).toString()),
        startedEvidence));

    List<String> incomplete = new ArrayList<>();
    for (RunState.Checkpoint c : run.checkpoints()) {
      if (!c.complete() || !c.scheduler() || c.digest() == null || !DIGEST.matcher(c.digest()).matches()) {
        incomplete.add("step " + c.step());
      }
    }
    boolean ckOk = !run.checkpoints().isEmpty() && incomplete.isEmpty();
    out.add(new CheckItem("checkpoints_complete_and_hashed", "Checkpoints complete and hashed", ckOk,
        run.checkpoints().isEmpty() ? "no CheckpointSaved was recorded"
            : ckOk ? run.checkpoints().size() + " checkpoints with model, optimizer, scheduler, RNG and data cursor, each hashed"
            : "missing part of model, optimizer, scheduler, RNG, data cursor or an algorithm:hex digest: " + String.join(", ", incomplete),
        run.checkpoints().stream().map(RunState.Checkpoint::eventId).filter(Objects::nonNull).toList()));

    List<String> unfixed = new ArrayList<>();
    for (RunState.Evaluation e : run.evaluations()) {
      List<String> missing = new ArrayList<>();
      if (e.suiteVersion() == null) {
        missing.add("suite version");
      }
      if (e.decodingParams().isEmpty()) {
        missing.add("decoding parameters");
      } else if (generative(e) && e.promptVersion() == null) {
        missing.add("prompt version");
      }
      if (e.seed() == null) {
        missing.add("eval seed");
      }
      if (!missing.isEmpty()) {
        unfixed.add(e.evalId() + " (" + String.join(", ", missing) + ")");
      }
    }
    boolean evalOk = !run.evaluations().isEmpty() && unfixed.isEmpty();
    out.add(new CheckItem("evaluation_settings_fixed", "Evaluation settings fixed", evalOk,
        run.evaluations().isEmpty() ? "no EvaluationCompleted was recorded"
            : evalOk ? run.evaluations().size() + " evaluations with suite version, decoding parameters, prompt version where generative, and eval seed"
            : "not fixed: " + String.join("; ", unfixed),
        run.evaluations().stream().map(RunState.Evaluation::eventId).filter(Objects::nonNull).toList()));

    Hardware hw = s == null ? null : s.getEnvironment().getHardware();
    boolean gpu = hw != null && hw.getGpuCount() > 0;
    boolean hwOk = hw != null && hw.getCpu() != null && !hw.getCpu().isBlank() && (!gpu || (hw.getGpuModel() != null && hw.getDriver() != null));
    out.add(new CheckItem("hardware_and_driver_recorded", "Hardware and driver recorded", hwOk,
        hw == null ? "no RunStarted was recorded"
            : gpu ? hw.getGpuCount() + " x " + hw.getGpuModel() + ", driver " + hw.getDriver() + ", CUDA " + hw.getCuda() + "; CPU " + hw.getCpu()
            : "CPU " + hw.getCpu() + " (" + hw.getCpuCount() + " logical), no GPU",
        startedEvidence));
    return out;
  }

  /** An evaluation that generates text: decoding parameters other than a teacher-forced mode. */
  static boolean generative(RunState.Evaluation e) {
    String mode = e.decodingParams().get("mode");
    return !(e.decodingParams().size() == 1 && mode != null && mode.replace("\"", "").equals("teacher-forced"));
  }

  static Reproduce reproduce(RunState run) {
    RunStarted s = run.started();
    List<String> commands = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    CodeVersion code = s == null ? null : s.getCode();
    if (code != null && code.getCommit() != null) {
      if (code.getRepo() != null) {
        commands.add("git clone " + shell(code.getRepo()) + " src && cd src");
      }
      commands.add("git checkout " + shell(code.getCommit()));
      if (code.getDirty()) {
        notes.add("The run had uncommitted changes (diff " + (code.getDiffDigest() == null ? "digest not recorded" : code.getDiffDigest())
            + "): apply the same diff, or the reproduction starts from different code.");
      }
    } else {
      notes.add("No commit was recorded: the code cannot be checked out from the ledger's records.");
    }
    for (RunState.BoundDataset d : run.datasets()) {
      notes.add("Data (" + d.role() + "): " + d.name() + "@" + d.version() + " with digest " + d.digest() + ".");
    }
    if (s != null && s.getEnvironment().getPackageLockDigest() != null) {
      notes.add("Dependencies: lock files " + String.join(", ", new TreeMap<>(s.getEnvironment().getLockFiles()).keySet())
          + " with combined digest " + s.getEnvironment().getPackageLockDigest() + ".");
    }
    if (s != null) {
      StringBuilder run_ = new StringBuilder("ledger run");
      run_.append(" --experiment ").append(shell(s.getExperiment()));
      run_.append(" --reproduction-of ").append(shell(run.runId()));
      new TreeMap<>(s.getSeeds()).forEach((k, v) -> run_.append(" --seed ").append(shell(k + "=" + v)));
      new TreeMap<>(s.getDeterminismFlags()).forEach((k, v) -> run_.append(" --determinism ").append(shell(k + "=" + v)));
      if (!s.getCommandLine().isEmpty()) {
        run_.append(" --");
        for (String arg : s.getCommandLine()) {
          run_.append(' ').append(shell(arg));
        }
        commands.add(run_.toString());
      } else {
        notes.add("No command line was recorded.");
      }
    }
    if (run.configDigest() != null) {
      notes.add("The command's configuration must come out as digest " + run.configDigest() + "; its parameters are listed under config.");
    }
    return new Reproduce(commands, new TreeMap<>(run.config()), notes);
  }

  /** A shell word: as is when it is plain, else in single quotes. */
  static String shell(String s) {
    if (s == null) {
      return "''";
    }
    if (!s.isEmpty() && s.matches("[A-Za-z0-9_./:=@%+,-]+")) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
