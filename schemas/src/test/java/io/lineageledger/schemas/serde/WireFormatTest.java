package io.lineageledger.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.StepSummary;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import java.time.Instant;
import java.util.Map;
import org.apache.avro.Schema;
import org.apache.avro.SchemaBuilder;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.common.errors.SerializationException;
import org.junit.jupiter.api.Test;

class WireFormatTest {
  private final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
  private final LedgerAvroSerializer<EventEnvelope> serializer = new LedgerAvroSerializer<>(registry);
  private final LedgerAvroDeserializer<EventEnvelope> deserializer = new LedgerAvroDeserializer<>(registry, EventEnvelope.class);

  static EventEnvelope stepSummary(long step) {
    return EventEnvelope.newBuilder()
        .setEventId("0193a3f0-7c1e-7000-8000-0000000000" + String.format("%02x", step % 256))
        .setOccurredAt(Instant.parse("2026-11-20T10:00:00Z"))
        .setSubject("run:r1")
        .setProducer(ProducerInfo.newBuilder().setId("p1").setName("test").setVersion("1").setHost("h").setSeq(step).build())
        .setPayload(StepSummary.newBuilder().setStep(step).setLoss(2.5).setMetrics(Map.of("lr", 0.001)).build())
        .build();
  }

  @Test
  void headerIsMagicByteThenBigEndianSchemaId() {
    byte[] wire = serializer.serialize("ledger.events", stepSummary(1));
    int id = registry.latest("ledger.events-value").id();
    assertThat(wire[0]).isZero();
    assertThat(WireFormat.schemaId(wire, "ledger.events")).isEqualTo(id);
    assertThat(deserializer.deserialize("ledger.events", wire)).isEqualTo(stepSummary(1));
  }

  @Test
  void wrongMagicByteFailsSayingSo() {
    byte[] wire = serializer.serialize("ledger.events", stepSummary(1));
    wire[0] = 7;
    assertThatThrownBy(() -> deserializer.deserialize("ledger.events", wire))
        .isInstanceOf(WireFormat.UnknownMagicByteException.class)
        .hasMessageContaining("Unknown magic byte 0x07")
        .hasMessageContaining("ledger.events");
    byte[] plainJson = "{\"step\":1}".getBytes();
    assertThatThrownBy(() -> deserializer.deserialize("ledger.events", plainJson))
        .isInstanceOf(WireFormat.UnknownMagicByteException.class)
        .hasMessageContaining("0x7b");
  }

  @Test
  void unknownSchemaIdFailsSayingSo() {
    byte[] wire = serializer.serialize("ledger.events", stepSummary(1));
    WireFormat.writeHeader(4242, wire);
    assertThatThrownBy(() -> deserializer.deserialize("ledger.events", wire))
        .isInstanceOf(WireFormat.UnknownSchemaIdException.class)
        .hasMessageContaining("Unknown schema id 4242")
        .hasMessageContaining("40403");
  }

  @Test
  void tooShortRecordFailsSayingSo() {
    assertThatThrownBy(() -> deserializer.deserialize("ledger.events", new byte[] {0, 0, 1}))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("too short");
  }

  @Test
  void truncatedAvroDataFailsWithTheSchemaIdAndTopic() {
    byte[] wire = serializer.serialize("ledger.events", stepSummary(1));
    byte[] truncated = java.util.Arrays.copyOf(wire, 20);
    assertThatThrownBy(() -> deserializer.deserialize("ledger.events", truncated))
        .isInstanceOf(SerializationException.class)
        .hasMessageContaining("Could not decode")
        .hasMessageContaining("ledger.events");
  }

  @Test
  void dataWrittenWithAnOlderCompatibleSchemaReadsIntoTheCurrentClass() throws Exception {
    // An older StepSummary without the optional fields added later.
    Schema oldStep = SchemaBuilder.record("StepSummary").namespace("io.lineageledger.events").fields()
        .requiredLong("step").requiredDouble("loss").endRecord();
    int oldId = registry.register("old-subject", oldStep);
    GenericRecord old = new GenericData.Record(oldStep);
    old.put("step", 12L);
    old.put("loss", 1.5);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
    byte[] header = new byte[5];
    WireFormat.writeHeader(oldId, header);
    out.write(header);
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new GenericDatumWriter<GenericRecord>(oldStep).write(old, encoder);
    encoder.flush();

    StepSummary read = new LedgerAvroDeserializer<>(registry, StepSummary.class).deserialize("t", out.toByteArray());
    assertThat(read.getStep()).isEqualTo(12L);
    assertThat(read.getLoss()).isEqualTo(1.5);
    assertThat(read.getStepsCovered()).isEqualTo(1);
    assertThat(read.getMetrics()).isEmpty();
  }

  @Test
  void nullStaysNull() {
    assertThat(serializer.serialize("ledger.events", null)).isNull();
    assertThat(deserializer.deserialize("ledger.events", null)).isNull();
  }
}
