package io.lineageledger.projections;

import java.lang.management.ManagementFactory;
import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Bounds the off-heap memory of every RocksDB store of the process together: one block cache
 * and one write-buffer manager shared by all stores, sized for the machine (1/64 of physical
 * memory, between 32 MiB and 512 MiB; {@value #MEMORY_CONFIG} overrides it), instead of
 * RocksDB's per-store defaults, which add up to gigabytes once a few dozen stores are open.
 */
public final class LedgerRocksDbConfig implements RocksDBConfigSetter {
  /** Total bytes of block cache and memtables for all stores of the process. */
  public static final String MEMORY_CONFIG = "ledger.rocksdb.memory.bytes";
  private static final double MEMTABLE_SHARE = 0.25;

  private static Cache cache;
  private static WriteBufferManager writeBuffers;

  private static synchronized void share(long bytes) {
    if (cache == null) {
      cache = new LRUCache(bytes, -1, false, 0.1);
      writeBuffers = new WriteBufferManager((long) (bytes * MEMTABLE_SHARE), cache);
    }
  }

  /** What the stores get by default on this machine. */
  public static long defaultMemoryBytes() {
    long physical = 8L << 30;
    if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.OperatingSystemMXBean os) {
      physical = os.getTotalMemorySize();
    }
    return Math.max(32L << 20, Math.min(512L << 20, physical / 64));
  }

  @Override
  public void setConfig(String storeName, Options options, Map<String, Object> configs) {
    Object configured = configs.get(MEMORY_CONFIG);
    share(configured == null ? defaultMemoryBytes() : Long.parseLong(configured.toString()));
    BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
    table.setBlockCache(cache);
    table.setCacheIndexAndFilterBlocks(true);
    table.setCacheIndexAndFilterBlocksWithHighPriority(true);
    table.setPinTopLevelIndexAndFilter(true);
    options.setWriteBufferManager(writeBuffers);
    options.setMaxWriteBufferNumber(3);
    options.setWriteBufferSize(8L << 20);
    options.setTableFormatConfig(table);
  }

  @Override
  public void close(String storeName, Options options) {
    // The cache and write-buffer manager are shared by every store: they live as long as the process.
  }
}
