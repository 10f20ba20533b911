package io.lineageledger.producers.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventFileTailTest {
  @TempDir
  Path dir;

  @Test
  void handsOverCompleteLinesAsTheyArriveAndAPartialLastLineAtTheEnd() throws Exception {
    Path file = dir.resolve("events.ndjson");
    List<String> seen = new ArrayList<>();
    try (EventFileTail tail = new EventFileTail(file, 0, (n, text) -> seen.add(n + ":" + text))) {
      append(file, "{\"a\":1}\n{\"b\":");
      assertThat(tail.poll()).isEqualTo(1);
      assertThat(seen).containsExactly("1:{\"a\":1}");
      append(file, "2}\r\n\n{\"c\":\"é\"}");
      tail.poll();
      assertThat(seen).containsExactly("1:{\"a\":1}", "2:{\"b\":2}", "3:");
      tail.finish();
      assertThat(seen).containsExactly("1:{\"a\":1}", "2:{\"b\":2}", "3:", "4:{\"c\":\"é\"}");
    }
  }

  @Test
  void startsWhereItIsToldSoEarlierLinesAreNotPublishedAgain() throws Exception {
    Path file = dir.resolve("events.ndjson");
    append(file, "old\n");
    List<String> seen = new ArrayList<>();
    try (EventFileTail tail = new EventFileTail(file, Files.size(file), (n, text) -> seen.add(text))) {
      append(file, "new\n");
      tail.finish();
    }
    assertThat(seen).containsExactly("new");
  }

  @Test
  void linesLongerThanTheReadBufferArriveWhole() throws Exception {
    Path file = dir.resolve("events.ndjson");
    String big = "x".repeat(200_000);
    append(file, big + "\nend\n");
    List<String> seen = new ArrayList<>();
    try (EventFileTail tail = new EventFileTail(file, 0, (n, text) -> seen.add(text))) {
      tail.finish();
    }
    assertThat(seen).containsExactly(big, "end");
  }

  private static void append(Path file, String s) throws Exception {
    Files.write(file, s.getBytes(StandardCharsets.UTF_8), StandardOpenOption.CREATE, StandardOpenOption.APPEND);
  }
}
