package io.lineageledger.producers.ndjson;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.Digests;
import io.lineageledger.producers.Subjects;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.specific.SpecificRecord;

/**
 * The NDJSON protocol of {@code producers/PROTOCOL.md}: turns one line written by a trainer in
 * any language into a ledger event (subject, payload, optional event id and time), or throws
 * {@link InvalidLineException} naming what is wrong.
 *
 * <p>A line is a JSON object with the envelope keys {@code type} (required, snake_case),
 * {@code run_id}, {@code event_id} and {@code occurred_at}, and the payload's fields under their
 * Avro names. Parsing is strict: unknown keys, missing required fields and wrong types are
 * errors. Config params may be nested JSON; they are flattened to dotted keys with JSON-encoded
 * values, and the config digest and changed keys are computed when the line leaves them out.
 *
 * <p>A line is decoded in one pass, straight from the parser into the generated record, when its
 * first key is {@code type} and its type derives nothing from its other keys (every type but
 * {@code run_started}, {@code config_snapshot} and {@code model_version_registered}). Any other
 * line, and any line that does not fit, is decoded from a JSON tree, which names what is wrong:
 * both ways give the same event for a valid line and the same error for a bad one.
 *
 * <p>One instance reads one stream: it remembers each run's last config to compute changed
 * keys. {@link #decode} is thread-safe; {@link #complete} and {@link #parse} are called from one thread.
 */
