package io.lineageledger.schemas.serde;

import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.io.OutputStream;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import io.lineageledger.events.EventEnvelope;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serializer;

/**
 * Writes Avro specific records in Confluent's wire format. The subject is
 * {@code <topic>-value} (or {@code -key}), Confluent's TopicNameStrategy; the schema is registered
 * on first use (or only looked up when {@code auto.register.schemas=false}) and its id cached, so
 * the steady state does no I/O and allocates only the output array.
 *
 * <p>Thread-safe: a Kafka producer may call it from any thread.
 */
public final class LedgerAvroSerializer<T extends SpecificRecord> implements Serializer<T> {
  private SchemaRegistryClient registry;
  private boolean autoRegister = true;
  private boolean isKey;
  private final Map<Schema, SpecificDatumWriter<T>> writers = new ConcurrentHashMap<>();
  private final Map<String, Map<Schema, Integer>> ids = new ConcurrentHashMap<>();
  private final ThreadLocal<Buffer> buffers = ThreadLocal.withInitial(Buffer::new);

  /** For Kafka's reflective construction; {@link #configure} must follow. */
  public LedgerAvroSerializer() {}

  public LedgerAvroSerializer(SchemaRegistryClient registry) {
    this.registry = registry;
  }

  @Override
  public void configure(Map<String, ?> configs, boolean isKey) {
    this.isKey = isKey;
    if (registry == null || configs.containsKey(SerdeConfig.SCHEMA_REGISTRY_CLIENT)) {
      registry = SerdeConfig.client(configs);
    }
    autoRegister = SerdeConfig.bool(configs, SerdeConfig.AUTO_REGISTER_SCHEMAS, true);
  }

  @Override
  public byte[] serialize(String topic, T data) {
    if (data == null) {
      return null;
    }
    if (registry == null) {
      throw new SerializationException("LedgerAvroSerializer is not configured: set '" + SerdeConfig.SCHEMA_REGISTRY_URL + "'");
    }
    Schema schema = data.getSchema();
    int id = schemaId(topic, schema);
    Buffer buffer = buffers.get();
    buffer.reset();
    try {
      buffer.header(id);
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(buffer, buffer.encoder);
      buffer.encoder = encoder;
      if (data instanceof EventEnvelope envelope && schema == EventEnvelope.getClassSchema()) {
        writeEnvelope(envelope, encoder);
      } else {
        writers.computeIfAbsent(schema, LedgerAvroSerializer::writer).write(data, encoder);
      }
      encoder.flush();
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("Could not encode a " + schema.getFullName() + " for topic '" + topic + "': " + e.getMessage(), e);
    }
    return buffer.toByteArray();
  }

  /**
   * The envelope, field by field as its schema orders them, and the payload through its own
   * writer: the generated envelope class cannot have a custom encoder (its timestamp has a
   * logical type), and this is the hottest path of every producer. The golden fixtures pin
   * that the bytes equal Avro's own encoding.
   */
  @SuppressWarnings("unchecked")
  private void writeEnvelope(EventEnvelope e, BinaryEncoder out) throws IOException {
    out.writeString(e.getEventId());
    java.time.Instant t = e.getOccurredAt();
    out.writeLong(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000L));
    out.writeString(e.getSubject());
    e.getProducer().customEncode(out);
    Object payload = e.getPayload();
    Schema payloadSchema = ((org.apache.avro.generic.IndexedRecord) payload).getSchema();
    Integer branch = PAYLOAD_UNION.getIndexNamed(payloadSchema.getFullName());
    if (branch == null) {
      throw new IllegalArgumentException("payload " + payloadSchema.getFullName() + " is not a branch of the envelope's payload union");
    }
    out.writeIndex(branch);
    ((SpecificDatumWriter<Object>) (SpecificDatumWriter<?>) writers.computeIfAbsent(payloadSchema, LedgerAvroSerializer::writer))
        .write(payload, out);
  }

  private static final Schema PAYLOAD_UNION = EventEnvelope.getClassSchema().getField("payload").schema();

  /**
   * A writer whose model uses the generated classes' own encoders ({@code customEncode}) for
   * every record that has them: the same bytes (the golden fixtures pin them) at a fraction of
   * the reflective path's cost. Records with logical types (the envelope's timestamp) keep the
   * generic path with the class's conversions.
   */
  private static <T> SpecificDatumWriter<T> writer(Schema schema) {
    SpecificData model = new SpecificData();
    SpecificData.getForSchema(schema).getConversions().forEach(model::addLogicalTypeConversion);
    model.setCustomCoders(true);
    return new SpecificDatumWriter<>(schema, model);
  }

  private int schemaId(String topic, Schema schema) {
    String subject = SerdeConfig.subject(topic, isKey);
    Map<Schema, Integer> bySchema = ids.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
    Integer id = bySchema.get(schema);
    if (id != null) {
      return id;
    }
    try {
      id = autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema).id();
    } catch (SchemaRegistryException e) {
      throw new SerializationException("Could not " + (autoRegister ? "register" : "look up") + " schema "
          + schema.getFullName() + " under subject '" + subject + "': " + e.getMessage(), e);
    }
    bySchema.put(schema, id);
    return id;
  }

  /** An unsynchronized, reusable output buffer; one per producing thread. */
  private static final class Buffer extends OutputStream {
    private byte[] bytes = new byte[1024];
    private int size;
    BinaryEncoder encoder;

    void reset() {
      size = 0;
    }

    void header(int id) {
      ensure(WireFormat.HEADER_SIZE);
      WireFormat.writeHeader(id, bytes);
      size = WireFormat.HEADER_SIZE;
    }

    @Override
    public void write(int b) {
      ensure(1);
      bytes[size++] = (byte) b;
    }

    @Override
    public void write(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }

    private void ensure(int more) {
      if (size + more > bytes.length) {
        bytes = Arrays.copyOf(bytes, Math.max(bytes.length * 2, size + more));
      }
    }

    byte[] toByteArray() {
      return Arrays.copyOf(bytes, size);
    }
  }
}
