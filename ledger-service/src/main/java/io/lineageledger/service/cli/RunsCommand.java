package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code ledger runs}: every run the ledger knows, with its status and progress. */
@Command(name = "runs", mixinStandardHelpOptions = true, description = "List runs: status, latest step and loss, last event.")
public final class RunsCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    JsonNode body = api.client().get("/api/v1/runs");
    if (output == OutputFormat.json) {
      out.println(ApiClient.pretty(body));
    } else {
      Table t = new Table("RUN", "EXPERIMENT", "STATUS", "STEP", "LOSS", "EVENTS", "LAST EVENT");
      for (JsonNode r : body.get("runs")) {
        t.row(text(r, "run_id"), text(r, "experiment"), text(r, "status"), text(r, "latest_step"), text(r, "latest_loss"),
            text(r, "events"), text(r, "last_event_at"));
      }
      t.print(out);
    }
    out.flush();
    if (!body.path("complete").asBoolean(true)) {
      PrintWriter err = spec.commandLine().getErr();
      body.path("missing_instances").forEach(m -> err.println("warning: instance " + m.path("instance").asText()
          + " did not answer (" + m.path("reason").asText() + "); its runs are missing"));
      if (body.has("unowned_partitions")) {
        err.println("warning: no instance holds partitions " + body.get("unowned_partitions") + " right now (rebalancing); their runs are missing");
      }
      err.flush();
    }
    return 0;
  }

  static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
