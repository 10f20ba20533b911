package io.lineageledger.schemas.registry;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.SchemaPairCompatibility;

/**
 * Confluent's compatibility levels, checked with Avro's own {@link SchemaCompatibility}.
 *
 * <p>BACKWARD: a reader with the new schema can read data written with the previous one (the
 * ledger's default: consumers upgrade first). FORWARD: the reverse. FULL: both. The
 * {@code _TRANSITIVE} variants check against every earlier version, not only the latest.
 */
public enum CompatibilityLevel {
  NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE;

  public static CompatibilityLevel parse(String value) {
    if (value == null) {
      throw SchemaRegistryException.invalidCompatibilityLevel("null");
    }
    try {
      return valueOf(value.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw SchemaRegistryException.invalidCompatibilityLevel(value);
    }
  }

  public boolean transitive() {
    return name().endsWith("_TRANSITIVE");
  }

  /**
   * Checks {@code candidate} against earlier versions (oldest first).
   *
   * @return the reasons it is incompatible; empty when it is compatible
   */
  public List<String> check(Schema candidate, List<Schema> earlierOldestFirst) {
    List<String> problems = new ArrayList<>();
    if (this == NONE || earlierOldestFirst.isEmpty()) {
      return problems;
    }
    List<Schema> against = transitive() ? earlierOldestFirst
        : List.of(earlierOldestFirst.get(earlierOldestFirst.size() - 1));
    boolean backward = this == BACKWARD || this == BACKWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    boolean forward = this == FORWARD || this == FORWARD_TRANSITIVE || this == FULL || this == FULL_TRANSITIVE;
    for (Schema earlier : against) {
      if (backward) {
        describe(SchemaCompatibility.checkReaderWriterCompatibility(candidate, earlier), "new schema cannot read data written with an earlier one", problems);
      }
      if (forward) {
        describe(SchemaCompatibility.checkReaderWriterCompatibility(earlier, candidate), "an earlier schema cannot read data written with the new one", problems);
      }
    }
    return problems;
  }

  private static void describe(SchemaPairCompatibility result, String direction, List<String> out) {
    if (result.getType() == SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE) {
      return;
    }
    for (SchemaCompatibility.Incompatibility inc : result.getResult().getIncompatibilities()) {
      out.add("{errorType:'" + inc.getType() + "', description:'" + direction + ": " + inc.getMessage()
          + "', location:'" + inc.getLocation() + "'}");
    }
  }
}
