package io.lineageledger.service.query;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.LedgerTopology;
import io.lineageledger.projections.run.RunStateProjection;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance of the projections application: runs {@link LedgerTopology} and hands out its
 * stores for queries. A store that cannot be read yet (starting, rebalancing, restoring) is
 * reported as {@link StoreUnavailableException}, which callers may retry.
 *
 * <p>Started and closed by the composition root's thread; {@link #store} may be called from any thread.
 */
public final class LedgerStreams implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerStreams.class);
  public static final String DEFAULT_APPLICATION_ID = "ledger-projections";

  private final KafkaStreams streams;
  private final String applicationId;

  public LedgerStreams(String applicationId, String bootstrapServers, Path stateDir, String applicationServer,
                       Deserializer<EventEnvelope> envelopes, Map<String, ?> overrides) {
    this(applicationId, bootstrapServers, stateDir, applicationServer, envelopes, overrides, LedgerTopics.EVENTS, LedgerTopics.LINEAGE_EDGES,
        LedgerTopics.DEAD_LETTERS);
  }

  /** The projections of another events topic (benchmarks use topics of their own). */
  public LedgerStreams(String applicationId, String bootstrapServers, Path stateDir, String applicationServer,
                       Deserializer<EventEnvelope> envelopes, Map<String, ?> overrides, String eventsTopic, String edgesTopic,
                       String deadLetterTopic) {
    this.applicationId = applicationId;
    Properties config = LedgerTopology.streamsConfig(applicationId, bootstrapServers, stateDir, applicationServer,
        deadLetterTopic, overrides);
    this.streams = new KafkaStreams(LedgerTopology.build(eventsTopic, edgesTopic, envelopes), config);
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("projections thread failed; replacing it", e);
      return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
  }

  public LedgerStreams start() {
    streams.start();
    return this;
  }

  public KafkaStreams.State state() {
    return streams.state();
  }

  public String applicationId() {
    return applicationId;
  }

  public KafkaStreams streams() {
    return streams;
  }

  /** The local part of a key-value store, for reading. */
  public <K, V> ReadOnlyKeyValueStore<K, V> store(String name) {
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      throw new StoreUnavailableException("the projections are " + state + "; store '" + name + "' is not readable yet", null);
    }
    try {
      return streams.store(StoreQueryParameters.fromNameAndType(name, QueryableStoreTypes.<K, V>keyValueStore()));
    } catch (InvalidStateStoreException e) {
      throw new StoreUnavailableException("store '" + name + "' is migrating or restoring: " + e.getMessage(), e);
    }
  }

  /**
   * Whether this instance answers for every one of the {@code partitions} of the events topic:
   * the application is running and the run-state store of each partition is active here, hence
   * restored (a task whose stores are still restoring cannot be queried).
   */
  public boolean activeOnAll(int partitions) {
    if (streams.state() != KafkaStreams.State.RUNNING) {
      return false;
    }
    try {
      for (int p = 0; p < partitions; p++) {
        streams.store(StoreQueryParameters.fromNameAndType(RunStateProjection.STATE_STORE, QueryableStoreTypes.keyValueStore())
            .withPartition(p)).approximateNumEntries();
      }
      return true;
    } catch (InvalidStateStoreException e) {
      return false;
    }
  }

  /** Deletes this application's local state; only after {@link #close}. */
  public void cleanUp() {
    streams.cleanUp();
  }

  /**
   * Stops the application and leaves its group, so that other instances take over its
   * partitions at once (and a replaced application's group can be deleted) instead of after the
   * session timeout.
   */
  @Override
  public void close() {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
  }
}
