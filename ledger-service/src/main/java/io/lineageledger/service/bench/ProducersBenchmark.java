package io.lineageledger.service.bench;

import io.lineageledger.infra.LedgerTopics;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.Receipt;
import io.lineageledger.producers.ndjson.NdjsonProtocol;
import io.lineageledger.producers.ndjson.NdjsonPublisher;
import io.lineageledger.producers.ndjson.RejectsFile;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroSerializer;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
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
 * The producers against raw Kafka in the same run: the Java {@link LedgerClient} publishing
 * {@code StepSummary} events through its typed method, and the {@code ledger emit} pipeline
 * (an NDJSON file read, parsed, validated and published through {@link NdjsonPublisher}),
 * each against a plain {@code KafkaProducer} sending {@code byte[]} records of the same sizes
 * and keys with the client's producer settings (acks=all, idempotent, linger.ms=5, batch.size=128 KiB,
 * buffer.memory=8 MiB). Rounds
 * rotate which side goes first; ratios are side / raw, of the medians and per round.
 */
@Command(name = "producers", mixinStandardHelpOptions = true,
    description = "Java client and `ledger emit` throughput as ratios of raw Kafka producer throughput.")
public final class ProducersBenchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Option(names = "--records", defaultValue = "1000000", description = "Events per round and side (default: ${DEFAULT-VALUE}).")
  int records;

  @Option(names = "--rounds", defaultValue = "6", description = "Measured rounds per side (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--warmup-records", defaultValue = "400000", description = "Events per side and warm-up round (default: ${DEFAULT-VALUE}).")
  int warmupRecords;

  @Option(names = "--warmup-max-seconds", defaultValue = "120", description = "Warm up until the JIT is quiet (a round under 2%% compiling), at most this long (default: ${DEFAULT-VALUE}).")
  double warmupMaxSeconds;

  @Mixin
  BenchOptions options;

  private static final int SUBJECTS = 16;

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    Path work = Files.createTempDirectory("ledger-bench-producers");
    try (BenchCluster cluster = options.cluster()) {
      String suffix = UUID.randomUUID().toString().substring(0, 8);
      List<String> topics = List.of("bench.raw." + suffix, "bench.client." + suffix, "bench.emit." + suffix);
      try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers))) {
        LedgerTopics.ensure(admin, topics.stream().map(t -> new NewTopic(t, 6, (short) 1)).toList());
        try {
          return run(cluster, topics, work);
        } finally {
          admin.deleteTopics(topics).all().get(60, TimeUnit.SECONDS);
        }
      }
    } finally {
      BenchOptions.deleteTree(work);
    }
  }

  private int run(BenchCluster cluster, List<String> topics, Path work) throws Exception {
    List<StepSummary> payloads = payloads(1024);
    RestSchemaRegistryClient registry = new RestSchemaRegistryClient(cluster.schemaRegistryUrl);
    Map<Integer, Path> files = new java.util.HashMap<>();
    for (int n : new int[] {records, warmupRecords}) {
      Path f = work.resolve("events-" + n + ".ndjson");
      writeNdjson(f, payloads, n);
      files.put(n, f);
    }

    List<Double> raw = new ArrayList<>();
    List<Double> client = new ArrayList<>();
    List<Double> emit = new ArrayList<>();
    List<List<Double>> cpu = List.of(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
    BenchOptions.Warmup warmup;
    double meanBytes;
    try (LedgerClient clientSide = client(cluster, registry, topics.get(1), work.resolve("spool-client"));
         LedgerClient emitSide = client(cluster, registry, topics.get(2), work.resolve("spool-emit"));
         Producer<String, byte[]> rawProducer = new KafkaProducer<>(rawProperties(cluster), new StringSerializer(), new ByteArraySerializer())) {
      // Raw records have the sizes the client's envelopes serialize to.
      LedgerAvroSerializer<EventEnvelope> sizing = new LedgerAvroSerializer<>(registry);
      List<byte[]> rawValues = new ArrayList<>();
      Random random = new Random(7);
      long total = 0;
      for (int i = 0; i < payloads.size(); i++) {
        byte[] v = new byte[sizing.serialize(topics.get(0), clientSide.envelope(subject(i), payloads.get(i), null, null)).length];
        random.nextBytes(v);
        rawValues.add(v);
        total += v.length;
      }
      meanBytes = (double) total / payloads.size();
      IntFunction<ProducerRecord<String, byte[]>> rawRecord = i -> new ProducerRecord<>(topics.get(0), subject(i), rawValues.get(i & 1023));

      List<BenchOptions.Side> sides = List.of(
          n -> SerdeBenchmark.publish(rawProducer, rawRecord, n),
          n -> publishClient(clientSide, payloads, n),
          n -> publishEmit(emitSide, files.get(n), n, work));
      warmup = BenchOptions.warmUp(sides, warmupRecords, 1, warmupMaxSeconds);
      List<List<Double>> results = List.of(raw, client, emit);
      for (int r = 0; r < rounds; r++) {
        for (int k = 0; k < 3; k++) {
          int side = (r + k) % 3;
          long cpu0 = BenchOptions.processCpuNanos();
          results.get(side).add(sides.get(side).run(records));
          cpu.get(side).add((BenchOptions.processCpuNanos() - cpu0) / 1e3 / records);
        }
      }
    }
    report(cluster, meanBytes, warmup, raw, client, emit, cpu);
    return 0;
  }

  /**
   * Publishes as a training job does: one call per event, nothing waiting on each receipt. Like
   * the raw side, which only looks at errors, it checks the outcome of every event in bulk: the
   * client's counts after the flush.
   */
  private static double publishClient(LedgerClient client, List<StepSummary> payloads, int n) {
    LedgerClient.Stats before = client.stats();
    long start = System.nanoTime();
    for (int i = 0; i < n; i++) {
      client.stepSummary(run(i), payloads.get(i & 1023));
    }
    client.flush();
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
    while (client.stats().settled() - before.settled() < n) { // spooled ones settle after the flush
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("only " + (client.stats().settled() - before.settled()) + " of " + n + " events settled within 2 minutes");
      }
      Thread.onSpinWait();
    }
    long elapsed = System.nanoTime() - start;
    LedgerClient.Stats after = client.stats();
    if (after.failed() > before.failed()) {
      throw new IllegalStateException((after.failed() - before.failed()) + " publishes failed during the benchmark");
    }
    if (after.spooled() > before.spooled()) {
      throw new IllegalStateException((after.spooled() - before.spooled()) + " events went to the spool during the benchmark: the broker did not keep up");
    }
    return n / (elapsed / 1e9);
  }

  private static double publishEmit(LedgerClient client, Path file, int n, Path work) throws IOException {
    PrintStream errors = new PrintStream(OutputStream.nullOutputStream());
    NdjsonPublisher publisher = new NdjsonPublisher(client, new NdjsonProtocol(), new RejectsFile(work.resolve("rejects.ndjson")), errors, "bench");
    long start = System.nanoTime();
    try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      publisher.readAll(in); // what `ledger emit FILE` runs
    }
    NdjsonPublisher.Summary summary = publisher.finish();
    long elapsed = System.nanoTime() - start;
    if (summary.published() != n) {
      throw new IllegalStateException("emit published " + summary.published() + " of " + n + " lines (" + summary.spooled()
          + " spooled, " + summary.rejected() + " rejected)");
    }
    return n / (elapsed / 1e9);
  }

  private static LedgerClient client(BenchCluster cluster, RestSchemaRegistryClient registry, String topic, Path spool) {
    // A 5 s max.block lets the producer's back-pressure, not the spool, absorb a burst larger than buffer.memory.
    return LedgerClient.builder().bootstrapServers(cluster.bootstrapServers).schemaRegistry(registry).topic(topic)
        .spool(spool, 1L << 30).maxBlock(Duration.ofSeconds(5)).build();
  }

  private static Properties rawProperties(BenchCluster cluster) {
    Properties p = new Properties();
    p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers);
    p.put(ProducerConfig.ACKS_CONFIG, "all");
    p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
    p.put(ProducerConfig.LINGER_MS_CONFIG, "5");
    p.put(ProducerConfig.BATCH_SIZE_CONFIG, String.valueOf(128 * 1024)); // LedgerClient's default
    p.put(ProducerConfig.BUFFER_MEMORY_CONFIG, String.valueOf(LedgerClient.DEFAULT_BUFFER_MEMORY));
    return p;
  }

  // Built once: each side pays for its own keys, not for the benchmark's string building.
  private static final String[] RUN_IDS = java.util.stream.IntStream.range(0, SUBJECTS).mapToObj(i -> "bench-" + i).toArray(String[]::new);
  private static final String[] RUN_SUBJECTS = java.util.Arrays.stream(RUN_IDS).map(r -> "run:" + r).toArray(String[]::new);

  private static String run(int i) {
    return RUN_IDS[i % SUBJECTS];
  }

  private static String subject(int i) {
    return RUN_SUBJECTS[i % SUBJECTS];
  }

  static List<StepSummary> payloads(int n) {
    SplittableRandom random = new SplittableRandom(42);
    List<StepSummary> list = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Map<String, Double> metrics = new LinkedHashMap<>();
      metrics.put("lr", 3e-4 * random.nextDouble());
      metrics.put("grad_norm", random.nextDouble() * 2);
      metrics.put("tokens_per_s", 150_000 + random.nextDouble() * 50_000);
      list.add(StepSummary.newBuilder().setStep(i).setStepsCovered(10).setLoss(4 * random.nextDouble()).setMetrics(metrics)
          .setTokensSeen(i * 4096L).setSamplesSeen(i * 32L).build());
    }
    return list;
  }

  /** The same events as NDJSON lines, as a trainer would write them. */
  private static void writeNdjson(Path file, List<StepSummary> payloads, int n) throws IOException {
    ObjectMapper json = new ObjectMapper();
    try (var out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
      for (int i = 0; i < n; i++) {
        StepSummary s = payloads.get(i & 1023);
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("type", "step_summary");
        line.put("run_id", run(i));
        line.put("step", s.getStep());
        line.put("steps_covered", s.getStepsCovered());
        line.put("loss", s.getLoss());
        line.put("metrics", s.getMetrics());
        line.put("tokens_seen", s.getTokensSeen());
        line.put("samples_seen", s.getSamplesSeen());
        out.write(json.writeValueAsString(line));
        out.write('\n');
      }
    }
  }

  private void report(BenchCluster cluster, double meanBytes, BenchOptions.Warmup warmup, List<Double> raw, List<Double> client,
      List<Double> emit, List<List<Double>> cpu) throws Exception {
    PrintWriter out = spec.commandLine().getOut();
    double rawMedian = BenchOptions.median(raw);
    double clientRatio = BenchOptions.median(client) / rawMedian;
    double emitRatio = BenchOptions.median(emit) / rawMedian;
    List<Double> clientPaired = new ArrayList<>();
    List<Double> emitPaired = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      clientPaired.add(client.get(r) / raw.get(r));
      emitPaired.add(emit.get(r) / raw.get(r));
    }
    if (options.json()) {
      Map<String, Object> result = new LinkedHashMap<>();
      result.put("benchmark", "producers");
      result.put("records_per_round", records);
      result.put("rounds", rounds);
      result.put("mean_record_bytes", meanBytes);
      result.put("broker", cluster.embedded ? "embedded" : cluster.bootstrapServers);
      result.put("warmup_rounds", warmup.rounds());
      result.put("warmup_seconds", warmup.seconds());
      result.put("warmup_last_round_compile_share", warmup.lastCompileShare());
      result.put("raw_records_per_s", raw);
      result.put("client_records_per_s", client);
      result.put("emit_records_per_s", emit);
      result.put("raw_median_records_per_s", rawMedian);
      result.put("client_median_records_per_s", BenchOptions.median(client));
      result.put("emit_median_records_per_s", BenchOptions.median(emit));
      result.put("client_ratio", clientRatio);
      result.put("emit_ratio", emitRatio);
      result.put("client_paired_ratio_median", BenchOptions.median(clientPaired));
      result.put("emit_paired_ratio_median", BenchOptions.median(emitPaired));
      result.put("raw_cpu_us_per_event", BenchOptions.median(cpu.get(0)));
      result.put("client_cpu_us_per_event", BenchOptions.median(cpu.get(1)));
      result.put("emit_cpu_us_per_event", BenchOptions.median(cpu.get(2)));
      out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(result));
    } else {
      out.printf("producers benchmark: %,d StepSummary events per round and side (%.0f bytes each on the wire), %d rounds, broker %s%n",
          records, meanBytes, rounds, cluster.embedded ? "embedded (" + cluster.bootstrapServers + ")" : cluster.bootstrapServers);
      out.printf("  warm-up: %d rounds in %.0f s (last round %.1f%% compiling)%n", warmup.rounds(), warmup.seconds(), 100 * warmup.lastCompileShare());
      out.printf("  raw producer (byte[])        %,12.0f events/s   %5.2f us CPU/event%n", rawMedian, BenchOptions.median(cpu.get(0)));
      out.printf("  Java client (LedgerClient)   %,12.0f events/s   %5.2f us CPU/event   ratio %.3f (per-round median %.3f)%n",
          BenchOptions.median(client), BenchOptions.median(cpu.get(1)), clientRatio, BenchOptions.median(clientPaired));
      out.printf("  ledger emit (NDJSON file)    %,12.0f events/s   %5.2f us CPU/event   ratio %.3f (per-round median %.3f)%n",
          BenchOptions.median(emit), BenchOptions.median(cpu.get(2)), emitRatio, BenchOptions.median(emitPaired));
    }
    out.flush();
  }

}
