package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ledger rebuild}: rebuilds every projection from offset 0 and waits, with a progress bar. */
@Command(name = "rebuild", mixinStandardHelpOptions = true,
    description = "Rebuild every projection from offset 0 under a new application id; queries switch to it when it is done.")
public final class RebuildCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Option(names = "--no-wait", description = "Start the rebuild and return at once.")
  boolean noWait;

  @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    ApiClient client = api.client();
    JsonNode status = client.post("/api/v1/rebuild");
    while (!noWait && status.path("state").asText().equals("RUNNING")) {
      if (output == OutputFormat.table) {
        err.print("\r" + bar(status));
        err.flush();
      }
      Thread.sleep(500);
      status = client.get("/api/v1/rebuild");
    }
    if (output == OutputFormat.json) {
      out.println(ApiClient.pretty(status));
      out.flush();
    } else {
      err.println("\r" + bar(status));
      err.flush();
      String state = status.path("state").asText();
      if (state.equals("DONE")) {
        Duration took = Duration.between(Instant.parse(status.get("started_at").asText()), Instant.parse(status.get("finished_at").asText()));
        long total = status.path("total").asLong();
        out.printf("Rebuilt every projection from %,d events in %.1f s (%,.0f events/s); now serving from %s.%n", total,
            took.toMillis() / 1000.0, total / Math.max(0.001, took.toMillis() / 1000.0), status.path("application_id").asText());
      } else if (state.equals("RUNNING")) {
        out.printf("Rebuild under %s started; `ledger rebuild` again shows its progress.%n", status.path("application_id").asText());
      } else {
        out.flush();
        throw new CliException("the rebuild failed: " + status.path("error").asText());
      }
      out.flush();
    }
    return status.path("state").asText().equals("FAILED") ? 1 : 0;
  }

  static String bar(JsonNode s) {
    double f = s.path("fraction").asDouble();
    int filled = (int) Math.round(f * 30);
    return String.format("[%s%s] %3.0f%%  %,d/%,d events", "#".repeat(filled), " ".repeat(30 - filled), f * 100,
        s.path("consumed").asLong(), s.path("total").asLong());
  }
}
