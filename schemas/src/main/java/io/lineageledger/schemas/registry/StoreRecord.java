package io.lineageledger.schemas.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * One change to a {@link SchemaCatalog}, in the key/value JSON layout Confluent's registry keeps
 * in its {@code _schemas} topic, so that the topic can be read by either implementation:
 *
 * <pre>
 * key   {"keytype":"SCHEMA","subject":"s","version":1,"magic":1}
 * value {"subject":"s","version":1,"id":7,"schema":"...","deleted":false}
 * key   {"keytype":"CONFIG","subject":null,"magic":0}
 * value {"compatibilityLevel":"BACKWARD"}
 * </pre>
 */
public sealed interface StoreRecord {
  ObjectMapper JSON = new ObjectMapper();

  byte[] key();

  byte[] value();

  /** A version of a subject. */
  record SchemaVersion(String subject, int version, int id, String schema, boolean deleted) implements StoreRecord {
    @Override
    public byte[] key() {
      ObjectNode key = JSON.createObjectNode().put("keytype", "SCHEMA").put("subject", subject).put("version", version).put("magic", 1);
      return bytes(key);
    }

    @Override
    public byte[] value() {
      ObjectNode value = JSON.createObjectNode().put("subject", subject).put("version", version).put("id", id)
          .put("schema", schema).put("deleted", deleted);
      return bytes(value);
    }

    public RegisteredSchema toRegistered() {
      return new RegisteredSchema(subject, id, version, schema);
    }
  }

  /** A compatibility setting; {@code subject} null means the global one, {@code level} null clears it. */
  record Config(String subject, CompatibilityLevel level) implements StoreRecord {
    @Override
    public byte[] key() {
      ObjectNode key = JSON.createObjectNode().put("keytype", "CONFIG");
      if (subject == null) {
        key.putNull("subject");
      } else {
        key.put("subject", subject);
      }
      return bytes(key.put("magic", 0));
    }

    @Override
    public byte[] value() {
      return level == null ? null : bytes(JSON.createObjectNode().put("compatibilityLevel", level.name()));
    }
  }

  /**
   * Reads a record from the topic; null for key types the catalog does not track (NOOP, MODE,
   * DELETE_SUBJECT markers) so that a topic written by Confluent's registry can still be read.
   *
   * @throws IllegalArgumentException when the key or value is not valid JSON of the layout above
   */
  static StoreRecord parse(byte[] key, byte[] value) {
    try {
      JsonNode k = JSON.readTree(key);
      String type = k.path("keytype").asText("");
      switch (type) {
        case "SCHEMA": {
          if (value == null) {
            // A tombstone: Confluent compacts hard-deleted versions away like this.
            return new SchemaVersion(k.path("subject").asText(), k.path("version").asInt(), -1, "", true);
          }
          JsonNode v = JSON.readTree(value);
          return new SchemaVersion(v.path("subject").asText(), v.path("version").asInt(), v.path("id").asInt(),
              SchemaCatalog.parse(v.path("schema").asText()).toString(), v.path("deleted").asBoolean(false));
        }
        case "CONFIG": {
          String subject = k.path("subject").isNull() || k.path("subject").isMissingNode() ? null : k.path("subject").asText();
          CompatibilityLevel level = value == null ? null : CompatibilityLevel.parse(JSON.readTree(value).path("compatibilityLevel").asText());
          return new Config(subject, level);
        }
        default:
          return null;
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("not a schema-store record: key=" + new String(key, StandardCharsets.UTF_8) + ": " + e.getMessage(), e);
    }
  }

  private static byte[] bytes(JsonNode node) {
    try {
      return JSON.writeValueAsBytes(node);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
