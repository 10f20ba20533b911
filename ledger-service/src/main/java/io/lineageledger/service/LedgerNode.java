package io.lineageledger.service;

import io.lineageledger.infra.EmbeddedKafka;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.service.api.HealthCheck;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.projections.detect.DetectorSettings;
import io.lineageledger.service.alerts.AlertLog;
import io.lineageledger.service.alerts.Detectors;
import io.lineageledger.service.alerts.Subscriptions;
import io.lineageledger.service.alerts.WebhookDispatcher;
import io.lineageledger.service.api.AlertsResource;
import io.lineageledger.service.api.LedgerHttpApi;
import io.lineageledger.service.api.LineageResource;
import io.lineageledger.service.api.RebuildResource;
import io.lineageledger.service.api.ReportsResource;
import io.lineageledger.service.api.RunsResource;
import io.lineageledger.service.query.LineageQueries;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.service.api.EventHistoryResource;
import io.lineageledger.service.api.EventsResource;
import io.lineageledger.service.query.Projections;
import io.lineageledger.service.query.Routing;
import io.lineageledger.service.query.RunHistory;
import io.lineageledger.service.query.RunQueries;
import io.lineageledger.service.registry.KafkaSchemaStore;
import io.lineageledger.service.registry.SchemaRegistryServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one ledger process: wires the broker (embedded, or an existing
 * cluster), the topics, the schema registry (embedded, or an existing Confluent-compatible one),
 * the projections and the HTTP API by hand, and closes them in reverse order.
 *
 * <p>Started and closed by one thread (the CLI's main thread, then its shutdown hook).
 */
public final class LedgerNode implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerNode.class);

  private final Settings settings;
  private final Deque<AutoCloseable> started = new ArrayDeque<>();
  private EmbeddedKafka kafka;
  private String bootstrapServers;
  private String schemaRegistryUrl;
  private LedgerHttpApi api;
  private Projections projections;
  private AlertsResource alerts;

  private LedgerNode(Settings settings) {
    this.settings = settings;
  }

  /**
   * What a node runs and where.
   *
   * @param dataDir where the embedded broker keeps its data
   * @param host host name to bind and advertise
   * @param kafkaPort embedded broker port
   * @param controllerPort embedded KRaft controller port
   * @param registryPort embedded schema registry port (0 picks a free one)
   * @param httpPort ledger API port (0 picks a free one)
   * @param bootstrapServers an existing cluster to use instead of the embedded broker, or null
   * @param schemaRegistryUrl an existing registry to use instead of the embedded one, or null
   * @param projections whether to run the projections, the detectors and their queries (benchmarks of producers leave them out)
   * @param detectors the thresholds of the health detectors
   */
  public record Settings(Path dataDir, String host, int kafkaPort, int controllerPort, int registryPort, int httpPort,
                         String bootstrapServers, String schemaRegistryUrl, boolean projections, DetectorSettings detectors) {
    public Settings(Path dataDir, String host, int kafkaPort, int controllerPort, int registryPort, int httpPort,
                    String bootstrapServers, String schemaRegistryUrl, boolean projections) {
      this(dataDir, host, kafkaPort, controllerPort, registryPort, httpPort, bootstrapServers, schemaRegistryUrl, projections,
          DetectorSettings.DEFAULTS);
    }

    public Settings(Path dataDir, String host, int kafkaPort, int controllerPort, int registryPort, int httpPort,
                    String bootstrapServers, String schemaRegistryUrl) {
      this(dataDir, host, kafkaPort, controllerPort, registryPort, httpPort, bootstrapServers, schemaRegistryUrl, true);
    }

    public Settings withDetectors(DetectorSettings d) {
      return new Settings(dataDir, host, kafkaPort, controllerPort, registryPort, httpPort, bootstrapServers, schemaRegistryUrl, projections, d);
    }
  }

  /** Starts everything; on failure, stops what had started and rethrows. */
  public static LedgerNode start(Settings settings) {
    LedgerNode node = new LedgerNode(settings);
    try {
      node.startAll();
      return node;
    } catch (RuntimeException e) {
      node.close();
      throw e;
    }
  }

  private void startAll() {
    if (settings.bootstrapServers() == null) {
      kafka = EmbeddedKafka.builder(settings.dataDir().resolve("kafka")).host(settings.host())
          .port(settings.kafkaPort()).controllerPort(settings.controllerPort()).build();
      started.push(kafka.start());
      bootstrapServers = kafka.bootstrapServers();
    } else {
      bootstrapServers = settings.bootstrapServers();
    }
    Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
        AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10_000, AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5_000));
    started.push(admin);
    short replicationFactor = replicationFactor(admin);
    LedgerTopics.ensure(admin, replicationFactor);

    if (settings.schemaRegistryUrl() == null) {
      KafkaSchemaStore store = new KafkaSchemaStore(bootstrapServers).start();
      started.push(store);
      SchemaRegistryServer registry = new SchemaRegistryServer(store).start(settings.host(), settings.registryPort());
      started.push(registry);
      schemaRegistryUrl = "http://" + settings.host() + ":" + registry.port();
    } else {
      schemaRegistryUrl = settings.schemaRegistryUrl();
    }
    RestSchemaRegistryClient registryClient = new RestSchemaRegistryClient(schemaRegistryUrl, Duration.ofSeconds(2), Duration.ofSeconds(3));

    // The API's port is fixed before the projections start: it is this instance's address for queries.
    int httpPort = settings.httpPort() == 0 ? FreePorts.next() : settings.httpPort();
    List<LedgerHttpApi.Resource> resources = new ArrayList<>();
    LedgerClient ingest = LedgerClient.builder().bootstrapServers(bootstrapServers).schemaRegistry(registryClient)
        .producerIdentity("ledger-service@" + settings.host() + ":" + httpPort, "ledger-service", "1").build();
    started.push(ingest);
    resources.add(new EventsResource(ingest));
    if (settings.projections()) {
      LedgerAvroDeserializer<EventEnvelope> envelopes = new LedgerAvroDeserializer<>(registryClient, EventEnvelope.class);
      projections = new Projections(settings.dataDir().resolve("streams"), bootstrapServers, settings.host() + ":" + httpPort,
          envelopes, admin, Map.of()).start();
      started.push(projections);
      RunHistory history = new RunHistory(bootstrapServers, envelopes);
      RunQueries runQueries = new RunQueries(projections, history);
      Routing routing = new Routing(projections);
      resources.add(new RunsResource(runQueries, routing));
      resources.add(new ReportsResource(runQueries, routing));
      resources.add(new EventHistoryResource(history));
      resources.add(new RebuildResource(projections));
      resources.add(new LineageResource(new LineageQueries(projections)));
      String self = settings.host() + ":" + httpPort;
      Detectors detectors = new Detectors(Detectors.DEFAULT_APPLICATION_ID, bootstrapServers, settings.dataDir().resolve("detectors"), self,
          registryClient, admin, replicationFactor, settings.detectors(), Map.of()).start();
      started.push(detectors);
      AlertLog alertLog = new AlertLog(bootstrapServers, registryClient);
      started.push(alertLog); // closed even when starting it fails
      alertLog.start();
      Subscriptions subscriptions = new Subscriptions(bootstrapServers, new WebhookDispatcher(bootstrapServers, registryClient));
      started.push(subscriptions);
      subscriptions.start();
      alerts = new AlertsResource(alertLog, detectors, subscriptions, ingest, self);
      resources.add(alerts);
    }
    api = new LedgerHttpApi(List.of(
        HealthCheck.of("kafka", () -> {
          try {
            String clusterId = admin.describeCluster().clusterId().get(3, TimeUnit.SECONDS);
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("bootstrapServers", bootstrapServers);
            details.put("clusterId", clusterId);
            details.put("embedded", kafka != null);
            return details;
          } catch (Exception e) {
            throw new IllegalStateException("broker at " + bootstrapServers + " does not answer: " + e, e);
          }
        }),
        HealthCheck.of("schemaRegistry", () -> Map.of("url", schemaRegistryUrl,
            "compatibility", registryClient.globalCompatibility().name()))), resources)
        .start(settings.host(), httpPort);
    started.push(api);
    if (alerts != null) {
      started.push(alerts::close); // open alert streams end before the API stops
    }
  }

  private static short replicationFactor(Admin admin) {
    try {
      int brokers = admin.describeCluster().nodes().get(30, TimeUnit.SECONDS).size();
      return (short) Math.max(1, Math.min(3, brokers));
    } catch (Exception e) {
      throw new IllegalStateException("could not reach the Kafka cluster: " + e.getMessage(), e);
    }
  }

  public String bootstrapServers() {
    return bootstrapServers;
  }

  public String schemaRegistryUrl() {
    return schemaRegistryUrl;
  }

  public String apiUrl() {
    return "http://" + settings.host() + ":" + api.port();
  }

  /** Where the embedded broker keeps its data, or null when an existing cluster is used. */
  public Path kafkaDataDir() {
    return kafka == null ? null : kafka.dataDir();
  }

  @Override
  public void close() {
    while (!started.isEmpty()) {
      AutoCloseable c = started.pop();
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("error while stopping {}: {}", c.getClass().getSimpleName(), e.toString());
      }
    }
  }
}
