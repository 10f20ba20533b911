package io.lineageledger.service.cli;

import io.lineageledger.service.bench.BenchCommand;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code ledger} command line. Exit codes: 0 success, 1 failure, 2 usage error. Options
 * take their defaults from {@code LEDGER_*} environment variables where named, so a
 * setting is layered defaults &lt; environment &lt; flags.
 */
@Command(name = "ledger", mixinStandardHelpOptions = true, versionProvider = LedgerCli.Version.class,
    description = "Lineage Ledger: an event-sourced record of how machine-learning models come to be.",
    subcommands = {UpCommand.class, RunCommand.class, EmitCommand.class, ShipCommand.class, RunsCommand.class, StateCommand.class, LineageCommand.class, ReplayCommand.class, RebuildCommand.class, ReportCommand.class, CompareCommand.class, BaselineCommand.class, AlertsCommand.class, DemoCommand.class, BenchCommand.class, CommandLine.HelpCommand.class})
public final class LedgerCli implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /** The command line with the ledger's exit-code conventions; also used by tests. */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new LedgerCli());
    cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
      commandLine.getErr().println("ledger " + commandLine.getCommandName() + ": " + e.getMessage());
      return 1;
    });
    return cli;
  }

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a command, for example: ledger up");
  }

  /** The ledger's version, from the jar's manifest. */
  static String version() {
    String v = LedgerCli.class.getPackage().getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** Reads the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String v = LedgerCli.class.getPackage().getImplementationVersion();
      return new String[] {"ledger " + (v == null ? "development build" : v)};
    }
  }
}
