package io.lineageledger.schemas.serde;

import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;

/**
 * Reads Confluent wire-format records into Avro specific records. The writer schema comes from
 * the registry by the id in the header (cached); Avro's schema resolution maps it onto the
 * reader class's schema, so data written with an older, BACKWARD-compatible schema still reads.
 *
 * <p>Fails with {@link WireFormat.UnknownMagicByteException} for a record not in the wire format
 * and {@link WireFormat.UnknownSchemaIdException} for an id the registry does not know. Thread-safe.
 */
public final class LedgerAvroDeserializer<T extends SpecificRecord> implements Deserializer<T> {
  private SchemaRegistryClient registry;
  private Class<T> type;
  private final Map<Integer, SpecificDatumReader<T>> readers = new ConcurrentHashMap<>();
  private final ThreadLocal<BinaryDecoder> decoders = new ThreadLocal<>();

  /** For Kafka's reflective construction; {@link #configure} must follow. */
  public LedgerAvroDeserializer() {}

  public LedgerAvroDeserializer(SchemaRegistryClient registry, Class<T> type) {
    this.registry = registry;
    this.type = type;
  }

  @Override
  @SuppressWarnings("unchecked")
  public void configure(Map<String, ?> configs, boolean isKey) {
    if (registry == null || configs.containsKey(SerdeConfig.SCHEMA_REGISTRY_CLIENT)) {
      registry = SerdeConfig.client(configs);
    }
    Object typeName = configs.get(isKey ? SerdeConfig.SPECIFIC_KEY_TYPE : SerdeConfig.SPECIFIC_VALUE_TYPE);
    if (typeName instanceof Class<?> c) {
      type = (Class<T>) c;
    } else if (typeName != null) {
      try {
        type = (Class<T>) Class.forName(typeName.toString());
      } catch (ClassNotFoundException e) {
        throw new org.apache.kafka.common.config.ConfigException("no class '" + typeName + "' for the Avro reader type");
      }
    }
  }

  @Override
  public T deserialize(String topic, byte[] data) {
    if (data == null) {
      return null;
    }
    if (registry == null) {
      throw new SerializationException("LedgerAvroDeserializer is not configured: set '" + SerdeConfig.SCHEMA_REGISTRY_URL + "'");
    }
    int id = WireFormat.schemaId(data, topic);
    SpecificDatumReader<T> reader = readers.computeIfAbsent(id, i -> newReader(i, topic));
    BinaryDecoder decoder = DecoderFactory.get().binaryDecoder(data, WireFormat.HEADER_SIZE,
        data.length - WireFormat.HEADER_SIZE, decoders.get());
    decoders.set(decoder);
    try {
      return reader.read(null, decoder);
    } catch (IOException | AvroRuntimeException | IndexOutOfBoundsException | ClassCastException e) {
      throw new SerializationException("Could not decode the Avro data (schema id " + id + ") of a record from topic '"
          + topic + "': " + e, e);
    }
  }

  @SuppressWarnings("unchecked")
  private SpecificDatumReader<T> newReader(int id, String topic) {
    Schema writer;
    try {
      writer = registry.schemaById(id);
    } catch (SchemaRegistryException e) {
      if (e.errorCode() == SchemaRegistryException.SCHEMA_NOT_FOUND) {
        throw new WireFormat.UnknownSchemaIdException(id, topic, e);
      }
      throw new SerializationException("Could not fetch schema id " + id + " for a record from topic '" + topic + "': " + e.getMessage(), e);
    }
    Schema reader = writer;
    if (type != null) {
      reader = SpecificData.get().getSchema(type);
    } else if (SpecificData.get().getClass(writer) == null) {
      throw new SerializationException("No generated class for " + writer.getFullName() + " (schema id " + id
          + ") on the classpath; set '" + SerdeConfig.SPECIFIC_VALUE_TYPE + "'");
    }
    return new SpecificDatumReader<>(writer, reader);
  }
}
