package io.lineageledger.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.lineageledger.service.cli.LedgerCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The benchmark harness runs end to end on an embedded broker and reports both sides and their ratio. */
@Timeout(240)
class SerdeBenchmarkIT {

  @Test
  void serdeBenchmarkReportsRawLedgerAndRatio() throws Exception {
    JsonNode result = BenchRun.json("bench", "serde", "--records", "5000", "--warmup-records", "1000", "--rounds", "1", "--output", "json");
    assertThat(result.get("raw_median_records_per_s").asDouble()).isPositive();
    assertThat(result.get("ledger_median_records_per_s").asDouble()).isPositive();
    assertThat(result.get("ratio").asDouble())
        .isEqualTo(result.get("ledger_median_records_per_s").asDouble() / result.get("raw_median_records_per_s").asDouble());
    assertThat(result.get("mean_record_bytes").asDouble()).isGreaterThan(100);
  }

  @Test
  void badOutputFormatIsAUsageError() {
    StringWriter err = new StringWriter();
    var cli = LedgerCli.commandLine();
    cli.setErr(new PrintWriter(err));
    assertThat(cli.execute("bench", "serde", "--output", "yaml")).isEqualTo(2);
    assertThat(err.toString()).contains("--output must be table or json");
  }
}
