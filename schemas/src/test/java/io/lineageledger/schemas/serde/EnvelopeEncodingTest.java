package io.lineageledger.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.StepSummary;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;

/**
 * The serializer writes the envelope's fields itself and reuses the encoding of a producer's
 * constant strings; its bytes must stay exactly Avro's own for any string and any time.
 */
class EnvelopeEncodingTest {
  private final LedgerAvroSerializer<EventEnvelope> serializer = new LedgerAvroSerializer<>(new LocalSchemaRegistryClient());

  @Test
  void envelopesEncodeExactlyAsAvroDoesForAnyStringsAndTimes() throws IOException {
    ProducerInfo ascii = new ProducerInfo("6f1c0e1a-0000-7000-8000-000000000001", "ledger-java-client", "1.0", "host-a", 0L);
    ProducerInfo unicode = new ProducerInfo("prod-\u00e9\u4e2d\ud83d\ude00", "n\u00e4me", "", "h\u00f6st", 1L);
    String[] subjects = {"run:r1", "run:\u00fcber-\u4e2d\u6587", "run:" + "x".repeat(300), "dataset:\u0080\u07ff\u0800"};
    Instant[] times = {Instant.parse("2026-11-22T10:15:30.123456Z"), Instant.EPOCH, Instant.parse("1969-12-31T23:59:59.999999Z"),
        Instant.parse("9999-12-31T23:59:59.999999Z")};
    long[] seqs = {0, 1, 63, 64, -1, Long.MAX_VALUE, Long.MIN_VALUE};
    int n = 0;
    for (String subject : subjects) {
      for (Instant at : times) {
        for (long seq : seqs) {
          // Alternate producers, and equal strings that are not the same objects, to exercise the cached producer bytes.
          ProducerInfo base = n % 3 == 0 ? ascii : n % 3 == 1 ? unicode
              : new ProducerInfo(new String(ascii.getId()), new String(ascii.getName()), "1.1", ascii.getHost(), 0L);
          ProducerInfo producer = new ProducerInfo(base.getId(), base.getName(), base.getVersion(), base.getHost(), seq);
          StepSummary payload = StepSummary.newBuilder().setStep((long) n).setStepsCovered(1).setLoss(0.5 * n)
              .setMetrics(Map.of("lr\u00b5", 1e-4)).setTokensSeen((long) n).setSamplesSeen((long) n).build();
          EventEnvelope e = new EventEnvelope("evt-" + n + (n % 2 == 0 ? "" : "-\u00df"), at, subject, producer, payload);
          byte[] wire = serializer.serialize("ledger.events", e);
          assertThat(Arrays.copyOfRange(wire, 5, wire.length)).as("envelope %d (%s, %s, seq %d)", n, subject, at, seq)
              .isEqualTo(avro(e));
          n++;
        }
      }
    }
  }

  private static byte[] avro(EventEnvelope e) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<>(EventEnvelope.class).write(e, encoder);
    encoder.flush();
    return out.toByteArray();
  }
}
