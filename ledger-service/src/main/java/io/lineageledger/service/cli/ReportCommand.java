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

/** {@code ledger report RUN}: the run's reproducibility report. */
@Command(name = "report", mixinStandardHelpOptions = true,
    description = {"Print a run's reproducibility report: identity, the checklist with the event proving each item, the level "
        + "reached (L1 same machine, L2 same environment elsewhere, L3 across hardware), each reproduction's verdict "
        + "(bitwise or statistical, with CIs and Welch's test) and the commands to reproduce it.",
        "--output html writes one self-contained page (with loss curves) to stdout."})
public final class ReportCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Parameters(index = "0", paramLabel = "RUN", description = "The run id.")
  String runId;

  @Option(names = "--output", defaultValue = "md", description = "md (also: table), json or html (default: ${DEFAULT-VALUE}).")
  String output;

  @Override
  public Integer call() {
    String format = DocumentFormat.of(output, spec);
    PrintWriter out = spec.commandLine().getOut();
    out.print(DocumentFormat.fetch(api.client(), "/api/v1/runs/" + URLEncoder.encode(runId, StandardCharsets.UTF_8) + "/report", format));
    out.flush();
    return 0;
  }
}
