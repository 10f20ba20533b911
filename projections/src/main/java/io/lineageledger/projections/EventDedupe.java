package io.lineageledger.projections;

import io.lineageledger.events.EventEnvelope;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The first step of every projection: checks that an event can be projected and drops any
 * event id already seen, so that a spool shipped twice or a producer's retry is counted once.
 * An event id always comes back under the same subject, hence on the same partition and task,
 * so a per-task store of seen ids is enough. Ids are kept for good: a duplicate may arrive
 * months later, when a spool copied off an offline machine is shipped again.
 *
 * <p>Ids are stored in buckets, not one entry each: a UUIDv7 id (what every ledger producer
 * assigns) goes to the bucket of the {@value #SLOT_MILLIS} ms slot its timestamp falls in, so
 * the ids of one commit share a handful of store entries and changelog records. A bucket holds
 * at most {@value #BUCKET_IDS} ids (keeping its changelog record far below Kafka's size limit);
 * ids beyond that, and ids of any other form, get an entry of their own.
 */
public final class EventDedupe {
  /** Seen event ids, in buckets (see the class comment). */
  public static final String STORE = "event-id-buckets";
  /** The processor node later projections attach to. */
  public static final String NODE = "dedupe";
  static final int SLOT_MILLIS = 10;
  static final int BUCKET_IDS = 4096;
  private static final int MAX_EVENT_ID_CHARS = 200;
  private static final byte SLOT_KEY = 1;
  private static final byte ID_KEY = 2;

  private EventDedupe() {}

  /** Adds the dedupe node (and its store) under {@code parent}. */
  public static void addTo(Topology topology, String parent) {
    topology.addProcessor(NODE, Dedupe::new, parent);
    topology.addStateStore(store(), NODE);
  }

  static StoreBuilder<WriteBehindStore<Bytes, Bucket>> store() {
    // The buckets changed since the last commit are kept in memory and written once at the commit.
    return WriteBehindStore.<Bytes, Bucket>builder(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled(),
        Bucket::encode, key -> key);
  }

  /** Why {@code event}, read under {@code key}, cannot be projected; null when it can. */
  public static String invalidReason(String key, EventEnvelope event) {
    if (event == null) {
      return "the record has no value";
    }
    String id = event.getEventId();
    if (id == null || id.isBlank() || id.length() > MAX_EVENT_ID_CHARS) {
      return "event_id must be 1 to " + MAX_EVENT_ID_CHARS + " characters, got '" + id + "'";
    }
    if (key == null || !key.equals(event.getSubject())) {
      return "event " + id + ": the record key '" + key + "' is not the event's subject '" + event.getSubject() + "'";
    }
    if (event.getPayload() == null) {
      return "event " + id + " has no payload";
    }
    return null;
  }

  /** The millisecond timestamp of a UUIDv7 in its canonical text form, or -1 for any other id. */
  static long uuidV7Millis(String id) {
    if (id.length() != 36 || id.charAt(8) != '-' || id.charAt(13) != '-' || id.charAt(14) != '7' || id.charAt(18) != '-'
        || id.charAt(23) != '-') {
      return -1;
    }
    long ms = 0;
    for (int i = 0; i < 13; i++) {
      if (i == 8) {
        continue;
      }
      int d = Character.digit(id.charAt(i), 16);
      if (d < 0) {
        return -1;
      }
      ms = (ms << 4) | d;
    }
    return ms;
  }

  /** The store key of the bucket of {@code id}, or of its own entry. */
  static Bytes key(String id) {
    long ms = uuidV7Millis(id);
    return ms < 0 ? ownKey(id) : slotKey(ms / SLOT_MILLIS);
  }

  private static Bytes slotKey(long slot) {
    return Bytes.wrap(ByteBuffer.allocate(9).put(SLOT_KEY).putLong(slot).array());
  }

  private static Bytes ownKey(String id) {
    byte[] utf8 = id.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(1 + utf8.length).put(ID_KEY).put(utf8).array());
  }

  /**
   * The ids of one store entry. Only the stream thread touches a bucket (the store is never
   * queried), so it is changed in place between commits.
   * Layout: per id, {@code length:unsigned byte, utf8}.
   */
  static final class Bucket {
    private final Set<String> ids;

    private Bucket(Set<String> ids) {
      this.ids = ids;
    }

    static Bucket decode(byte[] bytes) {
      Set<String> ids = new HashSet<>();
      if (bytes != null) {
        for (int i = 0; i < bytes.length; ) {
          int n = bytes[i] & 0xff;
          ids.add(new String(bytes, i + 1, n, StandardCharsets.UTF_8));
          i += 1 + n;
        }
      }
      return new Bucket(ids);
    }

    byte[] encode() {
      byte[][] utf8 = new byte[ids.size()][];
      int size = 0;
      int k = 0;
      for (String id : ids) {
        utf8[k] = id.getBytes(StandardCharsets.UTF_8);
        size += 1 + utf8[k++].length;
      }
      ByteBuffer b = ByteBuffer.allocate(size);
      for (byte[] u : utf8) {
        b.put((byte) u.length).put(u);
      }
      return b.array();
    }

    boolean contains(String id) {
      return ids.contains(id);
    }

    /** The ids, for reading only. */
    Set<String> ids() {
      return java.util.Collections.unmodifiableSet(ids);
    }

    boolean full() {
      return ids.size() >= BUCKET_IDS;
    }

    void add(String id) {
      ids.add(id);
    }
  }

  /**
   * The same dedupe over one partition's ids held in memory, for {@link BulkRebuild}: what it
   * holds is what the store of that partition's task would hold after the same ids, and
   * {@link #forEachEntry} gives it as that store's changelog records.
   */
  public static final class InMemory {
    private final Map<Bytes, Bucket> buckets = new HashMap<>();
    private final Map<Bucket, Bytes> changed = new IdentityHashMap<>();
    private Bucket lastChanged;
    private long ids;
    private Bytes lastKey;
    private long lastSlot = -1;
    private Bucket lastBucket;

    /** Records {@code id} as seen; false if it was seen before. */
    public boolean firstSeen(String id) {
      long ms = uuidV7Millis(id);
      long slotIndex = ms < 0 ? -1 : ms / SLOT_MILLIS;
      Bucket bucket;
      Bytes key = null;
      if (slotIndex >= 0 && slotIndex == lastSlot) {
        bucket = lastBucket;
      } else {
        key = slotIndex < 0 ? ownKey(id) : slotKey(slotIndex);
        bucket = buckets.get(key);
      }
      if (bucket != null && bucket.contains(id)) {
        return false;
      }
      if (bucket != null && slotIndex >= 0 && bucket.full()) {
        Bytes own = ownKey(id);
        if (buckets.containsKey(own)) {
          return false;
        }
        Bucket single = Bucket.decode(null);
        single.add(id);
        buckets.put(own, single);
        changed.put(single, own);
        ids++;
        return true;
      }
      if (bucket == null) {
        bucket = Bucket.decode(null);
        buckets.put(key, bucket);
      }
      bucket.add(id);
      ids++;
      if (key == null) {
        key = lastKey;
      }
      if (bucket != lastChanged) {
        changed.put(bucket, key);
        lastChanged = bucket;
      }
      if (slotIndex >= 0) {
        lastSlot = slotIndex;
        lastBucket = bucket;
        lastKey = key;
      }
      return true;
    }

    /** A rough count of the heap bytes held: an id costs its string and its set entry. */
    public long approximateBytes() {
      return ids * 120 + buckets.size() * 96L;
    }

    /**
     * Each store entry changed since the last call, as its changelog record: key and value
     * bytes. With {@code exceptCurrent}, the bucket of the latest id's slot, which the next ids
     * will most likely go on filling, stays back for a later call.
     */
    public void drainChanged(BiConsumer<byte[], byte[]> out, boolean exceptCurrent) {
      Bytes currentKey = exceptCurrent && lastChanged != null ? changed.get(lastChanged) : null;
      changed.forEach((bucket, key) -> {
        if (bucket != lastChanged || currentKey == null) {
          out.accept(key.get(), bucket.encode());
        }
      });
      changed.clear();
      if (currentKey != null) {
        changed.put(lastChanged, currentKey);
      } else {
        lastChanged = null;
      }
    }
  }

  private static final class Dedupe implements Processor<String, EventEnvelope, String, EventEnvelope> {
    private ProcessorContext<String, EventEnvelope> context;
    private WriteBehindStore<Bytes, Bucket> seen;
    private long lastSlot = -1;
    private WriteBehindStore.Slot<Bucket> lastBucket;

    @Override
    public void init(ProcessorContext<String, EventEnvelope> context) {
      this.context = context;
      this.seen = WriteBehindStore.of(context.getStateStore(STORE));
      this.lastSlot = -1;
      this.lastBucket = null;
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String reason = invalidReason(record.key(), record.value());
      if (reason != null) {
        throw new InvalidEventException(reason);
      }
      if (firstSeen(record.value().getEventId())) {
        context.forward(record);
      }
    }

    /** Records {@code id} as seen; false if it was seen before. */
    private boolean firstSeen(String id) {
      long ms = uuidV7Millis(id);
      long slotIndex = ms < 0 ? -1 : ms / SLOT_MILLIS;
      if (slotIndex >= 0 && slotIndex == lastSlot && seen.holds(lastBucket)) {
        // The usual case: the same 10 ms as the event before, its bucket at hand.
        Bucket bucket = lastBucket.value();
        if (bucket.contains(id)) {
          return false;
        }
        if (!bucket.full()) {
          bucket.add(id);
          return true;
        }
      }
      Bytes key = slotIndex < 0 ? ownKey(id) : slotKey(slotIndex);
      WriteBehindStore.Slot<Bucket> slot = seen.slot(key);
      Bucket bucket = slot != null ? slot.value() : Bucket.decode(seen.stored(key));
      if (bucket.contains(id)) {
        return false;
      }
      if (slotIndex >= 0 && bucket.full()) {
        // An overflowing slot: the id is kept on its own, like an id that is not a UUIDv7.
        Bytes own = ownKey(id);
        if (seen.deferred(own) != null || seen.stored(own) != null) {
          return false;
        }
        Bucket single = Bucket.decode(null);
        single.add(id);
        seen.defer(own, single);
        return true;
      }
      bucket.add(id); // a deferred bucket is changed in place
      if (slot == null) {
        slot = seen.defer(key, bucket);
      }
      if (slotIndex >= 0) {
        lastSlot = slotIndex;
        lastBucket = slot;
      }
      return true;
    }
  }
}
