package io.lineageledger.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.service.cli.LedgerCli;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;

/** Runs a {@code ledger bench} command in process and reads its JSON report. */
public final class BenchRun {
  private BenchRun() {}

  /**
   * The JSON a successful run printed; a run that exits non-zero fails the test with the command
   * line, what it printed and its error stream, which names the reason.
   */
  public static JsonNode json(String... args) throws IOException {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    var cli = LedgerCli.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int exit = cli.execute(args);
    assertThat(exit).as("ledger %s exited %d%n--- stdout ---%n%s%n--- stderr ---%n%s", String.join(" ", args), exit, out, err).isZero();
    return new ObjectMapper().readTree(out.toString());
  }
}
