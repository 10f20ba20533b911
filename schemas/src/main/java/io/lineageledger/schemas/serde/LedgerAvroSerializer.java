package io.lineageledger.schemas.serde;

import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.registry.SchemaRegistryException;
import java.io.IOException;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import io.lineageledger.events.EventEnvelope;
import org.apache.avro.specific.SpecificData;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;
import org.apache.avro.specific.SpecificRecordBase;
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
      if (data instanceof EventEnvelope envelope && schema == EventEnvelope.getClassSchema()) {
        writeEnvelope(envelope, buffer);
      } else {
        writers.computeIfAbsent(schema, LedgerAvroSerializer::writer).write(data, buffer);
      }
    } catch (IOException | RuntimeException e) {
      throw new SerializationException("Could not encode a " + schema.getFullName() + " for topic '" + topic + "': " + e.getMessage(), e);
    }
    return buffer.toByteArray();
  }

  /**
   * The envelope, field by field as its schema orders them, and the payload through its own
   * writer: the generated envelope class cannot have a custom encoder (its timestamp has a
   * logical type), and this is the hottest path of every producer. The envelope's fields go
   * straight into the buffer, the producer's four constant strings as bytes encoded once per
   * producer. The golden fixtures pin that the bytes equal Avro's own encoding.
   */
  @SuppressWarnings("unchecked")
  private void writeEnvelope(EventEnvelope e, Buffer out) throws IOException {
    out.writeString(e.getEventId());
    java.time.Instant t = e.getOccurredAt();
    out.writeLong(Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000L), t.getNano() / 1_000L));
    out.writeString(e.getSubject());
    io.lineageledger.events.ProducerInfo producer = e.getProducer();
    out.writeProducer(producer);
    out.writeLong(producer.getSeq());
    Object payload = e.getPayload();
    Schema payloadSchema = ((org.apache.avro.generic.IndexedRecord) payload).getSchema();
    Branch branch = out.branch;
    if (branch == null || branch.schema != payloadSchema) {
      Integer index = PAYLOAD_UNION.getIndexNamed(payloadSchema.getFullName());
      if (index == null) {
        throw new IllegalArgumentException("payload " + payloadSchema.getFullName() + " is not a branch of the envelope's payload union");
      }
      SpecificDatumWriter<Object> writer =
          (SpecificDatumWriter<Object>) (SpecificDatumWriter<?>) writers.computeIfAbsent(payloadSchema, LedgerAvroSerializer::writer);
      branch = new Branch(payloadSchema, index, writer, writer.getSpecificData().useCustomCoders() && hasCustomCoders(payload));
      out.branch = branch;
    }
    out.writeLong(branch.index);
    if (branch.customCoders) {
      ((SpecificRecordBase) payload).customEncode(out); // what the writer would call, without its dispatch per event
    } else {
      branch.writer.write(payload, out);
    }
  }

  /**
   * A payload type's branch of the envelope's union, its writer, and whether its generated class
   * encodes itself; each thread keeps the last one it wrote.
   */
  private record Branch(Schema schema, int index, SpecificDatumWriter<Object> writer, boolean customCoders) {}

  private static final java.lang.reflect.Method HAS_CUSTOM_CODERS;

  static {
    try {
      HAS_CUSTOM_CODERS = SpecificRecordBase.class.getDeclaredMethod("hasCustomCoders");
      HAS_CUSTOM_CODERS.setAccessible(true);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  /** Whether {@code payload}'s generated class encodes itself (the writer also asks its model whether custom coders are on). */
  private static boolean hasCustomCoders(Object payload) {
    if (!(payload instanceof SpecificRecordBase record)) {
      return false;
    }
    try {
      return (Boolean) HAS_CUSTOM_CODERS.invoke(record);
    } catch (ReflectiveOperationException e) {
      return false; // the writer's own path then decides
    }
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
    LastId last = lastId;
    if (last != null && last.topic == topic && last.schema == schema) {
      return last.id; // the steady state of a producer: one topic, one schema
    }
    String subject = SerdeConfig.subject(topic, isKey);
    Map<Schema, Integer> bySchema = ids.computeIfAbsent(subject, s -> new ConcurrentHashMap<>());
    Integer id = bySchema.get(schema);
    if (id == null) {
      try {
        id = autoRegister ? registry.register(subject, schema) : registry.lookup(subject, schema).id();
      } catch (SchemaRegistryException e) {
        throw new SerializationException("Could not " + (autoRegister ? "register" : "look up") + " schema "
            + schema.getFullName() + " under subject '" + subject + "': " + e.getMessage(), e);
      }
      bySchema.put(schema, id);
    }
    lastId = new LastId(topic, schema, id);
    return id;
  }

  /** The id last used, compared by identity: a hit costs two reference comparisons instead of a string concatenation and two map lookups. */
  private record LastId(String topic, Schema schema, int id) {}

  private volatile LastId lastId;

  /**
   * An unsynchronized, reusable output buffer that is its own Avro binary encoder: values go
   * straight into one array (no second buffer to flush, ASCII strings without an intermediate
   * byte array). One per producing thread.
   */
  private static final class Buffer extends BinaryEncoder {
    private static final VarHandle LONG_LE = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final VarHandle INT_LE = MethodHandles.byteArrayViewVarHandle(int[].class, ByteOrder.LITTLE_ENDIAN);
    private byte[] bytes = new byte[1024];
    private int size;
    Branch branch;
    // The encoding of the producer's id, name, version and host, for the strings it was made from (compared by identity).
    private String producerId;
    private String producerName;
    private String producerVersion;
    private String producerHost;
    private byte[] producerBytes;

    void reset() {
      size = 0;
    }

    void header(int id) {
      ensure(WireFormat.HEADER_SIZE);
      WireFormat.writeHeader(id, bytes);
      size = WireFormat.HEADER_SIZE;
    }

    /** A long as Avro writes it: zig-zag, then 7 bits a byte. */
    @Override
    public void writeLong(long n) {
      long v = (n << 1) ^ (n >> 63);
      if ((v & ~0x7FL) == 0 && size < bytes.length) { // lengths, counts, indexes: most are one byte
        bytes[size++] = (byte) v;
        return;
      }
      ensure(10);
      while ((v & ~0x7FL) != 0) {
        bytes[size++] = (byte) ((v & 0x7F) | 0x80);
        v >>>= 7;
      }
      bytes[size++] = (byte) v;
    }

    /** An int is written as the long of the same value: zig-zag of an int and of its long are the same number. */
    @Override
    public void writeInt(int n) {
      writeLong(n);
    }

    @Override
    public void writeBoolean(boolean b) {
      ensure(1);
      bytes[size++] = (byte) (b ? 1 : 0);
    }

    @Override
    public void writeFloat(float f) {
      ensure(4);
      INT_LE.set(bytes, size, Float.floatToRawIntBits(f));
      size += 4;
    }

    @Override
    public void writeDouble(double d) {
      ensure(8);
      LONG_LE.set(bytes, size, Double.doubleToRawLongBits(d));
      size += 8;
    }

    @Override
    public void writeFixed(byte[] b, int off, int len) {
      ensure(len);
      System.arraycopy(b, off, bytes, size, len);
      size += len;
    }

    @Override
    protected void writeZero() {
      ensure(1);
      bytes[size++] = 0;
    }

    @Override
    public int bytesBuffered() {
      return 0; // nothing is held back: every value is in the array as soon as it is written
    }

    @Override
    public void flush() {}

    /** A string as Avro writes it: its UTF-8 length, then its UTF-8 bytes. */
    @Override
    public void writeString(String s) {
      int n = s.length();
      ensure(n + 5);
      int start = size;
      writeLong(n);
      int at = size;
      for (int i = 0; i < n; i++) {
        char c = s.charAt(i);
        if (c >= 0x80) {
          size = start; // not ASCII: let the JDK encode it
          byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
          writeLong(utf8.length);
          writeFixed(utf8, 0, utf8.length);
          return;
        }
        bytes[at + i] = (byte) c;
      }
      size = at + n;
    }

    @Override
    public void writeString(CharSequence s) throws IOException {
      if (s instanceof String str) {
        writeString(str);
      } else if (s instanceof org.apache.avro.util.Utf8 utf8) {
        writeString(utf8);
      } else {
        writeString(s.toString());
      }
    }

    /** The producer's four strings, encoded once for as long as a producer keeps them. */
    void writeProducer(io.lineageledger.events.ProducerInfo p) {
      if (producerBytes == null || p.getId() != producerId || p.getName() != producerName
          || p.getVersion() != producerVersion || p.getHost() != producerHost) {
        int start = size;
        writeString(p.getId());
        writeString(p.getName());
        writeString(p.getVersion());
        writeString(p.getHost());
        producerBytes = Arrays.copyOfRange(bytes, start, size);
        producerId = p.getId();
        producerName = p.getName();
        producerVersion = p.getVersion();
        producerHost = p.getHost();
        return;
      }
      writeFixed(producerBytes, 0, producerBytes.length);
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
