package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away while the reference trainer is emitting under {@code ledger run}: the
 * trainer finishes unharmed, the rest of the run waits in the spool, and once the broker is
 * back {@code ledger ship} (twice, and on a copy) puts every event in Kafka exactly once.
 */
@Timeout(600)
class TrainerOutageIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir
  Path dir;
  LedgerCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void aBrokerOutageMidRunLosesAndDuplicatesNothing() throws Exception {
    Path trainer = TrainerBuild.binary();
    cluster = new LedgerCluster(dir.resolve("ledger")).start();
    Path spool = dir.resolve("node/spool");
    Process run = LedgerCliProcess.start(dir, cluster.env(), "run", List.of("run", "--run-id", "outage-1", "--spool-dir", spool.toString(),
        "--", trainer.toString(), "--steps", "3000", "--log-every", "10", "--checkpoint-every", "500", "--out", dir.resolve("out").toString()));

    // Wait until the run is visibly streaming, then take the broker away.
    await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(200)).until(() ->
        EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl()).stream()
            .anyMatch(e -> e.event().getPayload() instanceof StepSummary));
    cluster.stop();
    assertThat(run.waitFor(300, TimeUnit.SECONDS)).isTrue();
    assertThat(run.exitValue()).as(Files.readString(dir.resolve("run.err"))).isZero();
    Path events = spool.resolveSibling("runs").resolve("outage-1").resolve("events.ndjson");
    long lines = Files.readAllLines(events).stream().filter(l -> !l.isBlank()).count();

    Path copy = dir.resolve("copy/spool");
    ShipIT.copyTree(spool, copy);
    cluster.start();
    for (Path s : List.of(spool, spool, copy)) {
      LedgerCliProcess.Result r = LedgerCliProcess.run(dir, cluster.env(), "ship", "ship", s.toString());
      assertThat(r.exitCode()).as(r.stderr()).isZero();
    }

    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    List<EventLog.Entry> ofRun = log.stream().filter(e -> e.event().getSubject().equals("run:outage-1")
        || !e.event().getSubject().startsWith("run:")).toList();
    Map<String, Long> perId = ofRun.stream().collect(Collectors.groupingBy(e -> e.event().getEventId(), Collectors.counting()));
    assertThat(perId.values()).as("every event once").containsOnly(1L);
    assertThat(perId).as("every line the trainer wrote, plus run_started and run_finished").hasSize((int) lines + 2);
    List<Long> steps = ofRun.stream().filter(e -> e.event().getPayload() instanceof StepSummary)
        .sorted(java.util.Comparator.comparingLong(EventLog.Entry::offset))
        .map(e -> ((StepSummary) e.event().getPayload()).getStep()).toList();
    assertThat(steps).as("no gap, no reordering across the outage").isEqualTo(
        java.util.stream.LongStream.rangeClosed(1, 300).map(i -> i * 10).boxed().toList());
    RunFinished finished = ofRun.stream().filter(e -> e.event().getPayload() instanceof RunFinished)
        .map(e -> (RunFinished) e.event().getPayload()).findFirst().orElseThrow();
    assertThat(finished.getStatus()).isEqualTo(RunStatus.COMPLETED);
  }
}
