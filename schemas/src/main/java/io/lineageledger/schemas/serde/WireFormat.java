package io.lineageledger.schemas.serde;

import org.apache.kafka.common.errors.SerializationException;

/**
 * Confluent's wire format: one magic byte {@code 0}, the schema id as a 4-byte big-endian
 * integer, then the Avro binary encoding of the datum. Any Confluent client can read what the
 * ledger writes and the reverse.
 */
public final class WireFormat {
  public static final byte MAGIC_BYTE = 0x0;
  public static final int HEADER_SIZE = 5;

  private WireFormat() {}

  /**
   * Reads the schema id from a record's header.
   *
   * @throws UnknownMagicByteException when the first byte is not {@code 0}
   * @throws SerializationException when the record is too short to carry a header
   */
  public static int schemaId(byte[] data, String topic) {
    if (data.length < HEADER_SIZE) {
      if (data.length > 0 && data[0] != MAGIC_BYTE) {
        throw new UnknownMagicByteException(data[0], topic);
      }
      throw new SerializationException("Record of " + data.length + " bytes from topic '" + topic
          + "' is too short for the Confluent wire format (magic byte 0x00, 4-byte schema id, Avro data)");
    }
    if (data[0] != MAGIC_BYTE) {
      throw new UnknownMagicByteException(data[0], topic);
    }
    return ((data[1] & 0xff) << 24) | ((data[2] & 0xff) << 16) | ((data[3] & 0xff) << 8) | (data[4] & 0xff);
  }

  /** Writes the header for {@code schemaId} into the first five bytes of {@code into}. */
  public static void writeHeader(int schemaId, byte[] into) {
    into[0] = MAGIC_BYTE;
    into[1] = (byte) (schemaId >>> 24);
    into[2] = (byte) (schemaId >>> 16);
    into[3] = (byte) (schemaId >>> 8);
    into[4] = (byte) schemaId;
  }

  /** A record whose first byte is not the wire format's magic byte. */
  public static final class UnknownMagicByteException extends SerializationException {
    private final byte magic;

    UnknownMagicByteException(byte magic, String topic) {
      super(String.format("Unknown magic byte 0x%02x in a record from topic '%s': expected 0x00, the Confluent wire format"
          + " (magic byte, 4-byte schema id, Avro binary). Was it written without the ledger's or Confluent's Avro serializer?",
          magic & 0xff, topic));
      this.magic = magic;
    }

    public byte magic() {
      return magic;
    }
  }

  /** A record whose schema id the schema registry does not know. */
  public static final class UnknownSchemaIdException extends SerializationException {
    private final int schemaId;

    UnknownSchemaIdException(int schemaId, String topic, Throwable cause) {
      super("Unknown schema id " + schemaId + " in a record from topic '" + topic
          + "': the schema registry has no schema with that id (error 40403). Is the consumer pointed at the registry the producer used?", cause);
      this.schemaId = schemaId;
    }

    public int schemaId() {
      return schemaId;
    }
  }
}
