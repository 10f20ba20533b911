package io.lineageledger.service.producers;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.StepSummary;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** {@code ledger emit} against the real broker: bad lines are reported and kept, every good line is published once. */
@Timeout(300)
class EmitIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String[] MALFORMED = {
      "this is not json",
      "{\"type\":\"step_summary\",\"run_id\":\"emit-it\",\"step\":\"many\",\"loss\":1.0}",
      "{\"type\":\"step_summary\",\"run_id\":\"emit-it\",\"step\":3}",
      "{\"type\":\"step_summary\",\"run_id\":\"emit-it\",\"step\":3,\"loss\":1.0,\"learning_rate\":0.1}",
      "{\"type\":\"no_such_event\",\"run_id\":\"emit-it\"}",
      "{\"type\":\"step_summary\",\"run_id\":\"emit-it\",\"step\":3,\"loss\":1.0",
      "[\"type\",\"step_summary\"]",
      "{\"type\":\"dataset_bound\",\"run_id\":\"emit-it\",\"role\":\"train\",\"dataset\":{\"name\":\"d\"}}",
  };

  @TempDir
  static Path dir;
  static LedgerCluster cluster;

  @BeforeAll
  static void start() {
    cluster = new LedgerCluster(dir.resolve("ledger")).start();
  }

  @AfterAll
  static void stop() {
    cluster.close();
  }

  @Test
  void tenThousandLinesWithOnePercentMalformedPublishEveryValidLineAndKeepEveryBadOne() throws Exception {
    Random random = new Random(20261122);
    Set<Integer> bad = new TreeSet<>();
    while (bad.size() < 100) {
      bad.add(1 + random.nextInt(10_000));
    }
    List<String> lines = new ArrayList<>();
    Map<Integer, String> badText = new TreeMap<>();
    Map<String, Integer> goodIds = new HashMap<>();
    for (int n = 1; n <= 10_000; n++) {
      if (bad.contains(n)) {
        String text = MALFORMED[random.nextInt(MALFORMED.length)];
        badText.put(n, text);
        lines.add(text);
      } else {
        String id = "emit-it-" + n;
        goodIds.put(id, n);
        lines.add("{\"type\":\"step_summary\",\"run_id\":\"emit-it-" + (n % 7) + "\",\"event_id\":\"" + id + "\",\"step\":" + n
            + ",\"loss\":" + (1.0 / n) + ",\"metrics\":{\"lr\":0.001}}");
      }
    }
    Path file = dir.resolve("events.ndjson");
    Files.write(file, lines);

    LedgerCliProcess.Result r = LedgerCliProcess.run(dir, cluster.env(), "emit", "emit", "--spool-dir", dir.resolve("spool").toString(),
        "--output", "json", file.toString());

    assertThat(r.exitCode()).as("exit code when lines were rejected; stderr:%n%s", r.stderr()).isEqualTo(1);
    JsonNode summary = JSON.readTree(r.stdout());
    assertThat(summary.get("lines").asLong()).isEqualTo(10_000);
    assertThat(summary.get("published").asLong()).isEqualTo(9_900);
    assertThat(summary.get("rejected").asLong()).isEqualTo(100);

    // Every bad line is reported on stderr with its line number and a reason ...
    Set<Integer> reported = r.stderr().lines().filter(l -> l.startsWith(file + ":"))
        .map(l -> Integer.parseInt(l.substring(file.toString().length() + 1, l.indexOf(':', file.toString().length() + 1))))
        .collect(Collectors.toCollection(TreeSet::new));
    assertThat(reported).isEqualTo(bad);
    // ... and kept, verbatim, in the rejects file next to the spool.
    List<JsonNode> rejects = new ArrayList<>();
    for (String l : Files.readAllLines(dir.resolve("rejects.ndjson"))) {
      rejects.add(JSON.readTree(l));
    }
    Map<Integer, String> kept = rejects.stream().collect(Collectors.toMap(j -> j.get("line").asInt(), j -> j.get("text").asText(), (a, b) -> a, TreeMap::new));
    assertThat(kept).isEqualTo(badText);
    assertThat(rejects).allSatisfy(j -> assertThat(j.get("reason").asText()).isNotBlank());

    // Every valid line is in Kafka exactly once.
    List<EventLog.Entry> log = EventLog.readAll(cluster.bootstrapServers(), cluster.registryUrl());
    Map<String, Long> counts = log.stream().collect(Collectors.groupingBy(e -> e.event().getEventId(), Collectors.counting()));
    assertThat(counts.keySet()).containsAll(goodIds.keySet());
    assertThat(goodIds.keySet()).allSatisfy(id -> assertThat(counts.get(id)).as(id).isEqualTo(1L));
    EventLog.Entry one = log.stream().filter(e -> e.event().getEventId().equals("emit-it-42")).findFirst().orElseThrow();
    assertThat(one.event().getSubject()).isEqualTo("run:emit-it-0");
    assertThat(((StepSummary) one.event().getPayload()).getStep()).isEqualTo(42);
  }
}
