package io.lineageledger.service.alerts;

import io.lineageledger.events.Alert;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.detect.BaselineCheck;
import io.lineageledger.projections.detect.DetectorCatalog;
import io.lineageledger.projections.detect.DetectorSettings;
import io.lineageledger.projections.detect.DetectorTopology;
import io.lineageledger.schemas.registry.SchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import io.lineageledger.service.query.StoreUnavailableException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.apache.kafka.streams.state.HostInfo;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * This instance of the detectors application ({@link DetectorTopology}): creates its facts
 * topic, runs it, and answers what its catalog knows (a run's baseline checks, a baseline in
 * force) locally or names the instance that holds the catalog.
 *
 * <p>Started and closed by the composition root's thread; queries may come from any thread.
 */
public final class Detectors implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Detectors.class);
  public static final String DEFAULT_APPLICATION_ID = "ledger-detectors";

  private final KafkaStreams streams;
  private final HostInfo self;

  public Detectors(String applicationId, String bootstrapServers, Path stateDir, String applicationServer, SchemaRegistryClient registry,
                   Admin admin, short replicationFactor, DetectorSettings settings, Map<String, ?> overrides) {
    String facts = DetectorTopology.factsTopic(applicationId);
    ensureFactsTopic(admin, facts, replicationFactor);
    LedgerAvroDeserializer<EventEnvelope> envelopes = new LedgerAvroDeserializer<>(registry, EventEnvelope.class);
    this.streams = new KafkaStreams(
        DetectorTopology.build(LedgerTopics.EVENTS, facts, LedgerTopics.ALERTS, envelopes, new LedgerAvroSerializer<>(registry),
            new LedgerAvroSerializer<Alert>(registry), settings),
        DetectorTopology.streamsConfig(applicationId, bootstrapServers, stateDir, applicationServer, overrides));
    streams.setUncaughtExceptionHandler(e -> {
      LOG.error("detectors thread failed; replacing it", e);
      return StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse.REPLACE_THREAD;
    });
    this.self = applicationServer == null ? null : HostInfo.buildFromEndpoint(applicationServer);
  }

  private static void ensureFactsTopic(Admin admin, String topic, short replicationFactor) {
    LedgerTopics.ensure(admin, List.of(new NewTopic(topic, 1, replicationFactor).configs(Map.of(
        TopicConfig.RETENTION_MS_CONFIG, String.valueOf(Duration.ofDays(7).toMillis()),
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, String.valueOf(Math.min(2, replicationFactor))))));
  }

  public Detectors start() {
    streams.start();
    return this;
  }

  /** The {@code host:port} of the instance that holds the catalog when it is another one; empty when it is this one. */
  public Optional<String> catalogOwner() {
    if (self == null) {
      return Optional.empty();
    }
    KeyQueryMetadata md = streams.queryMetadataForKey(DetectorTopology.CATALOG_STORE, "catalog", new StringSerializer());
    if (md == null || md.equals(KeyQueryMetadata.NOT_AVAILABLE) || md.activeHost() == null) {
      throw new StoreUnavailableException("the detectors are rebalancing: no instance holds their catalog yet", null);
    }
    return md.activeHost().equals(self) ? Optional.empty() : Optional.of(md.activeHost().host() + ":" + md.activeHost().port());
  }

  /** Every baseline check of {@code runId}'s evaluations, from this instance's catalog. */
  public List<BaselineCheck> checks(String runId) {
    return catalog().checks(runId);
  }

  /** The baseline in force for {@code target} ({@code model:NAME} or {@code experiment:NAME}), or null. */
  public DetectorCatalog.BaselineFact baseline(String target) {
    return catalog().baseline(target);
  }

  private DetectorCatalog catalog() {
    KafkaStreams.State state = streams.state();
    if (state != KafkaStreams.State.RUNNING && state != KafkaStreams.State.REBALANCING) {
      throw new StoreUnavailableException("the detectors are " + state + "; their catalog is not readable yet", null);
    }
    ReadOnlyKeyValueStore<String, byte[]> store;
    try {
      store = streams.store(StoreQueryParameters.fromNameAndType(DetectorTopology.CATALOG_STORE,
          QueryableStoreTypes.<String, byte[]>keyValueStore()));
    } catch (InvalidStateStoreException e) {
      throw new StoreUnavailableException("the detectors' catalog is migrating or restoring: " + e.getMessage(), e);
    }
    return DetectorCatalog.readOnly(store::get);
  }

  @Override
  public void close() {
    streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
        .withTimeout(Duration.ofSeconds(30)));
  }
}
