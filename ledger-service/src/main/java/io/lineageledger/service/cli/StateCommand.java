package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger state RUN}: a run's state now, or rebuilt from its events as of a step or a time. */
@Command(name = "state", mixinStandardHelpOptions = true,
    description = "Show a run's state: live, or rebuilt from the log with --at-step N or --at TIME.")
public final class StateCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Parameters(index = "0", paramLabel = "RUN", description = "The run id.")
  String runId;

  @ArgGroup(exclusive = true)
  AsOf asOf;

  static final class AsOf {
    @Option(names = "--at-step", paramLabel = "N", description = "The state when step N was the latest.")
    Long step;

    @Option(names = "--at", paramLabel = "TIME", description = "The state as of an ISO-8601 UTC time, e.g. 2026-11-22T10:15:00Z.")
    String at;
  }

  @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() {
    String id = URLEncoder.encode(runId, StandardCharsets.UTF_8);
    String path = asOf == null ? "/api/v1/runs/" + id
        : asOf.step != null ? "/api/v1/runs/" + id + "/state?step=" + asOf.step
        : "/api/v1/runs/" + id + "/state?at=" + URLEncoder.encode(asOf.at, StandardCharsets.UTF_8);
    JsonNode s = api.client().get(path);
    PrintWriter out = spec.commandLine().getOut();
    if (output == OutputFormat.json) {
      out.println(ApiClient.pretty(s));
      out.flush();
      return 0;
    }
    JsonNode started = s.path("started");
    Table t = new Table("FIELD", "VALUE");
    t.row("run", RunsCommand.text(s, "run_id"));
    t.row("status", RunsCommand.text(s, "status"));
    t.row("experiment", started.isMissingNode() || started.isNull() ? null : RunsCommand.text(started, "experiment"));
    JsonNode code = started.path("code");
    t.row("code", code.isMissingNode() || code.isNull() ? null
        : RunsCommand.text(code, "commit") + (code.path("dirty").asBoolean() ? " (dirty)" : ""));
    t.row("seeds", started.path("seeds").isObject() ? started.get("seeds").toString() : null);
    t.row("config digest", RunsCommand.text(s, "config_digest"));
    t.row("config changes", s.path("config_history").size());
    for (JsonNode d : s.path("datasets")) {
      t.row("dataset (" + d.path("role").asText() + ")", d.path("name").asText() + "@" + d.path("version").asText() + "  " + d.path("digest").asText());
    }
    t.row("latest step", RunsCommand.text(s, "latest_step"));
    t.row("latest loss", RunsCommand.text(s, "latest_loss"));
    s.path("latest_metrics").fields().forEachRemaining(m -> t.row("  " + m.getKey(), m.getValue().asText()));
    for (JsonNode c : s.path("checkpoints")) {
      t.row("checkpoint @" + c.path("step").asText(), c.path("digest").asText() + (c.path("complete").asBoolean() ? "" : "  (incomplete)"));
    }
    for (JsonNode e : s.path("evaluations")) {
      t.row("evaluation " + e.path("eval_id").asText(), e.path("metrics").toString());
    }
    t.row("events", RunsCommand.text(s, "events"));
    t.row("last event", RunsCommand.text(s, "last_event_at"));
    t.print(out);
    out.flush();
    return 0;
  }
}
