package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.producers.Spool;
import io.lineageledger.producers.SpoolDrain;
import io.lineageledger.producers.SpoolShipper;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code ledger ship SPOOL}: publishes a spool, for example one copied from a compute node
 * that had no network. Safe to repeat: each batch is committed to Kafka in one transaction
 * together with the spool's progress, so a second run publishes only what the first did not.
 */
@Command(name = "ship", mixinStandardHelpOptions = true,
    description = {"Publish the events of a spool directory (written while the broker was unreachable, possibly on another machine).",
        "Safe to repeat: events already shipped from this spool are not published again."},
    footer = {"", "Exit codes: 0 shipped, 1 the broker or registry is unreachable or the spool is unreadable, 2 usage error."})
public final class ShipCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions client;

  @Parameters(index = "0", paramLabel = "SPOOL", description = "The spool directory.")
  Path spoolDir;

  @Option(names = "--delete", description = "Delete the shipped segments afterwards (by default the spool is left as it is).")
  boolean delete;

  @Option(names = "--timeout", defaultValue = "PT30S", description = "How long to wait for an unreachable broker (ISO-8601 duration; default: ${DEFAULT-VALUE}).")
  Duration timeout;

  @Option(names = "--output", defaultValue = "table", description = "Summary format: table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    if (!Files.isDirectory(spoolDir) || !Files.exists(spoolDir.resolve("spool.id"))) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(),
          spoolDir + " is not a spool directory (it has no spool.id file)");
    }
    SpoolDrain.Result result;
    try (Spool spool = Spool.open(spoolDir, Long.MAX_VALUE)) {
      SpoolShipper shipper = new SpoolShipper(client.kafka(), new RestSchemaRegistryClient(client.schemaRegistryUrl),
          io.lineageledger.producers.LedgerClient.DEFAULT_TOPIC, timeout);
      result = shipper.ship(spool);
      if (delete && result.lastShipped() >= 0) {
        spool.deleteThrough(result.lastShipped());
      }
    }
    PrintWriter out = spec.commandLine().getOut();
    if (output == OutputFormat.json) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("spool", spoolDir.toString());
      m.put("spool_id", result.spoolId());
      m.put("already_shipped_through", result.alreadyShipped());
      m.put("published", result.published());
      m.put("shipped_through", result.lastShipped());
      out.println(new ObjectMapper().writeValueAsString(m));
    } else {
      new Table("SPOOL", "SPOOL ID", "PUBLISHED NOW", "SHIPPED THROUGH SEQ")
          .row(spoolDir, result.spoolId(), result.published(), result.lastShipped()).print(out);
      if (result.published() == 0 && result.alreadyShipped() >= 0) {
        out.println("Nothing new: this spool was already shipped through sequence " + result.alreadyShipped() + ".");
      }
    }
    out.flush();
    return 0;
  }
}
