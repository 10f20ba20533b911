package io.lineageledger.schemas.serde;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.schemas.registry.LocalSchemaRegistryClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.apache.avro.Schema;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.io.JsonEncoder;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The golden fixtures pin the binary encoding of every payload type: a schema change that alters
 * how existing events are written, or a serde change that alters the wire format, fails here.
 */
class GoldenFixturesTest {
  private static final String TOPIC = "ledger.events";
  private static final ObjectMapper JSON = new ObjectMapper();

  static Stream<String> payloadTypes() {
    Schema union = EventEnvelope.SCHEMA$.getField("payload").schema();
    return union.getTypes().stream().map(Schema::getName);
  }

  @Test
  void everyPayloadTypeHasAFixture() {
    List<String> types = payloadTypes().toList();
    assertThat(types).hasSize(10);
    for (String type : types) {
      assertThat(GoldenFixturesTest.class.getResource("/golden/" + type + ".json")).as("fixture for " + type).isNotNull();
      assertThat(GoldenFixturesTest.class.getResource("/golden/" + type + ".avro.hex")).as("binary fixture for " + type).isNotNull();
    }
  }

  @ParameterizedTest
  @MethodSource("payloadTypes")
  void fixtureRoundTripsThroughTheWireFormatByteForByte(String type) throws IOException {
    String json = resource(type + ".json");
    byte[] golden = HexFormat.of().parseHex(resource(type + ".avro.hex").replaceAll("\\s", ""));
    LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();
    var serializer = new LedgerAvroSerializer<EventEnvelope>(registry);
    var deserializer = new LedgerAvroDeserializer<>(registry, EventEnvelope.class);

    EventEnvelope fromJson = new SpecificDatumReader<>(EventEnvelope.class)
        .read(null, DecoderFactory.get().jsonDecoder(EventEnvelope.SCHEMA$, json));
    assertThat(fromJson.getPayload().getClass().getSimpleName()).isEqualTo(type);

    byte[] wire = serializer.serialize(TOPIC, fromJson);
    int id = registry.lookup(TOPIC + "-value", EventEnvelope.SCHEMA$).id();
    assertThat(Arrays.copyOfRange(wire, 0, 5)).containsExactly(0, 0, 0, 0, id);
    assertThat(Arrays.copyOfRange(wire, 5, wire.length)).as("Avro binary of " + type).isEqualTo(golden);

    EventEnvelope back = deserializer.deserialize(TOPIC, wire);
    assertThat(back).isEqualTo(fromJson);
    assertThat(serializer.serialize(TOPIC, back)).isEqualTo(wire);
    // Avro maps carry no order, so the JSON is compared as a tree.
    assertThat(JSON.readTree(toJson(back))).isEqualTo(JSON.readTree(json));
  }

  private static String toJson(EventEnvelope envelope) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    JsonEncoder encoder = EncoderFactory.get().jsonEncoder(EventEnvelope.SCHEMA$, out, true);
    new SpecificDatumWriter<>(EventEnvelope.class).write(envelope, encoder);
    encoder.flush();
    return out.toString(StandardCharsets.UTF_8).trim();
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = GoldenFixturesTest.class.getResourceAsStream("/golden/" + name)) {
      assertThat(in).as("fixture " + name).isNotNull();
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
