package io.lineageledger.projections.repro;

import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.RunStarted;
import io.lineageledger.projections.run.RunState;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Two runs, or two groups of runs (the seeds of a baseline and of a variant), side by side:
 * what differs in config, data, code, seeds and environment, and every metric both sides have
 * with its direction, CIs and, with several values per side, Welch's test. The config, data,
 * code, seed and environment diffs compare the first run of each side; the metrics use every
 * run (see {@link MetricComparison}).
 */
public record RunComparison(List<String> a, List<String> b, boolean sameFingerprint, List<String> fingerprintDifferences,
                            ConfigDiff config, List<DataDiff> data, CodeDiff code, List<ValueDiff> seeds,
                            List<ValueDiff> environment, List<MetricComparison> metrics) {

  /** Keys only in b (added), only in a (removed), and in both with other values (changed, as [a, b]). */
  public record ConfigDiff(Map<String, String> added, Map<String, String> removed, Map<String, List<String>> changed) {}

  /** A dataset role on each side. */
  public record DataDiff(String role, String a, String aDigest, String b, String bDigest, boolean same) {}

  public record CodeDiff(String aCommit, boolean aDirty, String aDiffDigest, String bCommit, boolean bDirty, String bDiffDigest,
                         boolean same) {}

  /** A named value on each side that differs. */
  public record ValueDiff(String name, String a, String b) {}

  public static RunComparison of(List<RunState> a, List<RunState> b) {
    if (a.isEmpty() || b.isEmpty()) {
      throw new IllegalArgumentException("each side of a comparison needs at least one run");
    }
    RunState ra = a.get(0);
    RunState rb = b.get(0);
    Fingerprint fa = Fingerprint.of(ra);
    Fingerprint fb = Fingerprint.of(rb);
    return new RunComparison(a.stream().map(RunState::runId).toList(), b.stream().map(RunState::runId).toList(),
        fa.digest().equals(fb.digest()), fa.differences(fb), config(ra.config(), rb.config()), data(ra, rb), code(ra.started(), rb.started()),
        seeds(ra.started(), rb.started()), environment(ra.started(), rb.started()), MetricComparison.compare(a, b));
  }

  static ConfigDiff config(Map<String, String> a, Map<String, String> b) {
    Map<String, String> added = new TreeMap<>();
    Map<String, String> removed = new TreeMap<>();
    Map<String, List<String>> changed = new TreeMap<>();
    b.forEach((k, v) -> {
      if (!a.containsKey(k)) {
        added.put(k, v);
      } else if (!Objects.equals(a.get(k), v)) {
        changed.put(k, java.util.Arrays.asList(a.get(k), v));
      }
    });
    a.forEach((k, v) -> {
      if (!b.containsKey(k)) {
        removed.put(k, v);
      }
    });
    return new ConfigDiff(added, removed, changed);
  }

  static List<DataDiff> data(RunState a, RunState b) {
    Map<String, RunState.BoundDataset> da = byRole(a);
    Map<String, RunState.BoundDataset> db = byRole(b);
    TreeSet<String> roles = new TreeSet<>(da.keySet());
    roles.addAll(db.keySet());
    List<DataDiff> out = new ArrayList<>();
    for (String role : roles) {
      RunState.BoundDataset x = da.get(role);
      RunState.BoundDataset y = db.get(role);
      out.add(new DataDiff(role, x == null ? null : x.name() + "@" + x.version(), x == null ? null : x.digest(),
          y == null ? null : y.name() + "@" + y.version(), y == null ? null : y.digest(),
          x != null && y != null && x.digest().equals(y.digest()) && x.name().equals(y.name()) && x.version().equals(y.version())));
    }
    return out;
  }

  /** The latest dataset bound per role (a role bound twice keeps the later one). */
  private static Map<String, RunState.BoundDataset> byRole(RunState s) {
    Map<String, RunState.BoundDataset> m = new LinkedHashMap<>();
    s.datasets().forEach(d -> m.put(d.role(), d));
    return m;
  }

  static CodeDiff code(RunStarted a, RunStarted b) {
    CodeVersion ca = a == null ? null : a.getCode();
    CodeVersion cb = b == null ? null : b.getCode();
    String aCommit = ca == null ? null : ca.getCommit();
    String bCommit = cb == null ? null : cb.getCommit();
    boolean aDirty = ca != null && ca.getDirty();
    boolean bDirty = cb != null && cb.getDirty();
    String aDiff = ca == null ? null : ca.getDiffDigest();
    String bDiff = cb == null ? null : cb.getDiffDigest();
    return new CodeDiff(aCommit, aDirty, aDiff, bCommit, bDirty, bDiff,
        Objects.equals(aCommit, bCommit) && aDirty == bDirty && Objects.equals(aDiff, bDiff));
  }

  static List<ValueDiff> seeds(RunStarted a, RunStarted b) {
    Map<String, Long> sa = a == null ? Map.of() : a.getSeeds();
    Map<String, Long> sb = b == null ? Map.of() : b.getSeeds();
    TreeSet<String> names = new TreeSet<>(sa.keySet());
    names.addAll(sb.keySet());
    List<ValueDiff> out = new ArrayList<>();
    for (String n : names) {
      if (!Objects.equals(sa.get(n), sb.get(n))) {
        out.add(new ValueDiff(n, str(sa.get(n)), str(sb.get(n))));
      }
    }
    return out;
  }

  static List<ValueDiff> environment(RunStarted a, RunStarted b) {
    List<ValueDiff> out = new ArrayList<>();
    if (a == null || b == null) {
      return out;
    }
    for (String name : ReproReport.environmentDifferences(a, b)) {
      out.add(new ValueDiff(name, str(environmentValue(a, name)), str(environmentValue(b, name))));
    }
    return out;
  }

  private static Object environmentValue(RunStarted s, String name) {
    var env = s.getEnvironment();
    return switch (name) {
      case "host" -> env.getHost();
      case "os" -> env.getOs();
      case "package_lock_digest" -> env.getPackageLockDigest();
      default -> name.startsWith("runtimes.") ? env.getRuntimes().get(name.substring("runtimes.".length()))
          : name.startsWith("hardware.") ? ReproReport.hardware(env.getHardware()).get(name.substring("hardware.".length())) : null;
    };
  }

  private static String str(Object o) {
    return o == null ? null : o.toString();
  }
}
