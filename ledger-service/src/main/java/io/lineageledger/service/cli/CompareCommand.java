package io.lineageledger.service.cli;

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

/** {@code ledger compare A B}: two runs (or two comma-separated groups of runs) side by side. */
@Command(name = "compare", mixinStandardHelpOptions = true,
    description = {"Compare two runs: config diff (added, removed, changed keys), data, code, seeds and environment diffs, "
        + "and every metric with its direction, mean ± 95% CI, n, and Welch's test and a bootstrap CI when a side has several values.",
        "A and B may each name several runs separated by commas (for example five seeds of a baseline and five of a variant): "
        + "the metrics then use one value per run."})
public final class CompareCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Parameters(index = "0", paramLabel = "A", description = "A run id, or run ids separated by commas.")
  String a;

  @Parameters(index = "1", paramLabel = "B", description = "A run id, or run ids separated by commas.")
  String b;

  @Option(names = "--output", defaultValue = "md", description = "md (also: table), json or html (default: ${DEFAULT-VALUE}).")
  String output;

  @Override
  public Integer call() {
    String format = DocumentFormat.of(output, spec);
    PrintWriter out = spec.commandLine().getOut();
    out.print(DocumentFormat.fetch(api.client(), "/api/v1/compare?a=" + URLEncoder.encode(a, StandardCharsets.UTF_8)
        + "&b=" + URLEncoder.encode(b, StandardCharsets.UTF_8), format));
    out.flush();
    return 0;
  }
}
