package io.lineageledger.projections;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;
import java.util.function.Predicate;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * A key-value store whose processor keeps the values it writes as objects ({@link #defer}) and
 * has them encoded and written to the store underneath once per commit, not once per event: a
 * run that gets a thousand step summaries between two commits costs one encoded state, one
 * RocksDB write and one changelog record, not a thousand of each.
 *
 * <p>Exactly-once holds because the deferred values are written in {@link #flushCache}, which
 * Kafka Streams calls on every store of a task when the task prepares a commit, before it
 * flushes the task's producer and commits the transaction; a value deferred after that belongs
 * to the next transaction. When a task is closed dirty (its transaction aborted), the deferred
 * values are dropped with it, as the store's own cache would be.
 *
 * <p>Readers see deferred values at once: {@link #get} and the iterators merge them over
 * the stored ones, so interactive queries are as fresh as with a cached store. The deferred values
 * of a store that is queried must be immutable, since a query thread may encode one while the
 * stream thread moves on (a store only its processor reads may change them in place).
 *
 * <p>Hooking the commit needs Kafka Streams' internal {@code WrappedStateStore} (and through it
 * {@code CachedStateStore}); the topology tests and the end-to-end tests fail if the hook is
 * not called.
 *
 * @param <K> the key
 * @param <V> the immutable value objects the processor defers
 */
public final class WriteBehindStore<K, V> extends WrappedStateStore<KeyValueStore<K, byte[]>, K, byte[]> implements KeyValueStore<K, byte[]> {
  /** Deferred keys that make a store write them before the commit. */
  public static final int MAX_DEFERRED = 100_000;
  private final Function<? super V, byte[]> encoder;
  private final Function<K, Bytes> keyBytes;
  private final Comparator<K> order;
  // Replaced, not cleared, after each commit: only the stream thread writes, and a query still
  // holding the old map reads values equal to the ones just written underneath.
  private volatile ConcurrentHashMap<K, Slot<V>> deferred = new ConcurrentHashMap<>();
  private int deferredKeys; // keys in deferred; the stream thread's alone

  /**
   * Where a key's deferred value is held until the commit. A processor that keeps the slot
   * {@link #defer} returned can set the key again with {@link #set} instead of another map write,
   * for as long as {@link WriteBehindStore#holds} says the slot is still the store's.
   */
  public static final class Slot<V> {
    private volatile V value;
    private boolean detached; // written and read by the stream thread only

    private Slot(V value) {
      this.value = value;
    }

    public V value() {
      return value;
    }

    /** Sets the slot's key to {@code value}; only while the store {@link WriteBehindStore#holds} the slot. */
    public void set(V value) {
      this.value = value;
    }
  }

  private WriteBehindStore(KeyValueStore<K, byte[]> inner, Function<? super V, byte[]> encoder, Function<K, Bytes> keyBytes) {
    super(inner);
    this.encoder = encoder;
    this.keyBytes = keyBytes;
    this.order = Comparator.comparing(keyBytes);
  }

  /**
   * A builder of write-behind stores over {@code inner} (which should not be cached: writes reach
   * it once per commit already). {@code keyBytes} must give each key as the inner store
   * serializes it, so that merged iterators keep the store's order.
   */
  public static <K, V> StoreBuilder<WriteBehindStore<K, V>> builder(StoreBuilder<KeyValueStore<K, byte[]>> inner,
                                                                   Function<? super V, byte[]> encoder, Function<K, Bytes> keyBytes) {
    return new Builder<>(inner, encoder, keyBytes);
  }

  /** The write-behind store under a store handed out by a processor context. */
  @SuppressWarnings("unchecked")
  public static <K, V> WriteBehindStore<K, V> of(StateStore store) {
    StateStore s = store;
    while (!(s instanceof WriteBehindStore)) {
      if (!(s instanceof WrappedStateStore<?, ?, ?> w)) {
        throw new IllegalStateException("store " + store.name() + " is not a write-behind store");
      }
      s = w.wrapped();
    }
    return (WriteBehindStore<K, V>) s;
  }

  /** The value deferred for {@code key} since the last commit, or null. */
  public V deferred(K key) {
    Slot<V> slot = deferred.get(key);
    return slot == null ? null : slot.value;
  }

  /** The slot of the value deferred for {@code key} since the last commit, or null. */
  public Slot<V> slot(K key) {
    return deferred.get(key);
  }

  /** Whether {@code slot} still holds a deferred value of this store: false once it was written or dropped. */
  public boolean holds(Slot<V> slot) {
    return slot != null && !slot.detached;
  }

  /** The value written for {@code key} at the last commit (deferred ones aside), or null. */
  public byte[] stored(K key) {
    return wrapped().get(key);
  }

  /**
   * Sets {@code key} to {@code value}, to be encoded and written at the next commit, or at once
   * with every other deferred value when {@value #MAX_DEFERRED} keys are waiting (as a store
   * cache evicts when full; the writes still belong to the task's open transaction).
   */
  public Slot<V> defer(K key, V value) {
    Slot<V> slot = deferred.get(key);
    if (slot != null) {
      slot.value = value;
      return slot;
    }
    slot = new Slot<>(value);
    deferred.put(key, slot);
    if (++deferredKeys >= MAX_DEFERRED) {
      writeDeferred();
    }
    return slot;
  }

  private void writeDeferred() {
    ConcurrentHashMap<K, Slot<V>> current = deferred;
    if (!current.isEmpty()) {
      List<KeyValue<K, byte[]>> batch = new ArrayList<>(current.size());
      for (Map.Entry<K, Slot<V>> e : current.entrySet()) {
        batch.add(KeyValue.pair(e.getKey(), encoder.apply(e.getValue().value)));
      }
      wrapped().putAll(batch);
    }
    reset();
  }

  private V forget(K key) {
    Slot<V> slot = deferred.remove(key);
    if (slot == null) {
      return null;
    }
    slot.detached = true;
    deferredKeys--;
    return slot.value;
  }

  private void reset() {
    for (Slot<V> slot : deferred.values()) {
      slot.detached = true;
    }
    deferred = new ConcurrentHashMap<>();
    deferredKeys = 0;
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    reset();
    super.init(context, root);
  }

  @Override
  public void flushCache() {
    writeDeferred();
    super.flushCache();
  }

  @Override
  public void clearCache() {
    reset();
    super.clearCache();
  }

  @Override
  public void close() {
    reset();
    super.close();
  }

  @Override
  public byte[] get(K key) {
    V v = deferred(key);
    return v != null ? encoder.apply(v) : wrapped().get(key);
  }

  @Override
  public void put(K key, byte[] value) {
    forget(key);
    wrapped().put(key, value);
  }

  @Override
  public byte[] putIfAbsent(K key, byte[] value) {
    V v = deferred(key);
    return v != null ? encoder.apply(v) : wrapped().putIfAbsent(key, value);
  }

  @Override
  public void putAll(List<KeyValue<K, byte[]>> entries) {
    for (KeyValue<K, byte[]> e : entries) {
      forget(e.key);
    }
    wrapped().putAll(entries);
  }

  @Override
  public byte[] delete(K key) {
    V v = forget(key);
    byte[] old = wrapped().delete(key);
    return v != null ? encoder.apply(v) : old;
  }

  @Override
  public KeyValueIterator<K, byte[]> range(K from, K to) {
    return merged(wrapped().range(from, to), key -> within(key, from, to), false);
  }

  @Override
  public KeyValueIterator<K, byte[]> reverseRange(K from, K to) {
    return merged(wrapped().reverseRange(from, to), key -> within(key, from, to), true);
  }

  @Override
  public KeyValueIterator<K, byte[]> all() {
    return merged(wrapped().all(), key -> true, false);
  }

  @Override
  public KeyValueIterator<K, byte[]> reverseAll() {
    return merged(wrapped().reverseAll(), key -> true, true);
  }

  @Override
  public <PS extends Serializer<P>, P> KeyValueIterator<K, byte[]> prefixScan(P prefix, PS prefixKeySerializer) {
    byte[] p = prefixKeySerializer.serialize(null, prefix);
    return merged(wrapped().prefixScan(prefix, prefixKeySerializer), key -> startsWith(keyBytes.apply(key).get(), p), false);
  }

  private static boolean startsWith(byte[] key, byte[] prefix) {
    return key.length >= prefix.length && Arrays.equals(key, 0, prefix.length, prefix, 0, prefix.length);
  }

  @Override
  public long approximateNumEntries() {
    return wrapped().approximateNumEntries() + deferred.size();
  }

  /** Whether {@code key} lies in [from, to], a null bound being open. */
  private boolean within(K key, K from, K to) {
    return (from == null || order.compare(key, from) >= 0) && (to == null || order.compare(key, to) <= 0);
  }

  /** {@code stored} with the deferred entries whose keys {@code select} takes merged in. */
  private KeyValueIterator<K, byte[]> merged(KeyValueIterator<K, byte[]> stored, Predicate<K> select, boolean reverse) {
    ConcurrentHashMap<K, Slot<V>> current = deferred;
    if (current.isEmpty()) {
      return stored;
    }
    List<Map.Entry<K, V>> dirty = new ArrayList<>();
    for (Map.Entry<K, Slot<V>> e : current.entrySet()) {
      if (select.test(e.getKey())) {
        dirty.add(Map.entry(e.getKey(), e.getValue().value));
      }
    }
    if (dirty.isEmpty()) {
      return stored;
    }
    Comparator<K> direction = reverse ? order.reversed() : order;
    dirty.sort(Map.Entry.comparingByKey(direction));
    return new Merged(stored, dirty.iterator(), direction);
  }

  /** Stored entries and deferred ones in key order; a deferred value replaces a stored one. */
  private final class Merged implements KeyValueIterator<K, byte[]> {
    private final KeyValueIterator<K, byte[]> stored;
    private final Iterator<Map.Entry<K, V>> dirty;
    private final Comparator<K> direction;
    private Map.Entry<K, V> nextDirty;

    Merged(KeyValueIterator<K, byte[]> stored, Iterator<Map.Entry<K, V>> dirty, Comparator<K> direction) {
      this.stored = stored;
      this.dirty = dirty;
      this.direction = direction;
      this.nextDirty = dirty.hasNext() ? dirty.next() : null;
    }

    @Override
    public boolean hasNext() {
      return nextDirty != null || stored.hasNext();
    }

    @Override
    public KeyValue<K, byte[]> next() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      if (nextDirty == null) {
        return stored.next();
      }
      if (stored.hasNext()) {
        int c = direction.compare(stored.peekNextKey(), nextDirty.getKey());
        if (c < 0) {
          return stored.next();
        }
        if (c == 0) {
          stored.next(); // replaced by the deferred value
        }
      }
      Map.Entry<K, V> e = nextDirty;
      nextDirty = dirty.hasNext() ? dirty.next() : null;
      return KeyValue.pair(e.getKey(), encoder.apply(e.getValue()));
    }

    @Override
    public K peekNextKey() {
      if (!hasNext()) {
        throw new NoSuchElementException();
      }
      if (nextDirty == null) {
        return stored.peekNextKey();
      }
      if (stored.hasNext() && direction.compare(stored.peekNextKey(), nextDirty.getKey()) < 0) {
        return stored.peekNextKey();
      }
      return nextDirty.getKey();
    }

    @Override
    public void close() {
      stored.close();
    }
  }

  private static final class Builder<K, V> implements StoreBuilder<WriteBehindStore<K, V>> {
    private final StoreBuilder<KeyValueStore<K, byte[]>> inner;
    private final Function<? super V, byte[]> encoder;
    private final Function<K, Bytes> keyBytes;

    Builder(StoreBuilder<KeyValueStore<K, byte[]>> inner, Function<? super V, byte[]> encoder, Function<K, Bytes> keyBytes) {
      this.inner = inner;
      this.encoder = encoder;
      this.keyBytes = keyBytes;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withCachingEnabled() {
      inner.withCachingEnabled();
      return this;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withCachingDisabled() {
      inner.withCachingDisabled();
      return this;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withLoggingEnabled(Map<String, String> config) {
      inner.withLoggingEnabled(config);
      return this;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withLoggingDisabled() {
      inner.withLoggingDisabled();
      return this;
    }

    @Override
    public WriteBehindStore<K, V> build() {
      return new WriteBehindStore<>(inner.build(), encoder, keyBytes);
    }

    @Override
    public Map<String, String> logConfig() {
      return inner.logConfig();
    }

    @Override
    public boolean loggingEnabled() {
      return inner.loggingEnabled();
    }

    @Override
    public String name() {
      return inner.name();
    }
  }
}
