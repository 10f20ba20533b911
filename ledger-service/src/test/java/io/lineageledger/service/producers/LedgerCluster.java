package io.lineageledger.service.producers;

import io.lineageledger.infra.FreePorts;
import io.lineageledger.service.LedgerNode;
import io.lineageledger.projections.detect.DetectorSettings;
import java.nio.file.Path;
import java.util.Map;

/**
 * An embedded ledger (real KRaft broker + registry) on fixed ports for CLI tests, which can be
 * stopped and started again on the same data and ports to simulate a broker outage.
 */
final class LedgerCluster implements AutoCloseable {
  private final Path dataDir;
  private final int kafkaPort = FreePorts.next();
  private final int controllerPort = FreePorts.next();
  private final int registryPort = FreePorts.next();
  private final int httpPort = FreePorts.next();
  private final DetectorSettings detectors;
  private LedgerNode node;

  LedgerCluster(Path dataDir) {
    this(dataDir, DetectorSettings.DEFAULTS);
  }

  LedgerCluster(Path dataDir, DetectorSettings detectors) {
    this.dataDir = dataDir;
    this.detectors = detectors;
  }

  LedgerCluster start() {
    node = LedgerNode.start(new LedgerNode.Settings(dataDir, "localhost", kafkaPort, controllerPort, registryPort, httpPort, null, null)
        .withDetectors(detectors));
    return this;
  }

  void stop() {
    if (node != null) {
      node.close();
      node = null;
    }
  }

  String bootstrapServers() {
    return "localhost:" + kafkaPort;
  }

  String registryUrl() {
    return "http://localhost:" + registryPort;
  }

  String apiUrl() {
    return "http://localhost:" + httpPort;
  }

  /** The environment a ledger command needs to reach this cluster. */
  Map<String, String> env() {
    return Map.of("LEDGER_BOOTSTRAP_SERVERS", bootstrapServers(), "LEDGER_SCHEMA_REGISTRY_URL", registryUrl(), "LEDGER_API_URL", apiUrl());
  }

  @Override
  public void close() {
    stop();
  }
}
