package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.infra.FreePorts;
import io.lineageledger.service.cli.LedgerCli;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code ledger demo} from start to finish: lineage, the reproduction verdict and the alerts it promises. */
@Timeout(600)
class DemoIT {
  @TempDir
  Path dir;

  @Test
  void theDemoPrintsTheModelsLineageTheVerdictAndTheAlerts() throws Exception {
    StringWriter text = new StringWriter();
    CommandLine cli = LedgerCli.commandLine();
    cli.setOut(new PrintWriter(text, true));
    cli.setErr(new PrintWriter(text, true));
    int exit = cli.execute("demo", "--exit", "--data-dir", dir.resolve("ledger").toString(), "--trainer", TrainerBuild.binary().toString(),
        "--kafka-port", String.valueOf(FreePorts.next()), "--controller-port", String.valueOf(FreePorts.next()),
        "--registry-port", String.valueOf(FreePorts.next()), "--http-port", String.valueOf(FreePorts.next()));
    String out = text.toString();
    assertThat(exit).as(out).isZero();
    assertThat(out).contains("== Lineage of model:charlm-demo/v", "dataset:corpus.train@", "code:", "config:sha256:");
    assertThat(out).containsPattern("demo-\\S+-repro vs demo-\\S+-base: BITWISE");
    assertThat(out).containsPattern("METRIC_REGRESSION +CRITICAL +model:charlm-demo");
    assertThat(out).containsPattern("LOSS_CLIFF_AFTER_RESUME +CRITICAL +run:demo-\\S+-resumed");
    assertThat(out).contains("REGRESSED  val_loss");
    assertThat(out).doesNotContain("still waiting for");
  }
}
