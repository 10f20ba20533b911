package io.lineageledger.service.bench;

import picocli.CommandLine;
import picocli.CommandLine.Command;

/** {@code ledger bench}: benchmarks that always measure a raw-Kafka reference in the same run and print ratios. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Benchmarks against a raw-Kafka reference measured in the same run.",
    subcommands = {SerdeBenchmark.class, ProducersBenchmark.class, ProjectionsBenchmark.class, HistoryBenchmark.class, ReportBenchmark.class, LineageBenchmark.class,
        TrainerOverheadBenchmark.class})
public final class BenchCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a benchmark, for example: ledger bench serde");
  }
}