public final class NdjsonProtocol {
  /** Longest line accepted, in characters. */
  public static final int MAX_LINE_CHARS = 1 << 20;

  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
      .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
      .enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY) // cheaper than the parser's STRICT_DUPLICATE_DETECTION
      .enable(StreamReadFeature.USE_FAST_DOUBLE_PARSER)
      .build();
  private static final ObjectReader TREE = JSON.readerFor(JsonNode.class);
  private static final Set<String> ENVELOPE_KEYS = Set.of("type", "run_id", "event_id", "occurred_at");
  /** Map fields ({@code Record.field}) whose values may be any JSON, stored JSON-encoded. */
  static final Set<String> JSON_VALUED_MAPS = Set.of("DataTransformApplied.params", "EvaluationCompleted.decoding_params");
  private static final JsonToAvro CONVERTER = new JsonToAvro(JSON_VALUED_MAPS,
      JSON.readerFor(JsonNode.class).without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS));

  /** The event types of the protocol, by their snake_case name. */
  public enum EventType {
    RUN_STARTED("run_started", RunStarted.getClassSchema(), true),
    CONFIG_SNAPSHOT("config_snapshot", ConfigSnapshot.getClassSchema(), true),
    DATA_TRANSFORM_APPLIED("data_transform_applied", DataTransformApplied.getClassSchema(), false),
    DATASET_BOUND("dataset_bound", DatasetBound.getClassSchema(), true),
    STEP_SUMMARY("step_summary", StepSummary.getClassSchema(), true),
    CHECKPOINT_SAVED("checkpoint_saved", CheckpointSaved.getClassSchema(), true),
    EVALUATION_COMPLETED("evaluation_completed", EvaluationCompleted.getClassSchema(), true),
    RUN_FINISHED("run_finished", RunFinished.getClassSchema(), true),
    MODEL_VERSION_REGISTERED("model_version_registered", ModelVersionRegistered.getClassSchema(), false),
    BASELINE_DESIGNATED("baseline_designated", BaselineDesignated.getClassSchema(), false);

    private final String wireName;
    private final Schema schema;
    private final boolean runScoped;

    EventType(String wireName, Schema schema, boolean runScoped) {
      this.wireName = wireName;
      this.schema = schema;
      this.runScoped = runScoped;
    }

    /** The name a line's {@code type} key carries, for example {@code step_summary}. */
    public String wireName() {
      return wireName;
    }

    /** The Avro schema of the payload. */
    public Schema schema() {
      return schema;
    }

    /** Whether the event's subject is its run ({@code run:<run_id>}). */
    public boolean runScoped() {
      return runScoped;
    }

    public static EventType of(String wireName) {
      for (EventType t : values()) {
        if (t.wireName.equals(wireName)) {
          return t;
        }
      }
      return null;
    }

    static List<String> names() {
      return Arrays.stream(values()).map(EventType::wireName).toList();
    }
  }

  /**
   * The types decoded in one pass: those whose payload is exactly the line's non-envelope keys
   * (no field shares a name with an envelope key, nothing is filled in or derived).
   */
  private static final Set<EventType> ONE_PASS = onePass();

  private static Set<EventType> onePass() {
    Set<EventType> types = EnumSet.noneOf(EventType.class);
    for (EventType t : EventType.values()) {
      if (t != EventType.RUN_STARTED && t != EventType.CONFIG_SNAPSHOT && t != EventType.MODEL_VERSION_REGISTERED
          && t.schema.getFields().stream().noneMatch(f -> ENVELOPE_KEYS.contains(f.name()))) {
        types.add(t);
      }
    }
    return types;
  }

  /** A parsed line: the subject it is keyed by and the payload, plus the optional id and time the line set. */
  public record ParsedEvent(EventType type, String subject, SpecificRecord payload, String eventId, Instant occurredAt) {}

  private final String defaultRunId;
  private final Set<EventType> refused;
  private final String refusedReason;
  private final Map<String, Map<String, String>> lastConfig = new HashMap<>();

  /** A protocol for {@code ledger emit}: every type is accepted and lines name their own run. */
  public NdjsonProtocol() {
    this(null, Set.of(), null);
  }

  /**
   * @param defaultRunId the run a line without {@code run_id} belongs to; when set, a line naming another run is refused
   * @param refused event types refused on this stream (the sidecar records run_started and run_finished itself)
   * @param refusedReason why they are refused, for the error message
   */
  public NdjsonProtocol(String defaultRunId, Set<EventType> refused, String refusedReason) {
    this.defaultRunId = defaultRunId;
    this.refused = Set.copyOf(refused);
    this.refusedReason = refusedReason;
  }

  /** A line decoded by {@link #decode}, waiting for {@link #complete} to add what depends on earlier lines. */
  public record Decoded(ParsedEvent event, Map<String, String> flatConfig, boolean changedKeysGiven) {}

  /** Parses one line: {@link #complete}({@link #decode}(line)). */
  public ParsedEvent parse(String line) {
    return complete(decode(line));
  }

  /**
   * Adds what depends on the stream's earlier lines (a config's changed keys). Call it in
   * stream order, from one thread.
   */
  public ParsedEvent complete(Decoded decoded) {
    if (decoded.flatConfig() != null) {
      String runId = decoded.event().subject();
      Map<String, String> flat = decoded.flatConfig();
      Map<String, String> previous = lastConfig.put(runId, flat);
      if (!decoded.changedKeysGiven()) {
        List<String> changed = new ArrayList<>();
        Set<String> keys = new java.util.TreeSet<>(flat.keySet());
        if (previous != null) {
          keys.addAll(previous.keySet());
        }
        for (String k : keys) {
          if (previous == null || !Objects.equals(previous.get(k), flat.get(k))) {
            changed.add(k);
          }
        }
        ((ConfigSnapshot) decoded.event().payload()).setChangedKeys(changed);
      }
    }
    return decoded.event();
  }

  /**
   * The part of parsing that needs no earlier line: JSON, validation, conversion, the config
   * digest. Thread-safe, so a reader may decode lines in parallel and complete them in order.
   */
  public Decoded decode(String line) {
    if (line.length() > MAX_LINE_CHARS) {
      throw new InvalidLineException("line is " + line.length() + " characters long; the limit is " + MAX_LINE_CHARS);
    }
    Decoded decoded = decodeInOnePass(line);
    return decoded != null ? decoded : decodeFromTree(line);
  }

  /**
   * Decodes a line of a {@link #ONE_PASS} type whose first key is {@code type}, straight from the
   * parser into the generated record, with the checks {@link #decodeFromTree} makes. Returns null
   * for any other line and for any line with something wrong, which {@link #decodeFromTree} then
   * decodes again and names.
   */
  Decoded decodeInOnePass(String line) {
    try (JsonParser p = JSON.createParser(line)) {
      if (p.nextToken() != JsonToken.START_OBJECT || !"type".equals(p.nextFieldName()) || p.nextToken() != JsonToken.VALUE_STRING) {
        return null;
      }
      EventType type = EventType.of(p.getText());
      if (type == null || !ONE_PASS.contains(type) || refused.contains(type)) {
        return null;
      }
      JsonToAvro.Fill payload = CONVERTER.fill(type.schema);
      String runId = null;
      String eventId = null;
      Instant occurredAt = null;
      boolean runIdSeen = false;
      boolean eventIdSeen = false;
      for (String key = p.nextFieldName(); key != null; key = p.nextFieldName()) {
        JsonToken value = p.nextToken();
        int field = payload.field(key);
        if (field >= 0) {
          payload.read(field, p);
        } else if (key.equals("run_id") && !runIdSeen) {
          runIdSeen = true;
          runId = stringOrNull(p, value);
        } else if (key.equals("event_id") && !eventIdSeen) {
          eventIdSeen = true;
          eventId = stringOrNull(p, value);
        } else if (key.equals("occurred_at") && occurredAt == null) {
          occurredAt = JsonToAvro.instant(p);
        } else {
          return null; // an unknown or repeated key
        }
      }
      if (p.currentToken() != JsonToken.END_OBJECT || p.nextToken() != null) {
        return null;
      }
      if (eventId != null && (eventId.isBlank() || eventId.length() > 200)
          || runId != null && (runId.isBlank() || defaultRunId != null && !defaultRunId.equals(runId))) {
        return null;
      }
      if (runId == null) {
        runId = defaultRunId;
        if (runId == null && type.runScoped) {
          return null;
        }
      }
      IndexedRecord record = payload.finish();
      String subject = subject(type, (SpecificRecord) record, runId);
      return new Decoded(new ParsedEvent(type, subject, (SpecificRecord) record, eventId, occurredAt), null, false);
    } catch (IOException | RuntimeException e) {
      return null; // not JSON, or something that does not fit: the tree path names it
    }
  }

  /** A string or null envelope value; anything else is left to the tree path to name. */
  private static String stringOrNull(JsonParser p, JsonToken value) throws IOException {
    if (value == JsonToken.VALUE_STRING) {
      return p.getText();
    }
    if (value != JsonToken.VALUE_NULL) {
      throw JsonToAvro.NotStreamable.INSTANCE;
    }
    return null;
  }

  /** Decodes a line through a JSON tree: every type, every key order, and the error that names what is wrong. */
  Decoded decodeFromTree(String line) {
    JsonNode node;
    try {
      node = TREE.readTree(line);
    } catch (JsonProcessingException e) {
      throw new InvalidLineException("not valid JSON: " + e.getOriginalMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw new InvalidLineException("empty line");
    }
    if (!node.isObject()) {
      throw new InvalidLineException("expected a JSON object, got " + JsonToAvro.describe(node));
    }
    ObjectNode obj = (ObjectNode) node;
    EventType type = type(obj);
    if (refused.contains(type)) {
      throw new InvalidLineException("type '" + type.wireName + "' is not accepted here: " + refusedReason);
    }
    String runId = runId(obj, type);
    String eventId = eventId(obj);
    Instant occurredAt = obj.has("occurred_at") ? JsonToAvro.instant(obj.get("occurred_at"), "occurred_at") : null;

    if (type == EventType.RUN_STARTED || type == EventType.MODEL_VERSION_REGISTERED) {
      if (runId != null) {
        obj.set("run_id", TextNode.valueOf(runId)); // these payloads carry the run id themselves
      }
    }
    Map<String, String> flatConfig = null;
    boolean digestGiven = obj.has("digest");
    if (type == EventType.CONFIG_SNAPSHOT) {
      flatConfig = flattenConfig(obj);
      if (!digestGiven && flatConfig != null) {
        obj.put("digest", configDigest(flatConfig));
      }
    }
    Set<String> ignored = type == EventType.RUN_STARTED || type == EventType.MODEL_VERSION_REGISTERED
        ? Set.of("type", "event_id", "occurred_at") : ENVELOPE_KEYS;
    SpecificRecord payload = (SpecificRecord) CONVERTER.record(type.schema, obj, type.wireName, ignored);
    if (type == EventType.CONFIG_SNAPSHOT) {
      checkConfigDigest((ConfigSnapshot) payload, digestGiven);
    }
    ParsedEvent event = new ParsedEvent(type, subject(type, payload, runId), payload, eventId, occurredAt);
    return new Decoded(event, type == EventType.CONFIG_SNAPSHOT ? Map.copyOf(flatConfig) : null, obj.has("changed_keys"));
  }

  private static EventType type(ObjectNode obj) {
    JsonNode t = obj.get("type");
    if (t == null) {
      throw new InvalidLineException("missing 'type' (one of " + EventType.names() + ")");
    }
    if (!t.isTextual()) {
      throw new InvalidLineException("'type' must be a string (one of " + EventType.names() + "), got " + JsonToAvro.describe(t));
    }
    EventType type = EventType.of(t.asText());
    if (type == null) {
      throw new InvalidLineException("unknown type '" + t.asText() + "' (one of " + EventType.names() + ")");
    }
    return type;
  }

  private String runId(ObjectNode obj, EventType type) {
    JsonNode r = obj.get("run_id");
    String runId;
    if (r == null || r.isNull()) {
      runId = defaultRunId;
    } else if (!r.isTextual() || r.asText().isBlank()) {
      throw new InvalidLineException("'run_id' must be a non-empty string, got " + JsonToAvro.describe(r));
    } else {
      runId = r.asText();
      if (defaultRunId != null && !defaultRunId.equals(runId)) {
        throw new InvalidLineException("'run_id' is '" + runId + "' but this stream belongs to run '" + defaultRunId + "'");
      }
    }
    if (runId == null && (type.runScoped || type == EventType.MODEL_VERSION_REGISTERED)) {
      throw new InvalidLineException("missing 'run_id': a " + type.wireName + " event belongs to a run");
    }
    return runId;
  }

  private static String eventId(ObjectNode obj) {
    JsonNode e = obj.get("event_id");
    if (e == null || e.isNull()) {
      return null;
    }
    if (!e.isTextual() || e.asText().isBlank() || e.asText().length() > 200) {
      throw new InvalidLineException("'event_id' must be a non-empty string of at most 200 characters, got " + JsonToAvro.describe(e));
    }
    return e.asText();
  }

  private static String subject(EventType type, SpecificRecord payload, String runId) {
    try {
      return switch (type) {
        case DATA_TRANSFORM_APPLIED -> Subjects.of((DataTransformApplied) payload);
        case MODEL_VERSION_REGISTERED -> Subjects.of((ModelVersionRegistered) payload);
        case BASELINE_DESIGNATED -> Subjects.of((BaselineDesignated) payload);
        default -> Subjects.run(runId);
      };
    } catch (IllegalArgumentException e) {
      throw new InvalidLineException(type.wireName + ": " + e.getMessage());
    }
  }

  /**
   * Replaces the line's {@code params} (any JSON object, nested or flat) with its flat form:
   * dotted keys to JSON-encoded values, as {@link ConfigSnapshot#getParams()} documents.
   */
  private static Map<String, String> flattenConfig(ObjectNode obj) {
    JsonNode params = obj.get("params");
    if (params == null) {
      return null; // the converter reports the missing field
    }
    if (!params.isObject()) {
      throw new InvalidLineException("config_snapshot.params: expected an object, got " + JsonToAvro.describe(params));
    }
    Map<String, String> flat = new TreeMap<>();
    flatten("", params, flat);
    ObjectNode replaced = JSON.createObjectNode();
    flat.forEach(replaced::put);
    obj.set("params", replaced);
    return flat;
  }

  private static void flatten(String prefix, JsonNode node, Map<String, String> out) {
    if (node.isObject() && (prefix.isEmpty() || node.size() > 0)) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        if (e.getKey().isEmpty()) {
          throw new InvalidLineException("config_snapshot.params" + (prefix.isEmpty() ? "" : "." + prefix) + ": empty key");
        }
        String key = prefix.isEmpty() ? e.getKey() : prefix + "." + e.getKey();
        if (out.containsKey(key)) {
          throw new InvalidLineException("config_snapshot.params: key '" + key + "' appears both nested and dotted");
        }
        flatten(key, e.getValue(), out);
      }
    } else {
      out.put(prefix, node.toString());
    }
  }

  private static void checkConfigDigest(ConfigSnapshot config, boolean digestGiven) {
    String digest = configDigest(config.getParams());
    if (digestGiven && !digest.equals(config.getDigest())) {
      throw new InvalidLineException("config_snapshot.digest is " + config.getDigest() + " but the params hash to " + digest
          + " (SHA-256 over the sorted keys, each written as key=value and a newline)");
    }
    config.setDigest(digest);
  }

  /** The canonical config digest: SHA-256 over the keys sorted, each written as {@code key=value\n}. */
  public static String configDigest(Map<String, String> params) {
    StringBuilder canonical = new StringBuilder();
    new TreeMap<>(params).forEach((k, v) -> canonical.append(k).append('=').append(v).append('\n'));
    return Digests.sha256(canonical.toString().getBytes(StandardCharsets.UTF_8));
  }

}
