package io.lineageledger.producers.ndjson;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
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
 * <p>Values come from a JSON tree ({@link #record}) or straight from a parser ({@link #fill}).
 * The streaming form gives the same data for every value that fits, and gives up
 * ({@link NotStreamable}) on anything else, so that the tree form names the error.
 *
 * <p>Thread-safe. What it needs of a schema (fields, defaults, the generated class) is worked out
 * on first use and kept; error paths are built only for values that do not fit.
 */
final class JsonToAvro {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Set<String> jsonEncodedMaps;
  private final ObjectReader subtrees;

  /**
   * @param jsonEncodedMaps field paths ({@code record.field}) of map fields whose values are JSON-encoded
   * @param subtrees reads one value from a parser as a tree, where the streaming form hands a
   *     value to the tree form; it must refuse what the line's own reader refuses (duplicate keys)
   *     and must not look past the value (no trailing-token check)
   */
  JsonToAvro(Set<String> jsonEncodedMaps, ObjectReader subtrees) {
    this.jsonEncodedMaps = jsonEncodedMaps;
    this.subtrees = subtrees;
  }

  /** How to fill the generated record of one schema, worked out once per schema. */
  private final Map<Schema, Plan> plans = new ConcurrentHashMap<>();
  private final Map<Schema, SpecificData> enumModels = new ConcurrentHashMap<>();

  private final class Plan {
    final SpecificData model; // the generated classes' model: it carries the logical-type conversions
    final Schema.Field[] fields;
    final boolean[] jsonEncoded;
    final Object[] defaults; // a field's immutable default, NO_DEFAULT, or FRESH_DEFAULT (made per record)
    final Map<String, Integer> index = new HashMap<>(); // field name to position

    Plan(Schema schema) {
      model = SpecificData.getForSchema(schema);
      fields = schema.getFields().toArray(new Schema.Field[0]);
      jsonEncoded = new boolean[fields.length];
      defaults = new Object[fields.length];
      for (int i = 0; i < fields.length; i++) {
        Schema.Field field = fields[i];
        index.put(field.name(), i);
        jsonEncoded[i] = jsonEncodedMaps.contains(schema.getName() + "." + field.name());
        if (!field.hasDefaultValue()) {
          defaults[i] = NO_DEFAULT;
        } else {
          Object d = model.getDefaultValue(field);
          defaults[i] = d == null || d instanceof String || d instanceof Number || d instanceof Boolean || d instanceof Enum<?>
              ? d : FRESH_DEFAULT;
        }
      }
    }
  }

  private static final Object NO_DEFAULT = new Object();
  private static final Object FRESH_DEFAULT = new Object();

  private Plan plan(Schema schema) {
    Plan plan = plans.get(schema);
    return plan != null ? plan : plans.computeIfAbsent(schema, Plan::new);
  }

  /**
   * A value that does not fit, found deep in a record. Its path is put together only on the way
   * out, segment by segment, so that valid lines build no path strings at all.
   */
  private static final class Mismatch extends RuntimeException {
    private final ArrayDeque<String> segments = new ArrayDeque<>(4);

    Mismatch(String reason) {
      super(reason, null, false, false);
    }

    Mismatch at(String segment) {
      segments.addFirst(segment);
      return this;
    }

    InvalidLineException toInvalidLine(String root) {
      StringBuilder path = new StringBuilder(root);
      segments.forEach(path::append);
      return new InvalidLineException(path + ": " + getMessage());
    }
  }

  /**
   * Builds the generated (specific) record of {@code schema} directly: no generic intermediate,
   * no copy. An error's message starts with the field's path under {@code path}.
   */
  IndexedRecord record(Schema schema, JsonNode node, String path, Set<String> ignoredFields) {
    try {
      return record(schema, node, ignoredFields);
    } catch (Mismatch m) {
      throw m.toInvalidLine(path);
    }
  }

  private IndexedRecord record(Schema schema, JsonNode node, Set<String> ignoredFields) {
    if (!node.isObject()) {
      throw new Mismatch("expected an object, got " + describe(node));
    }
    Plan plan = plan(schema);
    IndexedRecord record = (IndexedRecord) plan.model.newRecord(null, schema);
    int known = 0;
    Schema.Field[] fields = plan.fields;
    for (int i = 0; i < fields.length; i++) {
      Schema.Field field = fields[i];
      JsonNode value = node.get(field.name());
      if (value == null) {
        Object d = plan.defaults[i];
        if (d == NO_DEFAULT) {
          checkUnknown(schema, node, ignoredFields); // an unknown field is the likelier mistake: report it first
          throw new Mismatch("missing required field (" + typeName(field.schema()) + ")").at("." + field.name());
        }
        record.put(i, d == FRESH_DEFAULT ? defaultValue(plan.model, field) : d);
        continue;
      }
      known++;
      try {
        record.put(i, value(field.schema(), value, plan.jsonEncoded[i]));
      } catch (Mismatch m) {
        checkUnknown(schema, node, ignoredFields);
        throw m.at("." + field.name());
      }
    }
    if (known < node.size() && known + ignoredPresent(schema, ignoredFields, node) < node.size()) {
      checkUnknown(schema, node, ignoredFields); // some name is neither a field nor ignored
    }
    return record;
  }

  /** How many of {@code node}'s names are ignored ones (and not fields, which are counted already). */
  private static int ignoredPresent(Schema schema, Set<String> ignoredFields, JsonNode node) {
    int n = 0;
    for (String name : ignoredFields) {
      if (node.has(name) && schema.getField(name) == null) {
        n++;
      }
    }
    return n;
  }

  private static void checkUnknown(Schema schema, JsonNode node, Set<String> ignoredFields) {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (schema.getField(name) == null && !ignoredFields.contains(name)) {
        throw new Mismatch("unknown field '" + name + "' (fields: " + schema.getFields().stream().map(Schema.Field::name).toList() + ")");
      }
    }
  }

  private Object value(Schema schema, JsonNode node, boolean jsonEncodedMap) {
    switch (schema.getType()) {
      case UNION: {
        if (node.isNull()) {
          for (Schema branch : schema.getTypes()) {
            if (branch.getType() == Schema.Type.NULL) {
              return null;
            }
          }
          throw new Mismatch("must not be null (" + typeName(schema) + ")");
        }
        Mismatch last = null;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() == Schema.Type.NULL) {
            continue;
          }
          try {
            return value(branch, node, jsonEncodedMap);
          } catch (Mismatch e) {
            last = e;
          }
        }
        throw last != null ? last : new Mismatch("no branch of " + typeName(schema) + " fits " + describe(node));
      }
      case STRING:
        if (!node.isTextual()) {
          throw new Mismatch("expected a string, got " + describe(node));
        }
        return node.asText();
      case BOOLEAN:
        if (!node.isBoolean()) {
          throw new Mismatch("expected true or false, got " + describe(node));
        }
        return node.booleanValue();
      case INT:
        if (!node.isIntegralNumber() || !node.canConvertToInt()) {
          throw new Mismatch("expected a 32-bit integer, got " + describe(node));
        }
        return node.intValue();
      case LONG:
        if (schema.getLogicalType() instanceof LogicalTypes.TimestampMicros) {
          return ofMicros(micros(node));
        }
        if (!node.isIntegralNumber() || !node.canConvertToLong()) {
          throw new Mismatch("expected an integer, got " + describe(node));
        }
        return node.longValue();
      case DOUBLE:
      case FLOAT: {
        double d = number(node);
        return schema.getType() == Schema.Type.FLOAT ? (Object) (float) d : (Object) d;
      }
      case ENUM:
        if (!node.isTextual() || !schema.getEnumSymbols().contains(node.asText())) {
          throw new Mismatch("expected one of " + schema.getEnumSymbols() + ", got " + describe(node));
        }
        return enumModels.computeIfAbsent(schema, SpecificData::getForSchema).createEnum(node.asText(), schema);
      case ARRAY: {
        if (!node.isArray()) {
          throw new Mismatch("expected an array, got " + describe(node));
        }
        List<Object> items = new ArrayList<>(node.size());
        for (int i = 0; i < node.size(); i++) {
          try {
            items.add(value(schema.getElementType(), node.get(i), false));
          } catch (Mismatch m) {
            throw m.at("[" + i + "]");
          }
        }
        return items;
      }
      case MAP: {
        if (!node.isObject()) {
          throw new Mismatch("expected an object, got " + describe(node));
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (var it = node.fields(); it.hasNext(); ) {
          var e = it.next();
          if (jsonEncodedMap) {
            map.put(e.getKey(), e.getValue().toString());
          } else {
            try {
              map.put(e.getKey(), value(schema.getValueType(), e.getValue(), false));
            } catch (Mismatch m) {
              throw m.at("['" + e.getKey() + "']");
            }
          }
        }
        return map;
      }
      case RECORD:
        return record(schema, node, Set.of());
      default:
        throw new Mismatch("unsupported type " + schema.getType());
    }
  }

  /**
   * The streaming form met something it does not decide: a value of the wrong type, a missing or
   * repeated field, a union of several types. The caller decodes the line from a tree instead.
   */
  static final class NotStreamable extends RuntimeException {
    static final NotStreamable INSTANCE = new NotStreamable();

    private NotStreamable() {
      super("not streamable", null, false, false);
    }
  }

  /** Starts filling the generated record of {@code schema} from a parser, one field at a time. */
  Fill fill(Schema schema) {
    Plan plan = plan(schema);
    if (plan.fields.length > Long.SIZE) {
      throw NotStreamable.INSTANCE;
    }
    return new Fill(plan, schema);
  }

  /** A record being filled from a parser: {@link #field}, then {@link #read} per key, then {@link #finish}. */
  final class Fill {
    private final Plan plan;
    private final IndexedRecord record;
    private long seen;

    private Fill(Plan plan, Schema schema) {
      this.plan = plan;
      this.record = (IndexedRecord) plan.model.newRecord(null, schema);
    }

    /** The position of the field called {@code name}, or -1 when the schema has none. */
    int field(String name) {
      Integer i = plan.index.get(name);
      return i == null ? -1 : i;
    }

    /** Reads field {@code i}'s value, the parser's current token, to its end. */
    void read(int i, JsonParser p) throws IOException {
      long bit = 1L << i;
      if ((seen & bit) != 0) {
        throw NotStreamable.INSTANCE; // a repeated key
      }
      seen |= bit;
      record.put(i, stream(plan.fields[i].schema(), p, plan.jsonEncoded[i]));
    }

    /** The record, with defaults for the fields not read. */
    IndexedRecord finish() {
      for (int i = 0; i < plan.fields.length; i++) {
        if ((seen & (1L << i)) == 0) {
          Object d = plan.defaults[i];
          if (d == NO_DEFAULT) {
            throw NotStreamable.INSTANCE;
          }
          record.put(i, d == FRESH_DEFAULT ? defaultValue(plan.model, plan.fields[i]) : d);
        }
      }
      return record;
    }
  }

  /** The value at the parser's current token, read to its end; the same data {@link #value} makes from its tree. */
  private Object stream(Schema schema, JsonParser p, boolean jsonEncodedMap) throws IOException {
    JsonToken t = p.currentToken();
    switch (schema.getType()) {
      case UNION: {
        Schema only = null;
        boolean nullable = false;
        for (Schema branch : schema.getTypes()) {
          if (branch.getType() == Schema.Type.NULL) {
            nullable = true;
          } else if (only == null) {
            only = branch;
          } else {
            return fromTree(schema, p, jsonEncodedMap); // several branches: the tree form tries each in turn
          }
        }
        if (t == JsonToken.VALUE_NULL) {
          if (nullable) {
            return null;
          }
          throw NotStreamable.INSTANCE;
        }
        if (only == null) {
          throw NotStreamable.INSTANCE;
        }
        return stream(only, p, jsonEncodedMap);
      }
      case STRING:
        if (t == JsonToken.VALUE_STRING) {
          return p.getText();
        }
        break;
      case BOOLEAN:
        if (t == JsonToken.VALUE_TRUE || t == JsonToken.VALUE_FALSE) {
          return t == JsonToken.VALUE_TRUE;
        }
        break;
      case INT:
        if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() == JsonParser.NumberType.INT) {
          return p.getIntValue();
        }
        break;
      case LONG:
        if (schema.getLogicalType() instanceof LogicalTypes.TimestampMicros) {
          return instant(p);
        }
        if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          return p.getLongValue();
        }
        break;
      case DOUBLE:
      case FLOAT: {
        double d;
        Double named = t == JsonToken.VALUE_STRING ? nonFinite(p.getText()) : null;
        if (t == JsonToken.VALUE_NUMBER_FLOAT
            || t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
          d = p.getDoubleValue();
        } else if (named != null) {
          d = named;
        } else {
          break;
        }
        return schema.getType() == Schema.Type.FLOAT ? (Object) (float) d : (Object) d;
      }
      case ENUM:
        if (t == JsonToken.VALUE_STRING && schema.hasEnumSymbol(p.getText())) {
          return enumModels.computeIfAbsent(schema, SpecificData::getForSchema).createEnum(p.getText(), schema);
        }
        break;
      case ARRAY: {
        if (t != JsonToken.START_ARRAY) {
          break;
        }
        List<Object> items = new ArrayList<>();
        while (p.nextToken() != JsonToken.END_ARRAY) {
          items.add(stream(schema.getElementType(), p, false));
        }
        return items;
      }
      case MAP: {
        if (jsonEncodedMap) {
          return fromTree(schema, p, true);
        }
        if (t != JsonToken.START_OBJECT) {
          break;
        }
        Map<String, Object> map = new LinkedHashMap<>();
        for (String key = p.nextFieldName(); key != null; key = p.nextFieldName()) {
          p.nextToken();
          if (map.containsKey(key)) {
            throw NotStreamable.INSTANCE; // a repeated key
          }
          map.put(key, stream(schema.getValueType(), p, false));
        }
        return map;
      }
      default:
        return fromTree(schema, p, jsonEncodedMap);
    }
    throw NotStreamable.INSTANCE;
  }

  /** Reads the current value as a tree and converts it as {@link #record} does. */
  private Object fromTree(Schema schema, JsonParser p, boolean jsonEncodedMap) throws IOException {
    JsonNode node = subtrees.readTree(p);
    try {
      return value(schema, node, jsonEncodedMap);
    } catch (Mismatch m) {
      throw NotStreamable.INSTANCE;
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

  private static double number(JsonNode node) {
    if (node.isNumber()) {
      return node.doubleValue();
    }
    Double named = node.isTextual() ? nonFinite(node.asText()) : null;
    if (named != null) {
      return named;
    }
    throw new Mismatch("expected a number, got " + describe(node));
  }

  /** The non-finite double a string names ({@code "NaN"}, {@code "Infinity"}, ...), or null when it names none. */
  private static Double nonFinite(String text) {
    switch (text) {
      case "NaN":
        return Double.NaN;
      case "Infinity":
      case "inf":
        return Double.POSITIVE_INFINITY;
      case "-Infinity":
      case "-inf":
        return Double.NEGATIVE_INFINITY;
      default:
        return null;
    }
  }

  /** A {@code timestamp-micros} value: an ISO-8601 time or microseconds since the epoch. */
  static Instant instant(JsonNode node, String path) {
    return ofMicros(micros(node, path));
  }

  /** The instant {@code micros} microseconds after the epoch, as the generated classes hold {@code timestamp-micros}. */
  private static Instant ofMicros(long micros) {
    return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
  }

  static long micros(JsonNode node, String path) {
    try {
      return micros(node);
    } catch (Mismatch m) {
      throw m.toInvalidLine(path);
    }
  }

  private static long micros(JsonNode node) {
    if (node.isIntegralNumber()) {
      if (!node.canConvertToLong()) {
        throw new Mismatch("microseconds since the epoch out of range (a signed 64-bit integer), got " + describe(node));
      }
      return node.longValue();
    }
    if (node.isTextual()) {
      try {
        return micros(node.asText());
      } catch (Mismatch m) {
        throw new Mismatch(m.getMessage() + ", got " + describe(node));
      }
    }
    throw new Mismatch("expected an ISO-8601 time or microseconds since the epoch, got " + describe(node));
  }

  /** Microseconds since the epoch of an ISO-8601 time. */
  private static long micros(String text) {
    Instant t;
    try {
      t = Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new Mismatch("expected an ISO-8601 UTC time such as 2026-11-20T10:15:30.5Z");
    }
    try {
      return ChronoUnit.MICROS.between(Instant.EPOCH, t);
    } catch (ArithmeticException e) {
      throw new Mismatch("time out of range: microseconds since the epoch must fit a signed 64-bit integer");
    }
  }

  /** A {@code timestamp-micros} value at the parser's current token, as {@link #instant(JsonNode, String)} reads it. */
  static Instant instant(JsonParser p) throws IOException {
    JsonToken t = p.currentToken();
    if (t == JsonToken.VALUE_NUMBER_INT && p.getNumberType() != JsonParser.NumberType.BIG_INTEGER) {
      return ofMicros(p.getLongValue());
    }
    if (t == JsonToken.VALUE_STRING) {
      try {
        return ofMicros(micros(p.getText()));
      } catch (Mismatch m) {
        throw NotStreamable.INSTANCE;
      }
    }
    throw NotStreamable.INSTANCE;
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
