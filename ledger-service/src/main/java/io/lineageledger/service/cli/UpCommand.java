package io.lineageledger.service.cli;

import io.lineageledger.service.LedgerNode;
import java.io.PrintWriter;
import io.lineageledger.projections.detect.DetectorSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ledger up}: runs the ledger in the foreground until Ctrl-C. */
@Command(name = "up", mixinStandardHelpOptions = true,
    description = "Start the ledger (embedded Kafka, schema registry, API) in the foreground; Ctrl-C stops it cleanly.",
    footer = {"", "With --bootstrap-servers and --schema-registry-url it uses an existing cluster and registry instead."})
public final class UpCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--data-dir", defaultValue = "${env:LEDGER_DATA_DIR:-.ledger}",
      description = "Where the embedded broker keeps its data (env LEDGER_DATA_DIR; default: ${DEFAULT-VALUE}).")
  Path dataDir;

  @Option(names = "--host", defaultValue = "${env:LEDGER_HOST:-localhost}",
      description = "Host name to listen on and advertise (env LEDGER_HOST; default: ${DEFAULT-VALUE}).")
  String host;

  @Option(names = "--kafka-port", defaultValue = "${env:LEDGER_KAFKA_PORT:-9092}", description = "Embedded broker port (default: ${DEFAULT-VALUE}).")
  int kafkaPort;

  @Option(names = "--controller-port", defaultValue = "${env:LEDGER_CONTROLLER_PORT:-9093}", description = "Embedded KRaft controller port (default: ${DEFAULT-VALUE}).")
  int controllerPort;

  @Option(names = "--registry-port", defaultValue = "${env:LEDGER_REGISTRY_PORT:-8081}", description = "Schema registry port (default: ${DEFAULT-VALUE}).")
  int registryPort;

  @Option(names = "--http-port", defaultValue = "${env:LEDGER_HTTP_PORT:-8080}", description = "Ledger API port (default: ${DEFAULT-VALUE}).")
  int httpPort;

  @Option(names = "--bootstrap-servers", defaultValue = "${env:LEDGER_BOOTSTRAP_SERVERS}",
      description = "Use this Kafka cluster instead of the embedded broker (env LEDGER_BOOTSTRAP_SERVERS).")
  String bootstrapServers;

  @Option(names = "--schema-registry-url", defaultValue = "${env:LEDGER_SCHEMA_REGISTRY_URL}",
      description = "Use this Confluent-compatible registry instead of the embedded one (env LEDGER_SCHEMA_REGISTRY_URL).")
  String schemaRegistryUrl;

  @Option(names = "--silent-after", defaultValue = "${env:LEDGER_SILENT_AFTER:-10m}",
      description = "Raise RUN_SILENT for an unfinished run that sent nothing for this long: 90s, 10m, 2h or ISO-8601 (env LEDGER_SILENT_AFTER; default: ${DEFAULT-VALUE}).")
  String silentAfter;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    Duration silence;
    try {
      silence = duration(silentAfter);
    } catch (IllegalArgumentException e) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--silent-after: " + e.getMessage());
    }
    LedgerNode node = LedgerNode.start(new LedgerNode.Settings(dataDir.toAbsolutePath().normalize(), host, kafkaPort,
        controllerPort, registryPort, httpPort, blankToNull(bootstrapServers), blankToNull(schemaRegistryUrl))
        .withDetectors(DetectorSettings.DEFAULTS.withSilentAfter(silence)));
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      out.println("Stopping the ledger...");
      out.flush();
      node.close();
      out.println("Stopped.");
      out.flush();
      stopped.countDown();
    }, "ledger-shutdown"));

    out.println("Lineage Ledger is up.");
    out.printf("  Kafka            %s%s%n", node.bootstrapServers(),
        node.kafkaDataDir() == null ? "  (existing cluster)" : "  (embedded, data in " + node.kafkaDataDir() + ")");
    out.printf("  Schema registry  %s%s%n", node.schemaRegistryUrl(), schemaRegistryUrl == null || schemaRegistryUrl.isBlank() ? "" : "  (existing)");
    out.printf("  Ledger API       %s/api/v1/health%n", node.apiUrl());
    out.println("Press Ctrl-C to stop.");
    out.flush();
    stopped.await();
    return 0;
  }

  /** {@code 90s}, {@code 10m}, {@code 2h}, {@code 1d} or an ISO-8601 duration such as {@code PT10M}; positive. */
  static Duration duration(String text) {
    String t = text.trim().toLowerCase(java.util.Locale.ROOT);
    Duration d;
    try {
      if (t.startsWith("p")) {
        d = Duration.parse(t.toUpperCase(java.util.Locale.ROOT));
      } else {
        long n = Long.parseLong(t.substring(0, t.length() - 1));
        d = switch (t.charAt(t.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          case 'd' -> Duration.ofDays(n);
          default -> throw new IllegalArgumentException();
        };
      }
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("'" + text + "' is not a duration; write 90s, 10m, 2h, 1d or PT10M");
    }
    if (d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("'" + text + "' must be longer than zero");
    }
    return d;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s.trim();
  }
}
