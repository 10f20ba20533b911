package io.lineageledger.producers.ndjson;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;

/**
 * The JSON Schema (draft 2020-12) of each NDJSON event type, derived from the Avro schemas
 * and the protocol's rules ({@link NdjsonProtocol}), so the published schemas under
 * {@code producers/protocol/} cannot drift from what the sidecar accepts: a test regenerates
 * them and compares. Run {@link #main} with the target directory to rewrite them.
 */
public final class ProtocolJsonSchemas {
  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private ProtocolJsonSchemas() {}

  /** File name to JSON Schema text, one per event type. */
  public static Map<String, String> all() {
    Map<String, String> files = new LinkedHashMap<>();
    for (NdjsonProtocol.EventType type : NdjsonProtocol.EventType.values()) {
      try {
        files.put(type.wireName() + ".schema.json", JSON.writeValueAsString(schema(type)) + "\n");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return files;
  }

  static ObjectNode schema(NdjsonProtocol.EventType type) {
    Schema avro = type.schema();
    ObjectNode root = JSON.createObjectNode();
    root.put("$schema", "https://json-schema.org/draft/2020-12/schema");
    root.put("$id", "https://lineage-ledger.io/protocol/v1/" + type.wireName() + ".schema.json");
    root.put("title", type.wireName());
    root.put("description", avro.getDoc());
    root.put("type", "object");
    ObjectNode props = root.putObject("properties");
    ArrayNode required = root.putArray("required");
    ObjectNode defs = JSON.createObjectNode();

    props.putObject("type").put("const", type.wireName()).put("description", "The event type.");
    boolean runIdIsPayload = avro.getField("run_id") != null;
    if (!runIdIsPayload) {
      props.putObject("run_id").put("type", "string").put("minLength", 1).put("description",
          type.runScoped() ? "The run the event belongs to; may be left out under `ledger run`, which fills in LEDGER_RUN_ID."
              : "Accepted for uniformity; the event's subject is not a run, so it is not recorded.");
    }
    props.putObject("event_id").put("type", "string").put("minLength", 1).put("maxLength", 200)
        .put("description", "Unique id of the event, the dedupe key of every projection; assigned (UUIDv7) when left out.");
    props.set("occurred_at", timestamp("When the event happened; now when left out."));
    required.add("type");

    for (Schema.Field f : avro.getFields()) {
      ObjectNode p = type(f.schema(), avro.getName() + "." + f.name(), defs);
      p.put("description", f.doc()
          + (f.name().equals("run_id") ? " May be left out under `ledger run`, which fills in LEDGER_RUN_ID." : ""));
      props.set(f.name(), p);
      boolean optional = f.hasDefaultValue() || f.name().equals("run_id")
          || (type == NdjsonProtocol.EventType.CONFIG_SNAPSHOT && f.name().equals("digest"));
      if (!optional) {
        required.add(f.name());
      }
    }
    if (type == NdjsonProtocol.EventType.CONFIG_SNAPSHOT) {
      ObjectNode params = JSON.createObjectNode();
      params.put("type", "object");
      params.put("description", "The effective configuration: any JSON object, nested or with dotted keys. Nested objects are"
          + " flattened to dotted keys and each value is stored JSON-encoded.");
      props.set("params", params);
      ((ObjectNode) props.get("digest")).put("description", "sha256:<hex> over the flattened keys sorted, each written as"
          + " key=value and a newline; computed when left out, checked when given.");
      ((ObjectNode) props.get("changed_keys")).put("description",
          "Keys that differ from this run's previous snapshot; computed when left out.");
    }
    root.put("additionalProperties", false);
    if (!defs.isEmpty()) {
      root.set("$defs", defs);
    }
    return root;
  }

  private static ObjectNode type(Schema s, String path, ObjectNode defs) {
    ObjectNode n = JSON.createObjectNode();
    switch (s.getType()) {
      case UNION -> {
        ArrayNode any = n.putArray("anyOf");
        for (Schema b : s.getTypes()) {
          any.add(b.getType() == Schema.Type.NULL ? JSON.createObjectNode().put("type", "null") : type(b, path, defs));
        }
      }
      case STRING -> n.put("type", "string");
      case BOOLEAN -> n.put("type", "boolean");
      case INT -> n.put("type", "integer").put("minimum", Integer.MIN_VALUE).put("maximum", Integer.MAX_VALUE);
      case LONG -> {
        if (s.getLogicalType() instanceof LogicalTypes.TimestampMicros) {
          return timestamp(null);
        }
        n.put("type", "integer");
      }
      case FLOAT, DOUBLE -> {
        ArrayNode one = n.putArray("anyOf");
        one.addObject().put("type", "number");
        one.addObject().putArray("enum").add("NaN").add("Infinity").add("-Infinity");
      }
      case ENUM -> {
        ArrayNode e = n.putArray("enum");
        s.getEnumSymbols().forEach(e::add);
      }
      case ARRAY -> {
        n.put("type", "array");
        n.set("items", type(s.getElementType(), path, defs));
      }
      case MAP -> {
        n.put("type", "object");
        if (NdjsonProtocol.JSON_VALUED_MAPS.contains(path)) {
          n.put("additionalProperties", true);
        } else {
          n.set("additionalProperties", type(s.getValueType(), path, defs));
        }
      }
      case RECORD -> {
        if (!defs.has(s.getName())) {
          ObjectNode def = defs.putObject(s.getName());
          def.put("type", "object");
          def.put("description", s.getDoc());
          ObjectNode props = def.putObject("properties");
          ArrayNode req = def.putArray("required");
          for (Schema.Field f : s.getFields()) {
            ObjectNode p = type(f.schema(), s.getName() + "." + f.name(), defs);
            p.put("description", f.doc());
            props.set(f.name(), p);
            if (!f.hasDefaultValue()) {
              req.add(f.name());
            }
          }
          def.put("additionalProperties", false);
        }
        n.put("$ref", "#/$defs/" + s.getName());
      }
      default -> throw new IllegalStateException("no JSON Schema mapping for " + s.getType());
    }
    return n;
  }

  private static ObjectNode timestamp(String description) {
    ObjectNode n = JSON.createObjectNode();
    ArrayNode any = n.putArray("anyOf");
    any.addObject().put("type", "string").put("format", "date-time");
    any.addObject().put("type", "integer").put("description", "Microseconds since the Unix epoch.");
    if (description != null) {
      n.put("description", description);
    }
    return n;
  }

  /** Writes every schema into the directory given as the first argument. */
  public static void main(String[] args) throws IOException {
    Path dir = Path.of(args.length > 0 ? args[0] : "producers/protocol");
    Files.createDirectories(dir);
    for (Map.Entry<String, String> e : all().entrySet()) {
      Files.writeString(dir.resolve(e.getKey()), e.getValue());
    }
  }
}
