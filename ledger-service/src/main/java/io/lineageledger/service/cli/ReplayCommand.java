package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger replay RUN --to-step N}: the resume manifest of a run at a step. */
@Command(name = "replay", mixinStandardHelpOptions = true,
    description = {"Print what resuming RUN at step N needs, rebuilt from the log: the configuration then in force, "
        + "the datasets with their digests, the seeds, the code, and the last complete checkpoint at or before N.",
        "The reference trainer resumes from the JSON form: lineage-trainer --resume-manifest FILE."})
public final class ReplayCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Parameters(index = "0", paramLabel = "RUN", description = "The run id.")
  String runId;

  @Option(names = "--to-step", required = true, paramLabel = "N", description = "The step to resume at.")
  long step;

  @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}); json is the manifest itself.")
  OutputFormat output;

  @Override
  public Integer call() {
    if (step < 0) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--to-step must be 0 or more, got " + step);
    }
    JsonNode m = api.client().get("/api/v1/runs/" + URLEncoder.encode(runId, StandardCharsets.UTF_8) + "/manifest?step=" + step);
    PrintWriter out = spec.commandLine().getOut();
    if (output == OutputFormat.json) {
      out.println(ApiClient.pretty(m));
      out.flush();
      return 0;
    }
    JsonNode ck = m.path("checkpoint");
    Table t = new Table("FIELD", "VALUE");
    t.row("run", RunsCommand.text(m, "run_id"));
    t.row("resume at step", RunsCommand.text(m, "to_step"));
    t.row("checkpoint", "step " + ck.path("step").asText() + "  " + ck.path("digest").asText());
    t.row("checkpoint uri", RunsCommand.text(ck, "uri"));
    t.row("config digest", RunsCommand.text(m.path("config"), "digest"));
    m.path("config").path("params").fields().forEachRemaining(p -> t.row("  " + p.getKey(), p.getValue().isTextual() ? p.getValue().asText() : p.getValue().toString()));
    for (JsonNode d : m.path("datasets")) {
      t.row("dataset (" + d.path("role").asText() + ")", d.path("name").asText() + "@" + d.path("version").asText() + "  " + d.path("digest").asText());
    }
    m.path("seeds").fields().forEachRemaining(s -> t.row("seed " + s.getKey(), s.getValue().asText()));
    JsonNode code = m.path("code");
    t.row("code", code.isMissingNode() || code.isNull() ? null : RunsCommand.text(code, "commit") + (code.path("dirty").asBoolean() ? " (dirty)" : ""));
    t.print(out);
    out.println();
    out.println("To resume: ledger replay " + runId + " --to-step " + step + " --output json > manifest.json");
    out.println("           lineage-trainer --resume-manifest manifest.json");
    out.flush();
    return 0;
  }
}
