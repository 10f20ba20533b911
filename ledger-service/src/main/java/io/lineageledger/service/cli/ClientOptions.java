package io.lineageledger.service.cli;

import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.ndjson.RejectsFile;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Options shared by the commands that publish events ({@code emit}, {@code run}, {@code ship}):
 * where the cluster and registry are, where the spool and the rejects file live, and Kafka
 * settings passed through. Defaults come from {@code LEDGER_*} environment variables.
 */
public final class ClientOptions {
  @Option(names = "--bootstrap-servers", defaultValue = "${env:LEDGER_BOOTSTRAP_SERVERS:-localhost:9092}",
      description = "Kafka bootstrap servers (env LEDGER_BOOTSTRAP_SERVERS; default: ${DEFAULT-VALUE}).")
  String bootstrapServers;

  @Option(names = "--schema-registry-url", defaultValue = "${env:LEDGER_SCHEMA_REGISTRY_URL:-http://localhost:8081}",
      description = "Schema registry URL (env LEDGER_SCHEMA_REGISTRY_URL; default: ${DEFAULT-VALUE}).")
  String schemaRegistryUrl;

  @Option(names = "--spool-dir", defaultValue = "${env:LEDGER_SPOOL_DIR:-.ledger/spool}",
      description = "Where events wait while the broker is unreachable (env LEDGER_SPOOL_DIR; default: ${DEFAULT-VALUE}).")
  Path spoolDir;

  @Option(names = "--spool-max-bytes", defaultValue = "${env:LEDGER_SPOOL_MAX_BYTES:-1073741824}",
      description = "Size bound of the spool; beyond it publishing fails with a clear error (default: ${DEFAULT-VALUE}).")
  long spoolMaxBytes;

  @Option(names = "--rejects", description = "File that keeps lines that could not be published (default: rejects.ndjson next to the spool directory).")
  Path rejects;

  @Option(names = {"-k", "--kafka-property"}, paramLabel = "KEY=VALUE",
      description = "A Kafka producer setting passed through, for example -k security.protocol=SSL; repeatable.")
  Map<String, String> kafkaProperties = new LinkedHashMap<>();

  Path spoolDir() {
    return spoolDir.toAbsolutePath().normalize();
  }

  RejectsFile rejectsFile() {
    Path spool = spoolDir();
    return new RejectsFile(rejects != null ? rejects.toAbsolutePath() : spool.resolveSibling("rejects.ndjson"));
  }

  Map<String, Object> kafka() {
    Map<String, Object> m = new LinkedHashMap<>(kafkaProperties);
    m.put("bootstrap.servers", bootstrapServers);
    return m;
  }

  LedgerClient client(String producerName) {
    LedgerClient.Builder b = LedgerClient.builder()
        .bootstrapServers(bootstrapServers)
        .schemaRegistryUrl(schemaRegistryUrl)
        .spool(spoolDir(), spoolMaxBytes)
        .producerIdentity(java.util.UUID.randomUUID().toString(), producerName, LedgerCli.version());
    kafkaProperties.forEach(b::kafkaProperty);
    return b.build();
  }
}
