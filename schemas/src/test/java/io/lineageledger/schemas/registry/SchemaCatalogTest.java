package io.lineageledger.schemas.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;

class SchemaCatalogTest {
  static final String V1 = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"}]}";
  static final String V2_OPTIONAL_FIELD = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
      + "{\"name\":\"b\",\"type\":[\"null\",\"long\"],\"default\":null}]}";
  static final String V2_REQUIRED_FIELD = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"a\",\"type\":\"string\"},"
      + "{\"name\":\"c\",\"type\":\"long\"}]}";

  private final LocalSchemaRegistryClient registry = new LocalSchemaRegistryClient();

  @Test
  void sameSchemaTwiceGetsTheSameIdAndNoNewVersion() {
    int first = registry.register("t-value", Schema.parse(V1));
    int again = registry.register("t-value", Schema.parse(V1.replace(" ", "")));
    assertThat(again).isEqualTo(first);
    assertThat(registry.versions("t-value")).containsExactly(1);
  }

  @Test
  void idsAreGlobalAcrossSubjects() {
    int a = registry.register("a-value", Schema.parse(V1));
    int b = registry.register("b-value", Schema.parse(V1));
    assertThat(b).isEqualTo(a);
    assertThat(registry.latest("b-value").version()).isEqualTo(1);
  }

  @Test
  void backwardCompatibleSchemaBecomesVersionTwo() {
    registry.register("t-value", Schema.parse(V1));
    int id2 = registry.register("t-value", Schema.parse(V2_OPTIONAL_FIELD));
    RegisteredSchema latest = registry.latest("t-value");
    assertThat(latest.version()).isEqualTo(2);
    assertThat(latest.id()).isEqualTo(id2);
  }

  @Test
  void backwardIncompatibleSchemaIsRefusedWith409() {
    registry.register("t-value", Schema.parse(V1));
    assertThat(registry.compatibilityProblems("t-value", Schema.parse(V2_REQUIRED_FIELD))).isNotEmpty();
    assertThatThrownBy(() -> registry.register("t-value", Schema.parse(V2_REQUIRED_FIELD)))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.status()).isEqualTo(409);
          assertThat(e.errorCode()).isEqualTo(409);
        })
        .hasMessageContaining("incompatible with an earlier schema for subject \"t-value\"")
        .hasMessageContaining("READER_FIELD_MISSING_DEFAULT_VALUE");
    assertThat(registry.versions("t-value")).containsExactly(1);
  }

  @Test
  void compatibilityNoneAcceptsAnything() {
    registry.register("t-value", Schema.parse(V1));
    registry.setSubjectCompatibility("t-value", CompatibilityLevel.NONE);
    registry.register("t-value", Schema.parse(V2_REQUIRED_FIELD));
    assertThat(registry.versions("t-value")).containsExactly(1, 2);
    assertThat(registry.subjectCompatibility("t-value")).contains(CompatibilityLevel.NONE);
    assertThat(registry.subjectCompatibility("other")).isEmpty();
    assertThat(registry.globalCompatibility()).isEqualTo(CompatibilityLevel.BACKWARD);
  }

  @Test
  void forwardTransitiveChecksEveryEarlierVersion() {
    registry.setGlobalCompatibility(CompatibilityLevel.FORWARD_TRANSITIVE);
    registry.register("t-value", Schema.parse(V1));
    // Removing field a: old readers (which need a, without default) cannot read new data.
    String noA = "{\"type\":\"record\",\"name\":\"Thing\",\"fields\":[{\"name\":\"b\",\"type\":[\"null\",\"long\"],\"default\":null}]}";
    assertThatThrownBy(() -> registry.register("t-value", Schema.parse(noA)))
        .isInstanceOf(SchemaRegistryException.class).hasMessageContaining("earlier schema cannot read");
  }

  @Test
  void notFoundErrorsCarryConfluentCodes() {
    registry.register("t-value", Schema.parse(V1));
    assertThatThrownBy(() -> registry.latest("nope")).isInstanceOfSatisfying(SchemaRegistryException.class,
        e -> assertThat(e.errorCode()).isEqualTo(40401));
    assertThatThrownBy(() -> registry.version("t-value", 9)).isInstanceOfSatisfying(SchemaRegistryException.class,
        e -> assertThat(e.errorCode()).isEqualTo(40402));
    assertThatThrownBy(() -> registry.schemaById(999)).isInstanceOfSatisfying(SchemaRegistryException.class,
        e -> assertThat(e.errorCode()).isEqualTo(40403));
    assertThatThrownBy(() -> registry.lookup("t-value", Schema.parse(V2_OPTIONAL_FIELD)))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> assertThat(e.errorCode()).isEqualTo(40403));
  }

  @Test
  void invalidSchemaIs42201() {
    assertThatThrownBy(() -> SchemaCatalog.parse("{\"type\":\"record\",\"name\":\"X\",\"fields\":[{\"name\":\"a\",\"type\":\"strin\"}]}"))
        .isInstanceOfSatisfying(SchemaRegistryException.class, e -> {
          assertThat(e.errorCode()).isEqualTo(42201);
          assertThat(e.status()).isEqualTo(422);
        })
        .hasMessageContaining("strin");
  }

  @Test
  void storeRecordsRebuildTheSameCatalog() {
    SchemaCatalog original = new SchemaCatalog();
    var plan = original.planRegistration("t-value", Schema.parse(V1));
    original.apply(plan.version());
    StoreRecord.Config level = new StoreRecord.Config("t-value", CompatibilityLevel.FULL);
    original.apply(level);

    SchemaCatalog rebuilt = new SchemaCatalog();
    rebuilt.apply(StoreRecord.parse(plan.version().key(), plan.version().value()));
    rebuilt.apply(StoreRecord.parse(level.key(), level.value()));
    assertThat(rebuilt.latest("t-value")).isEqualTo(original.latest("t-value"));
    assertThat(rebuilt.subjectLevel("t-value")).contains(CompatibilityLevel.FULL);
    assertThat(StoreRecord.parse("{\"keytype\":\"NOOP\",\"magic\":0}".getBytes(), null)).isNull();
  }
}
