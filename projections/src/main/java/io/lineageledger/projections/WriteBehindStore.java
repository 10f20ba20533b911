package io.lineageledger.projections;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.query.Position;
import org.apache.kafka.streams.query.PositionBound;
import org.apache.kafka.streams.query.Query;
import org.apache.kafka.streams.query.QueryConfig;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;
import org.apache.kafka.streams.state.internals.CacheFlushListener;
import org.apache.kafka.streams.state.internals.CachedStateStore;

/**
 * A key-value store of decoded values that encodes each changed value once per commit instead
 * of once per update: a fold that rewrites a run's state on every event works on objects, and
 * the bytes go to RocksDB and the changelog when Kafka Streams flushes its caches, which it
 * does on every commit before the changelog records' transaction is committed (exactly once is
 * kept). Values must be immutable.
 *
 * <p>It stands in for Streams' own record cache (the store below it is uncached): it is
 * registered as a {@link CachedStateStore}, which is how Streams finds the caches to flush.
 * Only the stream thread writes; interactive queries read from any thread and see a value as
 * soon as it is put, as they would through Streams' cache.
 */
public final class WriteBehindStore<K, V> implements KeyValueStore<K, V>, CachedStateStore<K, V> {
  /** How a value is written to and read from the store's bytes. */
  public interface Codec<V> {
    byte[] encode(V value);

    V decode(byte[] bytes);
  }

  private final KeyValueStore<K, byte[]> inner;
  private final Codec<V> codec;
  private final Serializer<K> keys;
  private final Map<K, V> dirty = new ConcurrentHashMap<>();

  WriteBehindStore(KeyValueStore<K, byte[]> inner, Codec<V> codec, Serializer<K> keys) {
    this.inner = inner;
    this.codec = codec;
    this.keys = keys;
  }

