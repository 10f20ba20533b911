package io.lineageledger.producers;

import io.lineageledger.events.EventEnvelope;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.apache.avro.Schema;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;

/**
 * A durable, append-only spool of events for when the broker cannot be reached.
 *
 * <p>Layout of the directory: {@code spool.id} (a UUID naming the spool, the key of its shipping
 * progress in Kafka) and segment files {@code <first seq, 20 digits>.spool}. A segment starts with
 * the magic {@code LLSPOOL1} and the writer schema of {@link EventEnvelope} (so a newer ledger
 * reads a spool written by an older client), then records
 * {@code [int length][int crc32c][long seq][Avro binary envelope]}. {@link #append} writes a batch
 * and fsyncs it before returning: an appended event survives a crash of the process or machine.
 * A torn record at the end of the last segment (a crash during a write) is cut off on open;
 * anything else that does not check out is an error naming the file and offset.
 *
 * <p>Size-bounded: an append that would take the spool past its limit fails with
 * {@link SpoolFullException} and writes nothing. Thread-safe (methods are synchronized).
 */
public final class Spool implements AutoCloseable {
  static final byte[] MAGIC = "LLSPOOL1".getBytes(StandardCharsets.US_ASCII);
  static final long SEGMENT_BYTES = 16L * 1024 * 1024;
  private static final int RECORD_HEADER = 4 + 4 + 8;
  private static final int MAX_RECORD = 16 * 1024 * 1024;
  private static final String ID_FILE = "spool.id";
  private static final int HEADER_BYTES = MAGIC.length + 4 + EventEnvelope.SCHEMA$.toString().getBytes(StandardCharsets.UTF_8).length;
  private static final String SUFFIX = ".spool";

  private final Path dir;
  private final long maxBytes;
  private final String id;
  private final List<Segment> segments = new ArrayList<>();
  private final SpecificDatumWriter<EventEnvelope> writer = new SpecificDatumWriter<>(EventEnvelope.class);
  private FileChannel active;
  private long nextSeq;
  private long bytes;

  private Spool(Path dir, long maxBytes) throws IOException {
    this.dir = dir;
    this.maxBytes = maxBytes;
    Files.createDirectories(dir);
    this.id = readOrCreateId(dir);
    List<Path> files;
    try (Stream<Path> list = Files.list(dir)) {
      files = list.filter(p -> p.getFileName().toString().endsWith(SUFFIX)).sorted().toList();
    }
    for (int i = 0; i < files.size(); i++) {
      Segment segment = scan(files.get(i), i == files.size() - 1);
      segments.add(segment);
      bytes += segment.size;
      if (segment.lastSeq >= 0) {
        nextSeq = segment.lastSeq + 1;
      } else {
        nextSeq = Math.max(nextSeq, segment.firstSeq);
      }
    }
  }

  /** Opens (creating if needed) the spool in {@code dir}, holding at most {@code maxBytes}. */
  public static Spool open(Path dir, long maxBytes) {
    try {
      return new Spool(dir, maxBytes);
    } catch (IOException e) {
      throw new UncheckedIOException("could not open the spool in " + dir + ": " + e.getMessage(), e);
    }
  }

  /** The spool's identity, stable for its lifetime and across copies of the directory. */
  public String id() {
    return id;
  }

  public Path dir() {
    return dir;
  }

  /** Bytes the spool holds on disk. */
  public synchronized long bytes() {
    return bytes;
  }

  /** Sequence number of the last appended event, or -1 when none ever was. */
  public synchronized long lastSeq() {
    return nextSeq - 1;
  }

  /** Number of events held (appended and not yet deleted). */
  public synchronized long size() {
    return segments.stream().mapToLong(s -> s.count).sum();
  }

