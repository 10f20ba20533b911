package io.lineageledger.schemas.registry;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.avro.Schema;
import org.apache.avro.SchemaParseException;

/**
 * The state of a schema registry: subjects, their versions, global schema ids and compatibility
 * settings. It is the pure core shared by the registry server (which persists every change as a
 * {@link StoreRecord} in the compacted {@code _schemas} topic and rebuilds the catalog by applying
 * them) and by {@link LocalSchemaRegistryClient}.
 *
 * <p>Global ids: a schema that is already known under any subject keeps its id when registered under
 * another subject, as Confluent's registry does. Schemas are compared in Avro's canonical form
 * ({@link Schema#toString()} of the parsed schema).
 *
 * <p>Not thread-safe: the owner serializes access (the server holds one lock around each call).
 */
public final class SchemaCatalog {
  private final Map<String, TreeMap<Integer, StoreRecord.SchemaVersion>> subjects = new HashMap<>();
  private final Map<Integer, String> schemasById = new HashMap<>();
  private final Map<String, Integer> idsBySchema = new HashMap<>();
  private final Map<String, CompatibilityLevel> subjectLevels = new HashMap<>();
  private CompatibilityLevel globalLevel = CompatibilityLevel.BACKWARD;
  private int maxId;

  /** Applies one stored change. Applying the same record twice is harmless. */
  public void apply(StoreRecord record) {
    if (record instanceof StoreRecord.SchemaVersion v) {
      var versions = subjects.computeIfAbsent(v.subject(), s -> new TreeMap<>());
      if (v.deleted()) {
        versions.remove(v.version());
        if (versions.isEmpty()) {
          subjects.remove(v.subject());
        }
      } else {
        versions.put(v.version(), v);
      }
      if (v.id() < 0) {
        return;
      }
      schemasById.putIfAbsent(v.id(), v.schema());
      idsBySchema.putIfAbsent(v.schema(), v.id());
      maxId = Math.max(maxId, v.id());
    } else if (record instanceof StoreRecord.Config c) {
      if (c.subject() == null) {
        globalLevel = c.level() == null ? CompatibilityLevel.BACKWARD : c.level();
      } else if (c.level() == null) {
        subjectLevels.remove(c.subject());
      } else {
        subjectLevels.put(c.subject(), c.level());
      }
    }
  }

  /** Parses a schema string, failing with Confluent's 42201 when it is not a valid Avro schema. */
  public static Schema parse(String schema) {
    if (schema == null || schema.isBlank()) {
      throw SchemaRegistryException.invalidSchema("the request has no schema");
    }
    try {
      return new Schema.Parser().setValidateDefaults(true).parse(schema);
    } catch (SchemaParseException | org.apache.avro.AvroTypeException e) {
      throw SchemaRegistryException.invalidSchema(e.getMessage());
    } catch (RuntimeException e) {
      // Avro's parser fails on some malformed input (an unknown type name) with an unchecked
      // exception that is not a SchemaParseException; it is still the schema that is wrong.
      throw SchemaRegistryException.invalidSchema(e.getClass().getSimpleName() + ": " + e.getMessage());
    }
  }

  /**
   * What registering {@code schema} under {@code subject} means: either it is there already
   * ({@link Registration#existing()} true, nothing to store) or a new version to store.
   *
   * @throws SchemaRegistryException 409 when it breaks the subject's compatibility level
   */
  public Registration planRegistration(String subject, Schema schema) {
    String canonical = schema.toString();
    var versions = subjects.getOrDefault(subject, new TreeMap<>());
    for (StoreRecord.SchemaVersion v : versions.values()) {
      if (v.schema().equals(canonical)) {
        return new Registration(v, true);
      }
    }
    List<String> problems = compatibilityProblems(subject, schema);
    if (!problems.isEmpty()) {
      throw SchemaRegistryException.incompatible(subject, problems);
    }
    int id = idsBySchema.getOrDefault(canonical, maxId + 1);
    int version = versions.isEmpty() ? 1 : versions.lastKey() + 1;
    return new Registration(new StoreRecord.SchemaVersion(subject, version, id, canonical, false), false);
  }

  /** The reasons {@code schema} cannot follow the versions of {@code subject}; empty when it can. */
  public List<String> compatibilityProblems(String subject, Schema schema) {
    var versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) {
      return List.of();
    }
    List<Schema> earlier = new ArrayList<>();
    for (StoreRecord.SchemaVersion v : versions.values()) {
      earlier.add(parse(v.schema()));
    }
    return effectiveLevel(subject).check(schema, earlier);
  }

  /** Checks {@code schema} against one version only, as Confluent's per-version compatibility endpoint does. */
  public List<String> compatibilityProblems(String subject, int version, Schema schema) {
    StoreRecord.SchemaVersion v = version(subject, version);
    CompatibilityLevel level = effectiveLevel(subject);
    return level.check(schema, List.of(parse(v.schema())));
  }

  public Optional<RegisteredSchema> lookup(String subject, Schema schema) {
    var versions = subjects.get(subject);
    if (versions == null) {
      throw SchemaRegistryException.subjectNotFound(subject);
    }
    String canonical = schema.toString();
    return versions.values().stream().filter(v -> v.schema().equals(canonical)).findFirst().map(StoreRecord.SchemaVersion::toRegistered);
  }

  public String schemaById(int id) {
    String schema = schemasById.get(id);
    if (schema == null) {
      throw SchemaRegistryException.schemaNotFound(id);
    }
    return schema;
  }

  /** Subject and version pairs that use schema {@code id}. */
  public List<RegisteredSchema> usesOf(int id) {
    schemaById(id);
    List<RegisteredSchema> uses = new ArrayList<>();
    new TreeMap<>(subjects).forEach((subject, versions) -> versions.values().stream()
        .filter(v -> v.id() == id).forEach(v -> uses.add(v.toRegistered())));
    return uses;
  }

  public StoreRecord.SchemaVersion version(String subject, int version) {
    var versions = subjects.get(subject);
    if (versions == null) {
      throw SchemaRegistryException.subjectNotFound(subject);
    }
    var v = versions.get(version);
    if (v == null) {
      throw SchemaRegistryException.versionNotFound(version);
    }
    return v;
  }

  public StoreRecord.SchemaVersion latest(String subject) {
    var versions = subjects.get(subject);
    if (versions == null || versions.isEmpty()) {
      throw SchemaRegistryException.subjectNotFound(subject);
    }
    return versions.lastEntry().getValue();
  }

  public List<Integer> versions(String subject) {
    var versions = subjects.get(subject);
    if (versions == null) {
      throw SchemaRegistryException.subjectNotFound(subject);
    }
    return List.copyOf(versions.keySet());
  }

  public List<String> subjects() {
    return subjects.keySet().stream().sorted().toList();
  }

  public CompatibilityLevel globalLevel() {
    return globalLevel;
  }

  public Optional<CompatibilityLevel> subjectLevel(String subject) {
    return Optional.ofNullable(subjectLevels.get(subject));
  }

  public CompatibilityLevel effectiveLevel(String subject) {
    return subjectLevels.getOrDefault(subject, globalLevel);
  }

  /**
   * The outcome of {@link #planRegistration}.
   *
   * @param version the version (existing, or to be stored)
   * @param existing true when the schema was already registered under the subject
   */
  public record Registration(StoreRecord.SchemaVersion version, boolean existing) {}
}
