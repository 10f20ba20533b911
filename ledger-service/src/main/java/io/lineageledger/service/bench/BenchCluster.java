package io.lineageledger.service.bench;

import io.lineageledger.infra.FreePorts;
import io.lineageledger.service.LedgerNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The Kafka cluster and registry a benchmark runs against: the ones given on the command line,
 * or a throw-away embedded ledger in a temporary directory on free ports.
 */
final class BenchCluster implements AutoCloseable {
  private final LedgerNode node;
  private final Path tempDir;
  final String bootstrapServers;
  final String schemaRegistryUrl;
  final boolean embedded;

  BenchCluster(String bootstrapServers, String schemaRegistryUrl) {
    if (bootstrapServers != null && schemaRegistryUrl != null) {
      this.node = null;
      this.tempDir = null;
      this.bootstrapServers = bootstrapServers;
      this.schemaRegistryUrl = schemaRegistryUrl;
      this.embedded = false;
      return;
    }
    try {
      tempDir = Files.createTempDirectory("ledger-bench");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    node = LedgerNode.start(new LedgerNode.Settings(tempDir, "localhost", FreePorts.next(), FreePorts.next(), 0, 0,
        bootstrapServers, schemaRegistryUrl, false)); // no projections: they would compete with what is measured
    this.bootstrapServers = node.bootstrapServers();
    this.schemaRegistryUrl = node.schemaRegistryUrl();
    this.embedded = bootstrapServers == null;
  }

  @Override
  public void close() {
    if (node != null) {
      node.close();
    }
    if (tempDir != null) {
      BenchOptions.deleteTree(tempDir);
    }
  }
}