  /**
   * Appends {@code events} in order and fsyncs them.
   *
   * @return the sequence number of each event, in order
   * @throws SpoolFullException when they do not fit; nothing is written then
   */
  public synchronized long[] append(List<EventEnvelope> events) {
    List<byte[]> encoded = new ArrayList<>(events.size());
    long needed = 0;
    for (EventEnvelope e : events) {
      byte[] data = encode(e);
      encoded.add(data);
      needed += RECORD_HEADER + data.length;
    }
    Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
    if (last == null || last.size >= SEGMENT_BYTES) {
      needed += HEADER_BYTES; // a new segment starts with the writer schema
    }
    if (bytes + needed > maxBytes) {
      throw new SpoolFullException(dir, bytes, maxBytes, events.size());
    }
    long[] seqs = new long[events.size()];
    try {
      for (int i = 0; i < encoded.size(); i++) {
        Segment segment = activeSegment();
        byte[] data = encoded.get(i);
        ByteBuffer record = ByteBuffer.allocate(RECORD_HEADER + data.length);
        record.putInt(data.length).putInt(0).putLong(nextSeq).put(data).flip();
        record.putInt(4, crc(record, data.length));
        while (record.hasRemaining()) {
          active.write(record);
        }
        segment.size += RECORD_HEADER + data.length;
        segment.count++;
        segment.lastSeq = nextSeq;
        bytes += RECORD_HEADER + data.length;
        seqs[i] = nextSeq++;
      }
      if (active != null) {
        active.force(false);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not write to the spool in " + dir + ": " + e.getMessage(), e);
    }
    return seqs;
  }

  /** One spooled event with its sequence number. */
  public record Entry(long seq, EventEnvelope event) {}

  /**
   * Reads every event with a sequence number above {@code afterSeq}, in order, passing each to
   * {@code sink}.
   */
  public void read(long afterSeq, Consumer<Entry> sink) {
    List<Segment> snapshot;
    synchronized (this) {
      snapshot = List.copyOf(segments);
    }
    for (Segment segment : snapshot) {
      if (segment.lastSeq >= 0 && segment.lastSeq <= afterSeq) {
        continue;
      }
      try (FileChannel ch = FileChannel.open(segment.path, StandardOpenOption.READ)) {
        Schema writerSchema = readHeader(ch, segment.path);
        SpecificDatumReader<EventEnvelope> reader = new SpecificDatumReader<>(writerSchema, EventEnvelope.SCHEMA$);
        long limit;
        synchronized (this) {
          limit = segment.size; // only what is fully written and fsynced
        }
        while (ch.position() < limit) {
          long at = ch.position();
          ByteBuffer head = readFully(ch, RECORD_HEADER);
          int length = head.getInt();
          head.getInt();
          long seq = head.getLong();
          ByteBuffer data = readFully(ch, length);
          if (seq > afterSeq) {
            EventEnvelope event;
            try {
              event = reader.read(null, DecoderFactory.get().binaryDecoder(data.array(), null));
            } catch (IOException | RuntimeException e) {
              throw new SpoolReadException(segment.path, at, "event seq " + seq + " does not decode: " + e.getMessage());
            }
            sink.accept(new Entry(seq, event));
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("could not read spool segment " + segment.path + ": " + e.getMessage(), e);
      }
    }
  }

  /** Deletes the segments every event of which has a sequence number at or below {@code seq}. */
  public synchronized void deleteThrough(long seq) {
    var it = segments.iterator();
    while (it.hasNext()) {
      Segment s = it.next();
      boolean isActive = active != null && s == segments.get(segments.size() - 1);
      if (s.lastSeq >= 0 && s.lastSeq <= seq && !isActive) {
        try {
          Files.deleteIfExists(s.path);
        } catch (IOException e) {
          throw new UncheckedIOException("could not delete shipped spool segment " + s.path, e);
        }
        bytes -= s.size;
        it.remove();
      }
    }
    if (active != null && !segments.isEmpty()) {
      Segment last = segments.get(segments.size() - 1);
      if (last.lastSeq >= 0 && last.lastSeq <= seq) {
        // Everything in the active segment is shipped too: start a fresh one on the next append.
        closeActive();
        try {
          Files.deleteIfExists(last.path);
        } catch (IOException e) {
          throw new UncheckedIOException("could not delete shipped spool segment " + last.path, e);
        }
        bytes -= last.size;
        segments.remove(segments.size() - 1);
      }
    }
  }

  private Segment activeSegment() throws IOException {
    Segment last = segments.isEmpty() ? null : segments.get(segments.size() - 1);
    if (active != null && last != null && last.size < SEGMENT_BYTES) {
      return last;
    }
    closeActive();
    if (last != null && last.size < SEGMENT_BYTES) {
      // Reopen the last segment left by an earlier process and keep appending to it.
      active = FileChannel.open(last.path, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
      return last;
    }
    Path path = dir.resolve(String.format("%020d%s", nextSeq, SUFFIX));
    FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    byte[] schema = EventEnvelope.SCHEMA$.toString().getBytes(StandardCharsets.UTF_8);
    ByteBuffer header = ByteBuffer.allocate(MAGIC.length + 4 + schema.length).put(MAGIC).putInt(schema.length).put(schema).flip();
    while (header.hasRemaining()) {
      ch.write(header);
    }
    ch.force(true);
    fsyncDir(dir);
    Segment segment = new Segment(path, nextSeq);
    segment.size = ch.position();
    bytes += segment.size;
    segments.add(segment);
    active = ch;
    return segment;
  }

  private Segment scan(Path path, boolean last) throws IOException {
    long firstSeq = Long.parseLong(path.getFileName().toString().replace(SUFFIX, ""));
    Segment segment = new Segment(path, firstSeq);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      long fileSize = ch.size();
      try {
        readHeader(ch, path);
      } catch (SpoolReadException e) {
        if (last && fileSize < MAGIC.length + 4 + 64) {
          // Crashed while writing the header of a new segment: nothing was ever in it.
          ch.truncate(0);
          Files.delete(path);
          segment.size = 0;
          return segment;
        }
        throw e;
      }
      long good = ch.position();
      while (good < fileSize) {
        ch.position(good);
        if (fileSize - good < RECORD_HEADER) {
          break;
        }
        ByteBuffer head = readFully(ch, RECORD_HEADER);
        int length = head.getInt();
        int crc = head.getInt();
        long seq = head.getLong();
        if (length < 0 || length > MAX_RECORD || fileSize - ch.position() < length) {
          break;
        }
        ByteBuffer data = readFully(ch, length);
        ByteBuffer whole = ByteBuffer.allocate(RECORD_HEADER + length).putInt(length).putInt(0).putLong(seq).put(data.array()).flip();
        if (crc(whole, length) != crc) {
          break;
        }
        segment.count++;
        segment.lastSeq = seq;
        good = ch.position();
      }
      if (good < fileSize) {
        if (!last) {
          throw new SpoolReadException(path, good, "corrupt record in a segment that is not the last one");
        }
        ch.truncate(good); // a torn write at the tail: the event was never acknowledged
        ch.force(true);
      }
      segment.size = good;
    }
    return segment;
  }

  private static Schema readHeader(FileChannel ch, Path path) throws IOException {
    if (ch.size() < MAGIC.length + 4) {
      throw new SpoolReadException(path, 0, "file too short for a spool header");
    }
    ByteBuffer magic = readFully(ch, MAGIC.length + 4);
    byte[] m = new byte[MAGIC.length];
    magic.get(m);
    if (!java.util.Arrays.equals(m, MAGIC)) {
      throw new SpoolReadException(path, 0, "not a ledger spool segment (magic " + new String(m, StandardCharsets.US_ASCII) + ")");
    }
    int schemaLength = magic.getInt();
    if (schemaLength <= 0 || schemaLength > MAX_RECORD || ch.size() - ch.position() < schemaLength) {
      throw new SpoolReadException(path, MAGIC.length, "bad schema length " + schemaLength);
    }
    String schema = new String(readFully(ch, schemaLength).array(), StandardCharsets.UTF_8);
    try {
      return new Schema.Parser().parse(schema);
    } catch (RuntimeException e) {
      throw new SpoolReadException(path, MAGIC.length + 4, "unreadable writer schema: " + e.getMessage());
    }
  }

  private static ByteBuffer readFully(FileChannel ch, int n) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(n);
    while (b.hasRemaining()) {
      if (ch.read(b) < 0) {
        throw new java.io.EOFException("unexpected end of spool segment");
      }
    }
    return b.flip();
  }

  private static int crc(ByteBuffer record, int dataLength) {
    CRC32C crc = new CRC32C();
    crc.update(record.array(), 8, 8 + dataLength);
    return (int) crc.getValue();
  }

  private byte[] encode(EventEnvelope e) {
    try {
      ByteArrayOutputStream out = new ByteArrayOutputStream(256);
      BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
      writer.write(e, encoder);
      encoder.flush();
      return out.toByteArray();
    } catch (IOException | RuntimeException ex) {
      throw new IllegalArgumentException("event " + e.getEventId() + " cannot be encoded for the spool: " + ex.getMessage(), ex);
    }
  }

  private static String readOrCreateId(Path dir) throws IOException {
    Path file = dir.resolve(ID_FILE);
    if (Files.exists(file)) {
      String id = Files.readString(file, StandardCharsets.US_ASCII).trim();
      UUID.fromString(id);
      return id;
    }
    String id = UUID.randomUUID().toString();
    Path tmp = dir.resolve(ID_FILE + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(ByteBuffer.wrap((id + "\n").getBytes(StandardCharsets.US_ASCII)));
      ch.force(true);
    }
    try {
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
    }
    fsyncDir(dir);
    return id;
  }

  private static void fsyncDir(Path dir) {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some file systems do not allow syncing a directory; the file itself is synced.
    }
  }

  private void closeActive() {
    if (active != null) {
      try {
        active.close();
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      active = null;
    }
  }

  @Override
  public synchronized void close() {
    closeActive();
  }

  private static final class Segment {
    final Path path;
    final long firstSeq;
    long size;
    long count;
    long lastSeq = -1;

    Segment(Path path, long firstSeq) {
      this.path = path;
      this.firstSeq = firstSeq;
    }
  }

  /** A spool segment that does not read back as the spool format says it should. */
  public static final class SpoolReadException extends RuntimeException {
    SpoolReadException(Path file, long offset, String message) {
      super("spool segment " + file + " at byte " + offset + ": " + message);
    }
  }
}
