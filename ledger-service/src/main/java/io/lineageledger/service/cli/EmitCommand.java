package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.ndjson.NdjsonProtocol;
import io.lineageledger.producers.ndjson.NdjsonPublisher;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger emit [FILE|-]...}: publishes NDJSON events (producers/PROTOCOL.md). */
@Command(name = "emit", mixinStandardHelpOptions = true,
    description = {"Publish NDJSON events (one JSON object per line, see producers/PROTOCOL.md) from files or stdin.",
        "A bad line is reported on stderr as FILE:LINE: reason and kept in the rejects file; the other lines are still published.",
        "While the broker is unreachable events go to the spool and are shipped by the next ledger command or `ledger ship`."},
    footer = {"", "Exit codes: 0 every line published or spooled, 1 some lines rejected or a failure, 2 usage error."})
public final class EmitCommand implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  ClientOptions client;

  @Parameters(arity = "0..*", paramLabel = "FILE|-", description = "NDJSON files; '-' or nothing reads stdin.")
  List<String> files = new ArrayList<>();

  @Option(names = "--output", defaultValue = "table", description = "Summary format: table or json (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() throws Exception {
    if (files.isEmpty()) {
      files = List.of("-");
    }
    for (String f : files) {
      if (!f.equals("-") && !Files.isReadable(Path.of(f))) {
        throw new picocli.CommandLine.ParameterException(spec.commandLine(), "cannot read " + f + ": no such readable file");
      }
    }
    PrintStream err = System.err;
    List<NdjsonPublisher.Summary> summaries = new ArrayList<>();
    boolean drained;
    try (LedgerClient ledger = client.client("ledger-emit")) {
      List<NdjsonPublisher> publishers = new ArrayList<>();
      for (String f : files) {
        // One protocol per source: config_snapshot changed_keys compare within one file.
        NdjsonPublisher publisher = new NdjsonPublisher(ledger, new NdjsonProtocol(), client.rejectsFile(), err, f.equals("-") ? "<stdin>" : f);
        try (BufferedReader in = f.equals("-")
            ? new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))
            : Files.newBufferedReader(Path.of(f), StandardCharsets.UTF_8)) {
          publisher.readAll(in);
        }
        publishers.add(publisher);
      }
      for (NdjsonPublisher p : publishers) {
        summaries.add(p.finish());
      }
      drained = ledger.drainNow();
    }
    print(summaries, drained);
    return summaries.stream().anyMatch(s -> s.rejected() > 0) ? 1 : 0;
  }

  private void print(List<NdjsonPublisher.Summary> summaries, boolean drained) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    if (output == OutputFormat.json) {
      out.println(new ObjectMapper().writeValueAsString(summaries.size() == 1 ? summaries.get(0) : summaries));
    } else {
      Table t = new Table("SOURCE", "LINES", "PUBLISHED", "SPOOLED", "REJECTED");
      for (NdjsonPublisher.Summary s : summaries) {
        t.row(s.source(), s.lines(), s.published(), s.spooled(), s.rejected());
      }
      t.print(out);
      if (summaries.stream().anyMatch(s -> s.rejected() > 0)) {
        out.println("Rejected lines are kept in " + summaries.get(0).rejectsFile());
      }
      if (!drained) {
        out.println("The broker is unreachable: spooled events wait in " + client.spoolDir()
            + "; the next ledger command or `ledger ship " + client.spoolDir() + "` publishes them.");
      }
    }
    out.flush();
  }
}