  /** A persistent (RocksDB), changelogged store named {@code name}. */
  public static <K, V> StoreBuilder<WriteBehindStore<K, V>> builder(String name, Serde<K> keySerde, Codec<V> codec) {
    return new Builder<>(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(name), keySerde,
        org.apache.kafka.common.serialization.Serdes.ByteArray()).withCachingDisabled(), codec, keySerde.serializer());
  }

  @Override
  public String name() {
    return inner.name();
  }

  @Override
  public void init(StateStoreContext context, StateStore root) {
    dirty.clear(); // a task opened again after an aborted transaction starts from what was committed
    inner.init(context, root);
  }

  @Override
  public void put(K key, V value) {
    if (value == null) {
      delete(key);
      return;
    }
    dirty.put(key, value);
  }

  @Override
  public V putIfAbsent(K key, V value) {
    V old = get(key);
    if (old == null) {
      put(key, value);
    }
    return old;
  }

  @Override
  public void putAll(List<KeyValue<K, V>> entries) {
    entries.forEach(e -> put(e.key, e.value));
  }

  @Override
  public V delete(K key) {
    V old = get(key);
    dirty.remove(key);
    inner.delete(key);
    return old;
  }

  @Override
  public V get(K key) {
    V v = dirty.get(key);
    if (v != null) {
      return v;
    }
    byte[] bytes = inner.get(key);
    return bytes == null ? null : codec.decode(bytes);
  }

  /** Writes every value changed since the last flush to the store below (RocksDB and its changelog). */
  @Override
  public void flushCache() {
    for (Map.Entry<K, V> e : dirty.entrySet()) {
      inner.put(e.getKey(), codec.encode(e.getValue()));
      dirty.remove(e.getKey(), e.getValue()); // a reader sees the value in one place or the other
    }
    if (inner instanceof CachedStateStore<?, ?> cached) {
      cached.flushCache();
    }
  }

  @Override
  public void clearCache() {
    dirty.clear();
    if (inner instanceof CachedStateStore<?, ?> cached) {
      cached.clearCache();
    }
  }

  @Override
  public boolean setFlushListener(CacheFlushListener<K, V> listener, boolean sendOldValues) {
    return false; // nothing downstream listens to this store's flushes
  }

  @Override
  public void flush() {
    inner.flush();
  }

  @Override
  public void commit(Map<org.apache.kafka.common.TopicPartition, Long> changelogOffsets) {
    inner.commit(changelogOffsets);
  }

  @Override
  public void close() {
    dirty.clear();
    inner.close();
  }

  @Override
  public boolean persistent() {
    return inner.persistent();
  }

  @Override
  public boolean isOpen() {
    return inner.isOpen();
  }

  @Override
  public Position getPosition() {
    return inner.getPosition();
  }

  @Override
  public <R> QueryResult<R> query(Query<R> query, PositionBound positionBound, QueryConfig config) {
    return QueryResult.forUnknownQueryType(query, this);
  }

  @Override
  public KeyValueIterator<K, V> range(K from, K to) {
    List<KeyValue<K, V>> below = new ArrayList<>();
    try (KeyValueIterator<K, byte[]> it = inner.range(from, to)) {
      it.forEachRemaining(kv -> below.add(KeyValue.pair(kv.key, codec.decode(kv.value))));
    }
    Bytes lo = from == null ? null : Bytes.wrap(keys.serialize(name(), from));
    Bytes hi = to == null ? null : Bytes.wrap(keys.serialize(name(), to));
    return merged(below, k -> {
      Bytes b = Bytes.wrap(keys.serialize(name(), k));
      return (lo == null || b.compareTo(lo) >= 0) && (hi == null || b.compareTo(hi) <= 0);
    });
  }

  @Override
  public KeyValueIterator<K, V> all() {
    List<KeyValue<K, V>> below = new ArrayList<>();
    try (KeyValueIterator<K, byte[]> it = inner.all()) {
      it.forEachRemaining(kv -> below.add(KeyValue.pair(kv.key, codec.decode(kv.value))));
    }
    return merged(below, k -> true);
  }

  /** The store's entries overlaid with the changed values in range, in the store's (serialized-key) order. */
  private KeyValueIterator<K, V> merged(List<KeyValue<K, V>> below, java.util.function.Predicate<K> inRange) {
    Comparator<Bytes> order = Bytes::compareTo;
    TreeMap<Bytes, KeyValue<K, V>> all = new TreeMap<>(order);
    for (KeyValue<K, V> kv : below) {
      all.put(Bytes.wrap(keys.serialize(name(), kv.key)), kv);
    }
    for (Map.Entry<K, V> e : dirty.entrySet()) {
      if (inRange.test(e.getKey())) {
        all.put(Bytes.wrap(keys.serialize(name(), e.getKey())), KeyValue.pair(e.getKey(), e.getValue()));
      }
    }
    Iterator<KeyValue<K, V>> it = all.values().iterator();
    return new KeyValueIterator<>() {
      private KeyValue<K, V> next = it.hasNext() ? it.next() : null;

      @Override
      public boolean hasNext() {
        return next != null;
      }

      @Override
      public KeyValue<K, V> next() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        KeyValue<K, V> r = next;
        next = it.hasNext() ? it.next() : null;
        return r;
      }

      @Override
      public K peekNextKey() {
        if (next == null) {
          throw new NoSuchElementException();
        }
        return next.key;
      }

      @Override
      public void close() {}
    };
  }

  @Override
  public long approximateNumEntries() {
    return inner.approximateNumEntries() + dirty.size();
  }

  private static final class Builder<K, V> implements StoreBuilder<WriteBehindStore<K, V>> {
    private final StoreBuilder<KeyValueStore<K, byte[]>> inner;
    private final Codec<V> codec;
    private final Serializer<K> keys;

    Builder(StoreBuilder<KeyValueStore<K, byte[]>> inner, Codec<V> codec, Serializer<K> keys) {
      this.inner = inner;
      this.codec = codec;
      this.keys = keys;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withCachingEnabled() {
      throw new UnsupportedOperationException("a write-behind store is its own cache");
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withCachingDisabled() {
      return this;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withLoggingEnabled(Map<String, String> config) {
      inner.withLoggingEnabled(config);
      return this;
    }

    @Override
    public StoreBuilder<WriteBehindStore<K, V>> withLoggingDisabled() {
      throw new UnsupportedOperationException("a write-behind store must be logged: its values are restored from the changelog");
    }

    @Override
    public WriteBehindStore<K, V> build() {
      return new WriteBehindStore<>(inner.build(), codec, keys);
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
