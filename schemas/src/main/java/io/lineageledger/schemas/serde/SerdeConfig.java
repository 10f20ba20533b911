package io.lineageledger.schemas.serde;

import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import java.util.Map;

/**
 * Configuration keys of the ledger serde. The names are Confluent's, so an existing client
 * configuration works unchanged.
 */
public final class SerdeConfig {
  /** Base URL(s) of a Confluent-compatible schema registry, comma-separated. */
  public static final String SCHEMA_REGISTRY_URL = "schema.registry.url";
  /** Whether the serializer registers a schema it has not seen (default true). */
  public static final String AUTO_REGISTER_SCHEMAS = "auto.register.schemas";
  /** Specific record class the value deserializer reads into (default: looked up from the writer schema's name). */
  public static final String SPECIFIC_VALUE_TYPE = "specific.avro.value.type";
  /** Specific record class the key deserializer reads into. */
  public static final String SPECIFIC_KEY_TYPE = "specific.avro.key.type";
  /** An already built {@link SchemaRegistryClient} instance; takes precedence over the URL. */
  public static final String SCHEMA_REGISTRY_CLIENT = "ledger.schema.registry.client";

  private SerdeConfig() {}

  static SchemaRegistryClient client(Map<String, ?> configs) {
    Object given = configs.get(SCHEMA_REGISTRY_CLIENT);
    if (given instanceof SchemaRegistryClient client) {
      return client;
    }
    Object url = configs.get(SCHEMA_REGISTRY_URL);
    if (url == null) {
      throw new org.apache.kafka.common.config.ConfigException(SCHEMA_REGISTRY_URL, null,
          "the ledger serde needs '" + SCHEMA_REGISTRY_URL + "' (for example http://localhost:8081)");
    }
    return new RestSchemaRegistryClient(url.toString());
  }

  static boolean bool(Map<String, ?> configs, String key, boolean fallback) {
    Object value = configs.get(key);
    return value == null ? fallback : Boolean.parseBoolean(value.toString());
  }

  /** The subject of a topic's keys or values under Confluent's TopicNameStrategy. */
  public static String subject(String topic, boolean isKey) {
    return topic + (isKey ? "-key" : "-value");
  }
}
