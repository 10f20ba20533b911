package io.lineageledger.projections;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.projections.lineage.LineageProjection;
import io.lineageledger.projections.run.RunStateProjection;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.LogAndContinueExceptionHandler;
import org.apache.kafka.streams.errors.LogAndContinueProcessingExceptionHandler;

/**
 * The ledger's one Kafka Streams application: {@code ledger.events} → {@link EventDedupe} →
 * each projection ({@link RunStateProjection}, {@link LineageProjection}). {@link #build} only wires the projections' own parts together;
 * {@link #streamsConfig} holds the settings every instance runs with.
 */
public final class LedgerTopology {
  public static final String SOURCE = "ledger-events";
  // The partitions of ledger.events (infra's LedgerTopics), which bound the tasks of an instance.
  private static final int EVENT_PARTITIONS = 6;

  private LedgerTopology() {}

  /** The topology over {@code eventsTopic}, with lineage edges in {@code eventsTopic + ".lineage"}. */
  public static Topology build(String eventsTopic, Deserializer<EventEnvelope> envelopes) {
    return build(eventsTopic, eventsTopic + ".lineage", envelopes);
  }

  public static Topology build(String eventsTopic, String edgesTopic, Deserializer<EventEnvelope> envelopes) {
    Topology topology = new Topology();
    topology.addSource(SOURCE, new StringDeserializer(), envelopes, eventsTopic);
    EventDedupe.addTo(topology, SOURCE);
    RunStateProjection.addTo(topology, EventDedupe.NODE);
    LineageProjection.addTo(topology, EventDedupe.NODE, edgesTopic);
    return topology;
  }

  /**
   * One stream thread per core, up to one per partition of the events topic (each thread works
   * on its own tasks; more threads than tasks would idle).
   */
  public static int defaultStreamThreads() {
    return Math.max(1, Math.min(Runtime.getRuntime().availableProcessors(), EVENT_PARTITIONS));
  }

  /**
   * The settings of one instance: exactly-once processing, {@link #defaultStreamThreads} threads, records that cannot be read or
   * projected written to {@code deadLetterTopic} with the reason (and never stopping the
   * application), RocksDB bounded by {@link LedgerRocksDbConfig}. {@code overrides} (any
   * Streams, consumer or producer setting) win.
   *
   * @param applicationServer this instance's {@code host:port} for interactive queries, or null
   */
  public static Properties streamsConfig(String applicationId, String bootstrapServers, Path stateDir,
                                         String applicationServer, String deadLetterTopic, Map<String, ?> overrides) {
    Properties p = new Properties();
    p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
    p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
    p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir.toString());
    p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    p.put(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG, deadLetterTopic);
    p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueExceptionHandler.class.getName());
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, LogAndContinueProcessingExceptionHandler.class.getName());
    // The lineage global store is fed by the edges topic, which only this topology writes; a record the
    // global thread cannot process is logged and skipped there too instead of stopping it.
    p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
    p.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, LedgerRocksDbConfig.class.getName());
    p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, 1);
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, defaultStreamThreads());
    p.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");
    // A task becomes active only when its changelogs are restored, and the restore consumer
    // learns it has reached their end from a fetch that comes back empty: with the default 500 ms
    // wait, every task of a starting or failed-over instance would idle half a second per fetch.
    p.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), 50);
    // Restoring writes each poll's records to RocksDB as one batch: bigger polls, fewer and larger batches.
    p.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), 10_000);
    p.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), 8 << 20);
    p.put(StreamsConfig.restoreConsumerPrefix(ConsumerConfig.FETCH_MAX_BYTES_CONFIG), 64 << 20);
    if (applicationServer != null) {
      p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, applicationServer);
    }
    p.putAll(overrides);
    return p;
  }
}
