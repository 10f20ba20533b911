package io.lineageledger.producers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.StepSummary;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpoolTest {
  @TempDir
  Path dir;

  static EventEnvelope event(long i) {
    return EventEnvelope.newBuilder().setEventId("e-" + i).setOccurredAt(Instant.ofEpochSecond(1_800_000_000L + i))
        .setSubject("run:r1")
        .setProducer(ProducerInfo.newBuilder().setId("p").setName("t").setVersion("1").setHost("h").setSeq(i).build())
        .setPayload(StepSummary.newBuilder().setStep(i).setLoss(1.0 / (i + 1)).setMetrics(Map.of("lr", 0.001)).build())
        .build();
  }

  static List<EventEnvelope> events(int from, int to) {
    return IntStream.range(from, to).mapToObj(SpoolTest::event).toList();
  }

  static List<Spool.Entry> readAll(Spool spool, long after) {
    List<Spool.Entry> out = new ArrayList<>();
    spool.read(after, out::add);
    return out;
  }

  @Test
  void appendedEventsReadBackInOrderAndSurviveReopening() {
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      assertThat(spool.append(events(0, 3))).containsExactly(0, 1, 2);
      assertThat(readAll(spool, -1)).extracting(Spool.Entry::event).containsExactlyElementsOf(events(0, 3));
    }
    String id;
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      id = spool.id();
      assertThat(spool.append(events(3, 5))).containsExactly(3, 4);
      assertThat(readAll(spool, 2)).extracting(Spool.Entry::seq).containsExactly(3L, 4L);
      assertThat(spool.size()).isEqualTo(5);
    }
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      assertThat(spool.id()).isEqualTo(id);
      assertThat(spool.lastSeq()).isEqualTo(4);
    }
  }

  @Test
  void aTornWriteAtTheTailIsCutOffAndAppendingGoesOn() throws IOException {
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      spool.append(events(0, 10));
    }
    Path segment = segments().get(0);
    long goodSize = Files.size(segment);
    // A crash in the middle of writing a record: a header that promises more bytes than follow.
    Files.write(segment, new byte[] {0, 0, 1, 0, 9, 9, 9, 9, 0, 0, 0}, StandardOpenOption.APPEND);
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      assertThat(Files.size(segment)).isEqualTo(goodSize);
      assertThat(spool.size()).isEqualTo(10);
      spool.append(events(10, 11));
      assertThat(readAll(spool, -1)).hasSize(11);
    }
  }

  @Test
  void aCorruptRecordWithBitRotIsDetectedByItsChecksum() throws IOException {
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      spool.append(events(0, 5));
    }
    Path segment = segments().get(0);
    byte[] bytes = Files.readAllBytes(segment);
    bytes[bytes.length - 3] ^= 0x55; // flip bits inside the last record
    Files.write(segment, bytes);
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      assertThat(spool.size()).as("the damaged last record is dropped, the rest kept").isEqualTo(4);
    }
  }

  @Test
  void aFullSpoolRefusesTheWholeBatchAndSaysWhatToDo(@TempDir Path other) {
    long fiveEvents;
    try (Spool measure = Spool.open(other, 1 << 20)) {
      measure.append(events(0, 5));
      fiveEvents = measure.bytes();
    }
    try (Spool spool = Spool.open(dir, fiveEvents + 50)) {
      spool.append(events(0, 5));
      long before = spool.bytes();
      assertThatThrownBy(() -> spool.append(events(5, 50)))
          .isInstanceOf(SpoolFullException.class)
          .hasMessageContaining("is full")
          .hasMessageContaining("ledger ship");
      assertThat(spool.bytes()).isEqualTo(before);
      assertThat(spool.size()).isEqualTo(5);
    }
  }

  @Test
  void shippedSegmentsAreDeleted() {
    try (Spool spool = Spool.open(dir, 1 << 20)) {
      spool.append(events(0, 5));
      spool.deleteThrough(4);
      assertThat(spool.size()).isZero();
      assertThat(segments()).isEmpty();
      assertThat(spool.append(events(5, 6))).containsExactly(5);
      assertThat(readAll(spool, -1)).extracting(Spool.Entry::seq).containsExactly(5L);
    }
  }

  @Test
  void aFileThatIsNotASpoolSegmentIsRefusedByName() throws IOException {
    Files.createDirectories(dir);
    Files.writeString(dir.resolve("00000000000000000000.spool"), "hello, this is not a spool segment at all, really not one");
    Files.writeString(dir.resolve("00000000000000000007.spool"), "second file so the first is not the last one at all, no");
    assertThatThrownBy(() -> Spool.open(dir, 1 << 20))
        .isInstanceOf(Spool.SpoolReadException.class)
        .hasMessageContaining("00000000000000000000.spool")
        .hasMessageContaining("not a ledger spool segment");
  }

  private List<Path> segments() {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.toString().endsWith(".spool")).sorted().toList();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
