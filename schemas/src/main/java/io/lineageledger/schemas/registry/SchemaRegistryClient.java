package io.lineageledger.schemas.registry;

import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * The subset of Confluent's schema-registry API the ledger uses. Implementations:
 * {@link RestSchemaRegistryClient} (any Confluent-compatible registry over HTTP) and
 * {@link LocalSchemaRegistryClient} (an in-process {@link SchemaCatalog}). Every failure is a
 * {@link SchemaRegistryException} carrying Confluent's error code.
 *
 * <p>Implementations are thread-safe.
 */
public interface SchemaRegistryClient extends AutoCloseable {

  /** Registers {@code schema} under {@code subject} (or finds it there) and returns its global id. */
  int register(String subject, Schema schema);

  /** Finds {@code schema} among the versions of {@code subject}; 40401 or 40403 when absent. */
  RegisteredSchema lookup(String subject, Schema schema);

  /** The schema with this global id; 40403 when unknown. */
  Schema schemaById(int id);

  /** The latest version of {@code subject}; 40401 when the subject has none. */
  RegisteredSchema latest(String subject);

  /** One version of {@code subject}; 40401 or 40402 when absent. */
  RegisteredSchema version(String subject, int version);

  /** Version numbers of {@code subject}, ascending. */
  List<Integer> versions(String subject);

  /** All subjects with at least one version. */
  List<String> subjects();

  /**
   * Whether {@code schema} may be registered under {@code subject} at the subject's compatibility
   * level.
   *
   * @return the reasons it may not; empty when compatible
   */
  List<String> compatibilityProblems(String subject, Schema schema);

  /** The global compatibility level. */
  CompatibilityLevel globalCompatibility();

  /** Sets the global compatibility level. */
  void setGlobalCompatibility(CompatibilityLevel level);

  /** The subject's own compatibility level, if one was set. */
  Optional<CompatibilityLevel> subjectCompatibility(String subject);

  /** Sets the subject's own compatibility level. */
  void setSubjectCompatibility(String subject, CompatibilityLevel level);

  @Override
  default void close() {}
}
