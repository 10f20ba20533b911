package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A compute node without network: {@code ledger emit} spools everything; the spool is copied
 * to a machine that reaches the broker and shipped there twice; every event lands once.
 */
@Timeout(300)
class ShipIT {
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
  void aCopiedSpoolShippedTwicePublishesEachEventOnce() throws Exception {
    cluster = new LedgerCluster(dir.resolve("ledger")); // not started: the broker is unreachable
    List<String> lines = new ArrayList<>();
    for (int n = 1; n <= 1200; n++) {
      lines.add("{\"type\":\"step_summary\",\"run_id\":\"ship-it\",\"step\":" + n + ",\"loss\":" + (2.0 / n) + "}");
    }
    Path file = dir.resolve("offline.ndjson");
    Files.write(file, lines);
    Path nodeSpool = dir.resolve("node/spool");

    LedgerCliProcess.Result offline = LedgerCliProcess.run(dir, cluster.env(), "emit-offline", "emit", "--spool-dir", nodeSpool.toString(),
        "--output", "json", file.toString());
    assertThat(offline.exitCode()).as(offline.stderr()).isZero();
    assertThat(JSON.readTree(offline.stdout()).get("spooled").asLong()).isEqualTo(1200);

    Path copy = dir.resolve("copied/spool");
    copyTree(nodeSpool, copy);
    cluster.start();

    JsonNode first = ship(copy, "ship-1");
    JsonNode second = ship(copy, "ship-2");
    JsonNode original = ship(nodeSpool, "ship-original");
    assertThat(first.get("published").asLong()).isEqualTo(1200);
    assertThat(second.get("published").asLong()).isZero();
    assertThat(original.get("published").asLong()).as("the original spool has the copy's identity").isZero();

    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    Map<String, Long> counts = log.stream().collect(Collectors.groupingBy(e -> e.event().getEventId(), Collectors.counting()));
    assertThat(counts).hasSize(1200).allSatisfy((id, c) -> assertThat(c).as(id).isEqualTo(1L));
    List<Long> steps = log.stream().map(e -> ((io.lineageledger.events.StepSummary) e.event().getPayload()).getStep()).toList();
    assertThat(steps).as("one subject, one partition: shipped in the order written").isSorted().hasSize(1200);
  }

  private JsonNode ship(Path spool, String name) throws Exception {
    LedgerCliProcess.Result r = LedgerCliProcess.run(dir, cluster.env(), name, "ship", "--output", "json", spool.toString());
    assertThat(r.exitCode()).as(r.stderr()).isZero();
    return JSON.readTree(r.stdout());
  }

  static void copyTree(Path from, Path to) throws Exception {
    try (Stream<Path> files = Files.walk(from)) {
      for (Path p : files.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
  }
}
