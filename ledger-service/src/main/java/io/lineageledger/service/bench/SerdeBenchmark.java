package io.lineageledger.service.bench;

import io.lineageledger.infra.LedgerTopics;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ProducerInfo;
import io.lineageledger.events.StepSummary;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.io.PrintWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntFunction;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Publishing {@code StepSummary} envelopes through the ledger serde, against a raw Kafka producer
 * sending {@code byte[]} records of the same sizes and keys, with the same producer settings, in
 * the same run. Rounds alternate which side goes first; the median of each side is reported and
 * the ratio is ledger / raw.
 */
@Command(name = "serde", mixinStandardHelpOptions = true,
    description = "Ledger serde publishing throughput as a ratio of raw Kafka producer throughput.")
public final class SerdeBenchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--records", defaultValue = "400000", description = "Records per round and side (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--rounds", defaultValue = "6", description = "Measured rounds per side (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--warmup-records", defaultValue = "1000000", description = "Records per side before measuring (default: ${DEFAULT-VALUE}).")
  int warmupRecords;

  @Mixin
  BenchOptions options;

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    PrintWriter out = spec.commandLine().getOut();
    try (BenchCluster cluster = options.cluster()) {
      String suffix = UUID.randomUUID().toString().substring(0, 8);
      String rawTopic = "bench.raw." + suffix;
      String ledgerTopic = "bench.ledger." + suffix;
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers))) {
        LedgerTopics.ensure(admin, List.of(new NewTopic(rawTopic, 6, (short) 1), new NewTopic(ledgerTopic, 6, (short) 1)));
        try {
          return run(cluster, rawTopic, ledgerTopic, out);
        } finally {
          admin.deleteTopics(List.of(rawTopic, ledgerTopic)).all().get(60, TimeUnit.SECONDS);
        }
      }
    }
  }

  private int run(BenchCluster cluster, String rawTopic, String ledgerTopic, PrintWriter out) throws Exception {
    List<EventEnvelope> envelopes = envelopes(1024);
    RestSchemaRegistryClient registry = new RestSchemaRegistryClient(cluster.schemaRegistryUrl);
    LedgerAvroSerializer<EventEnvelope> sizing = new LedgerAvroSerializer<>(registry);
    List<byte[]> rawValues = new ArrayList<>();
    Random random = new Random(7);
    long totalBytes = 0;
    for (EventEnvelope e : envelopes) {
      byte[] value = new byte[sizing.serialize(ledgerTopic, e).length];
      random.nextBytes(value);
      rawValues.add(value);
      totalBytes += value.length;
    }
    double meanBytes = (double) totalBytes / envelopes.size();

    List<Double> raw = new ArrayList<>();
    List<Double> ledger = new ArrayList<>();
    try (Producer<String, byte[]> rawProducer = new KafkaProducer<>(producerProperties(cluster), new StringSerializer(), new ByteArraySerializer());
         Producer<String, EventEnvelope> ledgerProducer = new KafkaProducer<>(producerProperties(cluster), new StringSerializer(),
             new LedgerAvroSerializer<>(registry))) {
      IntFunction<ProducerRecord<String, byte[]>> rawRecord = i -> new ProducerRecord<>(rawTopic,
          envelopes.get(i & 1023).getSubject(), rawValues.get(i & 1023));
      IntFunction<ProducerRecord<String, EventEnvelope>> ledgerRecord = i -> {
        EventEnvelope e = envelopes.get(i & 1023);
        return new ProducerRecord<>(ledgerTopic, e.getSubject(), e);
      };
      publish(rawProducer, rawRecord, warmupRecords);
      publish(ledgerProducer, ledgerRecord, warmupRecords);
      for (int r = 0; r < rounds; r++) {
        if (r % 2 == 0) {
          raw.add(publish(rawProducer, rawRecord, records));
          ledger.add(publish(ledgerProducer, ledgerRecord, records));
        } else {
          ledger.add(publish(ledgerProducer, ledgerRecord, records));
          raw.add(publish(rawProducer, rawRecord, records));
        }
      }
    }
    double rawMedian = BenchOptions.median(raw);
    double ledgerMedian = BenchOptions.median(ledger);
    double ratio = ledgerMedian / rawMedian;
    // Each round runs both sides back to back, so a per-round ratio cancels slow drifts of the
    // machine (JIT, page cache, log segment rolls) that the medians alone do not.
    List<Double> paired = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      paired.add(ledger.get(r) / raw.get(r));
    }
    double pairedMedian = BenchOptions.median(paired);
    if (options.json()) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("benchmark", "serde");
      result.put("records_per_round", records);
      result.put("rounds", rounds);
      result.put("mean_record_bytes", meanBytes);
      result.put("broker", cluster.embedded ? "embedded" : cluster.bootstrapServers);
      result.put("raw_records_per_s", raw);
      result.put("ledger_records_per_s", ledger);
      result.put("raw_median_records_per_s", rawMedian);
      result.put("ledger_median_records_per_s", ledgerMedian);
      result.put("ratio", ratio);
      result.put("paired_ratios", paired);
      result.put("paired_ratio_median", pairedMedian);
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
    } else {
      out.printf("serde benchmark: %,d StepSummary envelopes per round (%.0f bytes each on average), %d rounds, broker %s%n",
          records, meanBytes, rounds, cluster.embedded ? "embedded (" + cluster.bootstrapServers + ")" : cluster.bootstrapServers);
      out.printf("  raw producer (byte[])   %,12.0f records/s  %7.1f MB/s   rounds %s%n", rawMedian, rawMedian * meanBytes / 1e6, rounded(raw));
      out.printf("  ledger serde (Avro)     %,12.0f records/s  %7.1f MB/s   rounds %s%n", ledgerMedian, ledgerMedian * meanBytes / 1e6, rounded(ledger));
      out.printf("  ratio ledger / raw      %.3f   (median of per-round ratios %.3f)%n", ratio, pairedMedian);
    }
    out.flush();
    return 0;
  }

  static <V> double publish(Producer<String, V> producer, IntFunction<ProducerRecord<String, V>> record, int n) {
    AtomicLong failures = new AtomicLong();
    AtomicReference<Exception> firstFailure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      producer.send(record.apply(i), (metadata, e) -> {
        if (e != null) {
          failures.incrementAndGet();
          firstFailure.compareAndSet(null, e);
        }
      });
    }
    producer.flush();
    long elapsed = System.nanoTime() - start;
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " sends failed during the benchmark; first: " + firstFailure.get(), firstFailure.get());
    }
    return n / (elapsed / 1e9);
  }

  private static Properties producerProperties(BenchCluster cluster) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, "131072");
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(128L * 1024 * 1024));
    return p;
  }

  static List<EventEnvelope> envelopes(int n) {
    SplittableRandom random = new SplittableRandom(42);
    List<EventEnvelope> list = new ArrayList<>(n);
    Instant t0 = Instant.parse("2026-11-20T10:00:00Z");
    for (int i = 0; i < n; i++) {
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("lr", 3e-4 * random.nextDouble());
      metrics.put("grad_norm", random.nextDouble() * 2);
      metrics.put("tokens_per_s", 150_000 + random.nextDouble() * 50_000);
      metrics.put("mfu", random.nextDouble() * 0.5);
      list.add(EventEnvelope.newBuilder()
          .setEventId(new UUID(0x0193a3f07c1e7000L | (i >>> 12), 0x8000000000000000L | random.nextLong(1L << 62)).toString())
          .setOccurredAt(t0.plusMillis(i * 10L))
          .setSubject("run:bench-" + (i % 16))
          .setProducer(ProducerInfo.newBuilder().setId("bench-producer").setName("ledger-bench").setVersion("1").setHost("localhost").setSeq(i).build())
          .setPayload(StepSummary.newBuilder().setStep(i).setEpoch(0).setStepsCovered(10).setLoss(4 * random.nextDouble())
              .setMetrics(metrics).setTokensSeen(i * 4096L).setSamplesSeen(i * 32L).build())
          .build());
    }
    return list;
  }


  private static String rounded(List<Double> values) {
    return values.stream().map(v -> String.format("%,.0f", v)).toList().toString();
  }
}
