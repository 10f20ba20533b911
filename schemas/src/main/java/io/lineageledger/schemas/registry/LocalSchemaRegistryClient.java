package io.lineageledger.schemas.registry;

import java.util.List;
import java.util.Optional;
import org.apache.avro.Schema;

/**
 * A registry that lives in this process: a {@link SchemaCatalog} behind a lock, with the same
 * ids, versions, compatibility checks and error codes as the server. For tests and tools that
 * need no shared registry; nothing is persisted.
 */
public final class LocalSchemaRegistryClient implements SchemaRegistryClient {
  private final SchemaCatalog catalog = new SchemaCatalog();

  @Override
  public synchronized int register(String subject, Schema schema) {
    SchemaCatalog.Registration plan = catalog.planRegistration(subject, schema);
    if (!plan.existing()) {
      catalog.apply(plan.version());
    }
    return plan.version().id();
  }

  @Override
  public synchronized RegisteredSchema lookup(String subject, Schema schema) {
    return catalog.lookup(subject, schema).orElseThrow(() -> SchemaRegistryException.schemaNotFoundInSubject(subject));
  }

  @Override
  public synchronized Schema schemaById(int id) {
    return SchemaCatalog.parse(catalog.schemaById(id));
  }

  @Override
  public synchronized RegisteredSchema latest(String subject) {
    return catalog.latest(subject).toRegistered();
  }

  @Override
  public synchronized RegisteredSchema version(String subject, int version) {
    return catalog.version(subject, version).toRegistered();
  }

  @Override
  public synchronized List<Integer> versions(String subject) {
    return catalog.versions(subject);
  }

  @Override
  public synchronized List<String> subjects() {
    return catalog.subjects();
  }

  @Override
  public synchronized List<String> compatibilityProblems(String subject, Schema schema) {
    return catalog.compatibilityProblems(subject, schema);
  }

  @Override
  public synchronized CompatibilityLevel globalCompatibility() {
    return catalog.globalLevel();
  }

  @Override
  public synchronized void setGlobalCompatibility(CompatibilityLevel level) {
    catalog.apply(new StoreRecord.Config(null, level));
  }

  @Override
  public synchronized Optional<CompatibilityLevel> subjectCompatibility(String subject) {
    return catalog.subjectLevel(subject);
  }

  @Override
  public synchronized void setSubjectCompatibility(String subject, CompatibilityLevel level) {
    catalog.apply(new StoreRecord.Config(subject, level));
  }
}
