package io.lineageledger.producers.ndjson;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.avro.LogicalTypes;
import org.apache.avro.Schema;
import java.util.HashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificData;

/**
 * Converts plain JSON (what a trainer in any language writes) into Avro data of a given schema,
 * strictly: unknown fields, missing required fields and values of the wrong type are errors
 * whose message names the field path and what was expected. Fields with a default may be left
 * out. {@code timestamp-micros} fields take an ISO-8601 time or microseconds since the epoch;
 * doubles take numbers or the strings {@code "NaN"}, {@code "Infinity"}, {@code "-Infinity"}.
 * Map fields listed as JSON-encoded take any JSON value and store its JSON text.
 *
 * <p>Stateless and thread-safe.
 */
final class JsonToAvro {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Set<String> jsonEncodedMaps;

  /** @param jsonEncodedMaps field paths ({@code record.field}) of map fields whose values are JSON-encoded */
  JsonToAvro(Set<String> jsonEncodedMaps) {
    this.jsonEncodedMaps = jsonEncodedMaps;
  }

  /** The generated classes' models, by record schema; they carry the logical-type conversions. */
  private static final Map<Schema, SpecificData> MODELS = new ConcurrentHashMap<>();

  /** Builds the generated (specific) record of {@code schema} directly: no generic intermediate, no copy. */
  IndexedRecord record(Schema schema, JsonNode node, String path, Set<String> ignoredFields) {
    if (!node.isObject()) {
      throw new InvalidLineException(path + ": expected an object, got " + describe(node));
    }
    SpecificData model = MODELS.computeIfAbsent(schema, SpecificData::getForSchema);
    IndexedRecord record = (IndexedRecord) model.newRecord(null, schema);
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (schema.getField(name) == null && !ignoredFields.contains(name)) {
        throw new InvalidLineException(path + ": unknown field '" + name + "' (fields: "
            + schema.getFields().stream().map(Schema.Field::name).toList() + ")");
      }
    }
    for (Schema.Field field : schema.getFields()) {
      JsonNode value = node.get(field.name());
      String fieldPath = path + "." + field.name();
      if (value == null) {
        if (!field.hasDefaultValue()) {
          throw new InvalidLineException(fieldPath + ": missing required field (" + typeName(field.schema()) + ")");
        }
        record.put(field.pos(), defaultValue(model, field));
        continue;
      }
      String mapKey = schema.getName() + "." + field.name();
      record.put(field.pos(), value(field.schema(), value, fieldPath, jsonEncodedMaps.contains(mapKey)));
    }
    return record;
  }

  private Object value(Schema schema, JsonNode node, String path, boolean jsonEncodedMap) {
    switch (schema.getType()) {
      case UNION: {
        if (node.isNull()) {
          for (Schema branch : schema.getTypes()) {
            if (branch.getType() == Schema.Type.NULL) {
              return null;
            }
          }
          throw new InvalidLineException(path + ": must not be null (" + typeName(schema) + ")");
        }
        InvalidLineException last = null;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() == Schema.Type.NULL) {
            continue;
          }
          try {
            return value(branch, node, path, jsonEncodedMap);
          } catch (InvalidLineException e) {
            last = e;
          }
        }
        throw last != null ? last : new InvalidLineException(path + ": no branch of " + typeName(schema) + " fits " + describe(node));
      }
      case STRING:
        if (!node.isTextual()) {
          throw new InvalidLineException(path + ": expected a string, got " + describe(node));
        }
        return node.asText();
      case BOOLEAN:
        if (!node.isBoolean()) {
          throw new InvalidLineException(path + ": expected true or false, got " + describe(node));
        }
        return node.booleanValue();
      case INT:
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          throw new InvalidLineException(path + ": expected a 32-bit integer, got " + describe(node));
        }
        return node.intValue();
      case LONG:
        if (schema.getLogicalType() instanceof LogicalTypes.TimestampMicros) {
          return instant(node, path); // the generated classes hold Instants
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw new InvalidLineException(path + ": expected an integer, got " + describe(node));
        }
        return node.longValue();
      case DOUBLE:
      case FLOAT: {
        double d = number(node, path);
        return schema.getType() == Schema.Type.FLOAT ? (Object) (float) d : (Object) d;
      }
      case ENUM:
        if (!node.isTextual() || !schema.getEnumSymbols().contains(node.asText())) {
          throw new InvalidLineException(path + ": expected one of " + schema.getEnumSymbols() + ", got " + describe(node));
        }
        return MODELS.computeIfAbsent(schema, SpecificData::getForSchema).createEnum(node.asText(), schema);
      case ARRAY: {
        if (!node.isArray()) {
          throw new InvalidLineException(path + ": expected an array, got " + describe(node));
        }
        List<Object> items = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
          items.add(value(schema.getElementType(), node.get(i), path + "[" + i + "]", false));
        }
        return items;
      }
      case MAP: {
        if (!node.isObject()) {
          throw new InvalidLineException(path + ": expected an object, got " + describe(node));
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
          var e = it.next();
          if (jsonEncodedMap) {
            map.put(e.getKey(), e.getValue().toString());
          } else {
            map.put(e.getKey(), value(schema.getValueType(), e.getValue(), path + "['" + e.getKey() + "']", false));
          }
        }
        return map;
      }
      case RECORD:
        return record(schema, node, path, Set.of());
      default:
        throw new InvalidLineException(path + ": unsupported type " + schema.getType());
    }
  }

  /** A field's default; mutable defaults (maps, arrays) are fresh per record, as the generated builders make them. */
  private static Object defaultValue(SpecificData model, Schema.Field field) {
    Object d = model.getDefaultValue(field);
    if (d instanceof Map<?, ?> m && m.isEmpty()) {
      return new HashMap<>();
    }
    if (d instanceof List<?> l && l.isEmpty()) {
      return new ArrayList<>();
    }
    return d == null || d instanceof String || d instanceof Number || d instanceof Boolean || d instanceof Enum<?>
        ? d : model.deepCopy(field.schema(), d);
  }

  private static double number(JsonNode node, String path) {
    if (node.isNumber()) {
      return node.doubleValue();
    }
    if (node.isTextual()) {
      switch (node.asText()) {
        case "NaN":
          return Double.NaN;
        case "Infinity":
        case "inf":
          return Double.POSITIVE_INFINITY;
        case "-Infinity":
        case "-inf":
          return Double.NEGATIVE_INFINITY;
        default:
          break;
      }
    }
    throw new InvalidLineException(path + ": expected a number, got " + describe(node));
  }

  /** A {@code timestamp-micros} value: an ISO-8601 time or microseconds since the epoch. */
  static Instant instant(JsonNode node, String path) {
    return Instant.EPOCH.plus(micros(node, path), ChronoUnit.MICROS);
  }

  static long micros(JsonNode node, String path) {
    if (node.isIntegralNumber()) {
      return node.longValue();
    }
    if (node.isTextual()) {
      try {
        Instant t = Instant.parse(node.asText());
        return ChronoUnit.MICROS.between(Instant.EPOCH, t);
      } catch (DateTimeParseException e) {
        throw new InvalidLineException(path + ": expected an ISO-8601 UTC time such as 2026-11-20T10:15:30.5Z, got " + describe(node));
      }
    }
    throw new InvalidLineException(path + ": expected an ISO-8601 time or microseconds since the epoch, got " + describe(node));
  }

  static String typeName(Schema schema) {
    return switch (schema.getType()) {
      case UNION -> schema.getTypes().stream().map(JsonToAvro::typeName).toList().toString();
      case ARRAY -> "array of " + typeName(schema.getElementType());
      case MAP -> "object of " + typeName(schema.getValueType());
      case RECORD, ENUM -> schema.getName();
      default -> schema.getLogicalType() != null ? schema.getLogicalType().getName() : schema.getType().getName();
    };
  }

  static String describe(JsonNode node) {
    String text;
    try {
      text = JSON.writeValueAsString(node);
    } catch (Exception e) {
      text = node.toString();
    }
    String kind = node.isTextual() ? "string" : node.isNumber() ? "number" : node.isBoolean() ? "boolean"
        : node.isArray() ? "array" : node.isObject() ? "object" : "null";
    return kind + " " + (text.length() > 60 ? text.substring(0, 57) + "..." : text);
  }

}
