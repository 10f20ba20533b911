package io.lineageledger.projections;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class WriteBehindStoreTest {
  WriteBehindStore<String, String> store;

  @BeforeEach
  void open() {
    store = WriteBehindStore.<String, String>builder(
        Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore("s"), Serdes.String(), Serdes.ByteArray()).withLoggingDisabled(),
        v -> v.getBytes(StandardCharsets.UTF_8), k -> Bytes.wrap(k.getBytes(StandardCharsets.UTF_8))).build();
    store.init(new MockProcessorContext<>().getStateStoreContext(), store);
  }

  static String text(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  static List<String> entries(KeyValueIterator<String, byte[]> it) {
    List<String> out = new ArrayList<>();
    try (it) {
      it.forEachRemaining(kv -> out.add(kv.key + "=" + text(kv.value)));
    }
    return out;
  }

  @Test
  void aDeferredValueIsReadableAtOnceAndReachesTheStoreUnderneathAtTheCommit() {
    store.defer("a", "1");
    assertThat(text(store.get("a"))).isEqualTo("1");
    assertThat(store.deferred("a")).isEqualTo("1");
    assertThat(store.stored("a")).as("nothing written before the commit").isNull();

    store.defer("a", "2");
    store.flushCache();
    assertThat(store.deferred("a")).isNull();
    assertThat(text(store.stored("a"))).isEqualTo("2");
    assertThat(text(store.get("a"))).isEqualTo("2");
  }

  @Test
  void iteratorsMergeDeferredValuesOverStoredOnesInKeyOrder() {
    store.defer("a", "stored");
    store.defer("c", "stored");
    store.defer("e", "stored");
    store.flushCache();
    store.defer("b", "new");
    store.defer("c", "new");
    store.defer("f", "new");

    assertThat(entries(store.all())).containsExactly("a=stored", "b=new", "c=new", "e=stored", "f=new");
    assertThat(entries(store.reverseAll())).containsExactly("f=new", "e=stored", "c=new", "b=new", "a=stored");
    assertThat(entries(store.range("b", "e"))).containsExactly("b=new", "c=new", "e=stored");
    assertThat(entries(store.reverseRange("a", "c"))).containsExactly("c=new", "b=new", "a=stored");
    assertThat(entries(store.range("g", "z"))).isEmpty();
    try (KeyValueIterator<String, byte[]> it = store.all()) {
      assertThat(it.peekNextKey()).isEqualTo("a");
      it.next();
      assertThat(it.peekNextKey()).isEqualTo("b");
    }
  }

  @Test
  void aPrefixScanMergesTheDeferredKeysWithThePrefix() {
    store.defer("run:a", "stored");
    store.defer("run:c", "stored");
    store.defer("sub", "stored");
    store.flushCache();
    store.defer("run:b", "new");
    store.defer("run:c", "new");
    store.defer("rum", "new");
    assertThat(entries(store.prefixScan("run:", new org.apache.kafka.common.serialization.StringSerializer())))
        .containsExactly("run:a=stored", "run:b=new", "run:c=new");
  }

  @Test
  void keysSortAsTheirBytesDoNotAsJavaStrings() {
    // U+FF5E sorts after U+1F600 as UTF-16 but before it as UTF-8, the store's order.
    store.defer("\uD83D\uDE00", "emoji");
    store.flushCache();
    store.defer("\uFF5E", "wide");
    assertThat(entries(store.all())).containsExactly("\uFF5E=wide", "\uD83D\uDE00=emoji");
  }

  @Test
  void aClearedCacheDropsWhatWasDeferred() {
    store.defer("a", "1");
    store.flushCache();
    store.defer("a", "2");
    store.defer("b", "2");
    store.clearCache(); // the task's transaction was aborted
    store.flushCache();
    assertThat(text(store.get("a"))).isEqualTo("1");
    assertThat(store.get("b")).isNull();
  }

  @Test
  void directWritesReplaceWhatWasDeferred() {
    store.defer("a", "deferred");
    store.put("a", "put".getBytes(StandardCharsets.UTF_8));
    store.flushCache();
    assertThat(text(store.get("a"))).isEqualTo("put");
    store.defer("a", "again");
    assertThat(text(store.delete("a"))).isEqualTo("again");
    store.flushCache();
    assertThat(store.get("a")).isNull();
  }

  @Test
  void tooManyDeferredKeysAreWrittenBeforeTheCommit() {
    for (int i = 0; i < WriteBehindStore.MAX_DEFERRED - 1; i++) {
      store.defer("k" + i, "v");
    }
    store.defer("k0", "again"); // no new key
    assertThat(store.stored("k0")).isNull();
    store.defer("last", "v");
    assertThat(text(store.stored("k0"))).isEqualTo("again");
    assertThat(text(store.stored("last"))).isEqualTo("v");
    assertThat(store.deferred("k0")).isNull();
  }

  @Test
  void aKeptSlotSetsItsKeyUntilTheCommitWritesIt() {
    WriteBehindStore.Slot<String> slot = store.defer("a", "1");
    assertThat(store.holds(slot)).isTrue();
    assertThat(store.defer("a", "2")).as("one slot per key").isSameAs(slot);
    slot.set("3");
    assertThat(text(store.get("a"))).isEqualTo("3");
    assertThat(entries(store.all())).containsExactly("a=3");
    store.flushCache();
    assertThat(store.holds(slot)).as("written at the commit").isFalse();
    assertThat(text(store.stored("a"))).isEqualTo("3");

    WriteBehindStore.Slot<String> again = store.defer("a", "4");
    store.delete("a");
    assertThat(store.holds(again)).as("dropped by a direct write").isFalse();
    store.defer("b", "5");
    WriteBehindStore.Slot<String> cleared = store.slot("b");
    store.clearCache();
    assertThat(store.holds(cleared)).isFalse();
  }
}
