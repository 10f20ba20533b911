package io.lineageledger.service.bench;

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

  boolean json() {
    return output.equals("json");
  }

  BenchCluster cluster() {
    return new BenchCluster(bootstrapServers, schemaRegistryUrl);
  }

  static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }
}
