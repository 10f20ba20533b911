package io.lineageledger.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import io.lineageledger.events.Alert;
import io.lineageledger.events.EventEnvelope;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

/** Every record and field of the event schemas explains itself to the people who read the log. */
class SchemaDocsTest {

  @Test
  void everyRecordAndFieldHasADocString() {
    List<String> missing = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    walk(EventEnvelope.SCHEMA$, missing, seen);
    walk(Alert.SCHEMA$, missing, seen);
    assertThat(seen).hasSizeGreaterThan(15);
    assertThat(missing).as("fields without doc").isEmpty();
  }

  private static void walk(Schema schema, List<String> missing, Set<String> seen) {
    switch (schema.getType()) {
      case RECORD -> {
        if (!seen.add(schema.getFullName())) {
          return;
        }
        if (schema.getDoc() == null || schema.getDoc().isBlank()) {
          missing.add(schema.getFullName());
        }
        for (Schema.Field field : schema.getFields()) {
          if (field.doc() == null || field.doc().isBlank()) {
            missing.add(schema.getName() + "." + field.name());
          }
          walk(field.schema(), missing, seen);
        }
      }
      case UNION -> schema.getTypes().forEach(t -> walk(t, missing, seen));
      case ARRAY -> walk(schema.getElementType(), missing, seen);
      case MAP -> walk(schema.getValueType(), missing, seen);
      default -> { }
    }
  }
}
