package io.lineageledger.producers.ndjson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lineageledger.producers.ndjson.NdjsonProtocol.EventType;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.junit.jupiter.api.Test;

/**
 * The one-pass decoder must give exactly what the tree decoder gives for every line it accepts,
 * and must accept no line the tree decoder refuses. Lines are the documented examples and many
 * seeded mutations of them: keys dropped, repeated, reordered or unknown; values of every JSON
 * kind put where another was expected; truncated and padded text.
 */
class OnePassDecodeTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<EventType> NOT_ONE_PASS = Set.of(EventType.RUN_STARTED, EventType.CONFIG_SNAPSHOT, EventType.MODEL_VERSION_REGISTERED);

  private static List<String> examples() throws IOException {
    List<String> lines = new ArrayList<>();
    try (InputStream in = OnePassDecodeTest.class.getResourceAsStream("/ndjson/every-type.ndjson")) {
      lines.addAll(new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList());
    }
    lines.add("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":NaN,\"metrics\":{\"g\":Infinity,\"h\":\"-inf\"},\"epoch\":null,"
        + "\"event_id\":\"e-1\",\"occurred_at\":\"2026-11-22T10:15:30.1234567Z\"}");
    lines.add("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":9223372036854775807,\"loss\":-1e308,\"occurred_at\":1795342531500000,"
        + "\"tokens_seen\":3,\"samples_seen\":null,\"non_finite_count\":2147483647}");
    lines.add("{\"type\":\"evaluation_completed\",\"run_id\":\"r\",\"eval_id\":\"e\",\"checkpoint_digest\":\"sha256:dd\","
        + "\"suite_name\":\"s\",\"decoding_params\":{\"nested\":{\"a\":[1,2,{\"b\":null}]}},\"metrics\":{}}");
    return lines;
  }

  @Test
  void everyExampleOfAOnePassTypeIsDecodedInOnePassToWhatTheTreeGives() throws IOException {
    NdjsonProtocol protocol = new NdjsonProtocol();
    for (String line : examples()) {
      EventType type = protocol.decodeFromTree(line).event().type();
      NdjsonProtocol.Decoded onePass = protocol.decodeInOnePass(line);
      if (NOT_ONE_PASS.contains(type)) {
        assertThat(onePass).as(line).isNull();
      } else {
        assertThat(onePass).as(line).isNotNull();
        assertSame(onePass.event(), protocol.decodeFromTree(line).event(), line);
      }
    }
  }

  @Test
  void mutatedLinesGetTheSameAnswerEitherWay() throws IOException {
    Random random = new Random(20261123L);
    List<String> bases = examples();
    NdjsonProtocol[] protocols = {
        new NdjsonProtocol(),
        new NdjsonProtocol("r1", Set.of(EventType.RUN_FINISHED), "recorded by the sidecar")};
    int acceptedInOnePass = 0;
    int refused = 0;
    for (int i = 0; i < 20_000; i++) {
      String line = mutate(bases.get(random.nextInt(bases.size())), random);
      NdjsonProtocol protocol = protocols[i % protocols.length];
      NdjsonProtocol.Decoded onePass;
      try {
        onePass = protocol.decodeInOnePass(line);
      } catch (RuntimeException e) {
        throw new AssertionError("the one-pass decoder threw instead of deferring to the tree on: " + line, e);
      }
      NdjsonProtocol.ParsedEvent tree;
      try {
        tree = protocol.decodeFromTree(line).event();
      } catch (InvalidLineException e) {
        refused++;
        if (onePass != null) {
          fail("accepted in one pass, but the tree refuses it (" + e.getMessage() + "): " + line);
        }
        continue;
      }
      if (onePass != null) {
        acceptedInOnePass++;
        assertSame(onePass.event(), tree, line);
      }
    }
    assertThat(acceptedInOnePass).as("mutations the one-pass decoder accepted").isGreaterThan(2_000);
    assertThat(refused).as("mutations both decoders refused").isGreaterThan(2_000);
  }

  /** The same event: envelope parts equal, and the payloads encode to the same Avro bytes (NaN included). */
  private static void assertSame(NdjsonProtocol.ParsedEvent onePass, NdjsonProtocol.ParsedEvent tree, String line) throws IOException {
    assertThat(onePass.type()).as(line).isEqualTo(tree.type());
    assertThat(onePass.subject()).as(line).isEqualTo(tree.subject());
    assertThat(onePass.eventId()).as(line).isEqualTo(tree.eventId());
    assertThat(onePass.occurredAt()).as(line).isEqualTo(tree.occurredAt());
    assertThat(avro(onePass.payload())).as(line).isEqualTo(avro(tree.payload()));
  }

  private static byte[] avro(SpecificRecord record) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
    new SpecificDatumWriter<SpecificRecord>(record.getSchema()).write(record, encoder);
    encoder.flush();
    return out.toByteArray();
  }

  private static String mutate(String line, Random random) throws IOException {
    ObjectNode obj = (ObjectNode) JSON.readTree(line.replace("NaN", "\"NaN\"").replace("Infinity", "\"Infinity\""));
    int edits = random.nextInt(3);
    for (int e = 0; e < edits; e++) {
      List<String> keys = new ArrayList<>();
      obj.fieldNames().forEachRemaining(keys::add);
      String key = keys.get(random.nextInt(keys.size()));
      switch (random.nextInt(6)) {
        case 0 -> obj.remove(key);
        case 1 -> obj.set(key, oddValue(random, obj.get(key)));
        case 2 -> obj.set(List.of("unknown_key", "event_id", "occurred_at").get(random.nextInt(3)), oddValue(random, null));
        case 3 -> { // move a key to the front, or the type to the back
          ObjectNode moved = JsonNodeFactory.instance.objectNode();
          String first = random.nextBoolean() ? key : null;
          if (first != null) {
            moved.set(first, obj.get(first));
          }
          obj.fields().forEachRemaining(f -> {
            if (!f.getKey().equals(first) && !(first == null && f.getKey().equals("type"))) {
              moved.set(f.getKey(), f.getValue());
            }
          });
          if (first == null && obj.has("type")) {
            moved.set("type", obj.get("type"));
          }
          obj = moved;
        }
        case 4 -> { // mutate inside a nested object or array
          JsonNode v = obj.get(key);
          if (v instanceof ObjectNode nested && nested.size() > 0) {
            String inner = nested.fieldNames().next();
            nested.set(inner, oddValue(random, nested.get(inner)));
          } else if (v != null && v.isArray() && v.size() > 0 && v.get(0) instanceof ObjectNode item) {
            item.set("name", oddValue(random, item.get("name")));
          }
        }
        default -> { } // leave this one alone: a valid line stays in the mix
      }
    }
    String text = obj.toString();
    return switch (random.nextInt(14)) {
      case 0 -> text.substring(0, random.nextInt(text.length())); // truncated
      case 1 -> text + (random.nextBoolean() ? " {}" : "  "); // trailing tokens, or only spaces
      case 2 -> random.nextBoolean() // a key written twice
          ? text.replaceFirst(",", ",\"loss\":1,")
          : text.replace("\"run_id\":", "\"run_id\":\"r1\",\"run_id\":");
      case 3 -> text.replace("\"NaN\"", "NaN").replace("\"Infinity\"", "Infinity"); // bare non-finite tokens
      case 4 -> text.replace("\"version\":", "\"version\":\"x\",\"version\":"); // repeated inside a nested record
      case 5 -> text.replaceFirst("\"(occurred_at|event_id)\":", "\"$1\":\"2026-11-22T10:15:30Z\",\"$1\":");
      default -> text;
    };
  }

  private static JsonNode oddValue(Random random, JsonNode like) {
    JsonNodeFactory f = JsonNodeFactory.instance;
    return switch (random.nextInt(16)) {
      case 0 -> f.nullNode();
      case 1 -> f.textNode("");
      case 2 -> f.textNode("   ");
      case 3 -> f.textNode("2026-11-22T10:15:30Z");
      case 4 -> f.textNode("NaN");
      case 5 -> f.numberNode(random.nextInt(100));
      case 6 -> f.numberNode(1L << 40);
      case 7 -> f.numberNode(new java.math.BigInteger("123456789012345678901234567890"));
      case 8 -> f.numberNode(random.nextDouble());
      case 9 -> f.booleanNode(random.nextBoolean());
      case 10 -> f.arrayNode().add(1).add("two");
      case 11 -> f.objectNode().put("a", 1.5).put("b", "c");
      case 12 -> f.textNode("COMPLETED");
      case 13 -> f.textNode("x".repeat(201));
      case 14 -> f.objectNode().set("name", f.textNode("n"));
      default -> like == null ? f.textNode("r1") : like.deepCopy();
    };
  }

  @Test
  void aRepeatedKeyInsideAMapIsRefusedEitherWay() {
    NdjsonProtocol protocol = new NdjsonProtocol();
    String line = "{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"metrics\":{\"lr\":0.1,\"lr\":0.2}}";
    assertThat(protocol.decodeInOnePass(line)).isNull();
    assertThatThrownBy(() -> protocol.decode(line))
        .isInstanceOf(InvalidLineException.class).hasMessageContaining("Duplicate field 'lr'");
  }
}
