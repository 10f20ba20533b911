package io.lineageledger.service.bench;

import java.lang.management.ManagementFactory;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/** Options every benchmark takes: the cluster to run against and the output format; and the statistics they report. */
final class BenchOptions {
  @Option(names = "--bootstrap-servers", description = "An existing cluster (with --schema-registry-url); default: an embedded one.")
  String bootstrapServers;

  @Option(names = "--schema-registry-url", description = "An existing registry (with --bootstrap-servers).")
  String schemaRegistryUrl;

  @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
  String output;

  /** Fails with a usage error for an unknown output format. */
  void validate(CommandLine commandLine) {
    if (!output.equals("table") && !output.equals("json")) {
      throw new CommandLine.ParameterException(commandLine, "--output must be table or json, not '" + output + "'");
    }
  }

  /**
   * A benchmark's fill waits for a full producer buffer rather than failing the send after the
   * client's usual half second: on a loaded machine the fill outruns the broker.
   */
  static final java.time.Duration FILL_MAX_BLOCK = java.time.Duration.ofSeconds(60);
  static final java.time.Duration FILL_DELIVERY_TIMEOUT = java.time.Duration.ofMinutes(2);

  /** Fails, saying how many, when any event of a fill was not published (after the client's flush). */
  static void requireAllPublished(io.lineageledger.producers.LedgerClient client) {
    io.lineageledger.producers.LedgerClient.Stats s = client.stats();
    if (s.failed() > 0 || s.spooled() > 0) {
      throw new IllegalStateException("filling the benchmark's topic: " + s.failed() + " events failed and " + s.spooled()
          + " were spooled of " + s.settled() + "; the figures would be over a topic short of them");
    }
  }

  boolean json() {
    return output.equals("json");
  }

  BenchCluster cluster() {
    return new BenchCluster(bootstrapServers, schemaRegistryUrl);
  }

  /** The nearest-rank percentile {@code p} (0 to 1) of ascending {@code sorted}. */
  static double percentile(double[] sorted, double p) {
    return sorted[(int) Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * p) - 1))];
  }

  /** Deletes a benchmark's temporary directory and everything in it; a leftover is harmless, so failures are ignored. */
  static void deleteTree(java.nio.file.Path dir) {
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (java.io.IOException e) {
      // a leftover temporary directory is harmless
    }
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** CPU time of this whole process (every thread, the embedded broker's included), in nanoseconds. */
  static long processCpuNanos() {
    return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
  }

  /** Milliseconds the JIT compilers have spent so far. */
  static long compileMillis() {
    return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
  }

  /** One side of a benchmark: publishes n events, returns events per second. */
  interface Side {
    double run(int n) throws Exception;
  }

  /** How a warm-up went: rounds run, seconds taken, and the share of the last round's time the JIT spent compiling. */
  record Warmup(int rounds, double seconds, double lastCompileShare) {}

  /**
   * Runs every side with {@code records} events per round until the JIT has settled: at least
   * {@code minRounds} rounds, then until a whole round spends under 2% of its time compiling (a
   * large application such as an embedded broker keeps two cores compiling for tens of
   * seconds, which would otherwise be measured), or {@code maxSeconds} have passed.
   */
  static Warmup warmUp(List<Side> sides, int records, int minRounds, double maxSeconds) throws Exception {
    long start = System.nanoTime();
    int rounds = 0;
    double share;
    while (true) {
      long roundStart = System.nanoTime();
      long compile = compileMillis();
      for (Side side : sides) {
        side.run(records);
      }
      rounds++;
      share = (compileMillis() - compile) / ((System.nanoTime() - roundStart) / 1e6);
      double elapsed = (System.nanoTime() - start) / 1e9;
      if (rounds >= minRounds && (share < 0.02 || elapsed >= maxSeconds)) {
        return new Warmup(rounds, elapsed, share);
      }
    }
  }
}
