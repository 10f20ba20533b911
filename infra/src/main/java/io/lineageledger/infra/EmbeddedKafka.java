package io.lineageledger.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real single-node Kafka broker (KRaft, combined broker and controller) running in this JVM
 * from the Apache Kafka jars. Its log directory is formatted once, on first start, and kept:
 * a later start on the same directory finds every topic and record again.
 *
 * <p>Used by {@code ledger up} as the single-machine default and by every {@code *IT} test.
 * Not thread-safe: one thread starts and closes it.
 */
public final class EmbeddedKafka implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedKafka.class);

  private final Path logDir;
  private final String host;
  private final int port;
  private final int controllerPort;
  private final Map<String, String> overrides;
  private KafkaRaftServer server;

  private EmbeddedKafka(Builder b) {
    this.logDir = b.dataDir.toAbsolutePath();
    this.host = b.host;
    this.port = b.port;
    this.controllerPort = b.controllerPort;
    this.overrides = Map.copyOf(b.overrides);
  }

  public static Builder builder(Path dataDir) {
    return new Builder(dataDir);
  }

  /** Formats the log directory if this is its first start, starts the broker and waits until it answers. */
  public EmbeddedKafka start() {
    if (server != null) {
      throw new IllegalStateException("already started");
    }
    KafkaConfig config = new KafkaConfig(brokerProperties(), false);
    try {
      Files.createDirectories(logDir);
      if (!Files.exists(logDir.resolve("meta.properties"))) {
        format(config);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("could not prepare Kafka's data directory " + logDir, e);
    }
    server = new KafkaRaftServer(config, Time.SYSTEM);
    server.startup();
    awaitReady(Duration.ofSeconds(60));
    LOG.info("Kafka broker listening on {} (data in {})", bootstrapServers(), logDir);
    return this;
  }

  private void format(KafkaConfig config) {
    try {
      new Formatter()
          .setPrintStream(new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))
          .setNodeId(config.nodeId())
          .setClusterId(Uuid.randomUuid().toString())
          .setControllerListenerName("CONTROLLER")
          .setMetadataLogDirectory(logDir.toString())
          .setDirectories(java.util.List.of(logDir.toString()))
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setUnstableFeatureVersionsEnabled(false)
          .run();
    } catch (Exception e) {
      throw new IllegalStateException("could not format Kafka's log directory " + logDir + ": " + e.getMessage(), e);
    }
  }

  private Properties brokerProperties() {
    Properties p = new Properties();
    p.put("process.roles", "broker,controller");
    p.put("node.id", "1");
    p.put("controller.quorum.voters", "1@" + host + ":" + controllerPort);
    p.put("listeners", "PLAINTEXT://" + host + ":" + port + ",CONTROLLER://" + host + ":" + controllerPort);
    p.put("advertised.listeners", "PLAINTEXT://" + host + ":" + port);
    p.put("controller.listener.names", "CONTROLLER");
    p.put("inter.broker.listener.name", "PLAINTEXT");
    p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
    p.put("log.dirs", logDir.toString());
    // One node: every internal topic has one replica. Fewer partitions than the defaults keep
    // the first consumer group and the first transaction fast on a small machine.
    p.put("offsets.topic.replication.factor", "1");
    p.put("offsets.topic.num.partitions", "6");
    p.put("transaction.state.log.replication.factor", "1");
    p.put("transaction.state.log.min.isr", "1");
    p.put("transaction.state.log.num.partitions", "6");
    p.put("share.coordinator.state.topic.replication.factor", "1");
    p.put("share.coordinator.state.topic.min.isr", "1");
    p.put("group.initial.rebalance.delay.ms", "0");
    p.put("num.partitions", String.valueOf(LedgerTopics.EVENT_PARTITIONS));
    p.putAll(overrides);
    return p;
  }

  private void awaitReady(Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers(),
          AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 5000))) {
        if (!admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).isEmpty()) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while waiting for the broker", e);
      } catch (Exception e) {
        last = e;
      }
    }
    throw new IllegalStateException("the embedded Kafka broker did not answer on " + bootstrapServers() + " within " + timeout, last);
  }

  /** The {@code bootstrap.servers} value for clients of this broker. */
  public String bootstrapServers() {
    return host + ":" + port;
  }

  public Path dataDir() {
    return logDir;
  }

  /** Stops the broker cleanly (controlled shutdown, logs flushed) and waits until it has stopped. */
  @Override
  public void close() {
    if (server == null) {
      return;
    }
    server.shutdown();
    server.awaitShutdown();
    server = null;
    LOG.info("Kafka broker on {} stopped", bootstrapServers());
  }

  /** Options of an {@link EmbeddedKafka}; every field has a default that suits one machine. */
  public static final class Builder {
    private final Path dataDir;
    private String host = "localhost";
    private int port = 9092;
    private int controllerPort = 9093;
    private final Map<String, String> overrides = new HashMap<>();

    private Builder(Path dataDir) {
      this.dataDir = dataDir;
    }

    /** Host name the broker binds to and advertises (default localhost). */
    public Builder host(String host) {
      this.host = host;
      return this;
    }

    /** Client port (default 9092). */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** KRaft controller port (default 9093). */
    public Builder controllerPort(int controllerPort) {
      this.controllerPort = controllerPort;
      return this;
    }

    /** Any broker setting, passed through as is. */
    public Builder brokerProperty(String key, String value) {
      overrides.put(key, value);
      return this;
    }

    public EmbeddedKafka build() {
      return new EmbeddedKafka(this);
    }
  }
}
