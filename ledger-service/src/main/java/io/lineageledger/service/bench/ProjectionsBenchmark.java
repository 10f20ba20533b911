package io.lineageledger.service.bench;

import io.lineageledger.infra.LedgerTopics;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.projections.BulkRebuild;
import io.lineageledger.projections.run.RunStateCodec;
import io.lineageledger.projections.run.RunStateProjection;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.service.query.LedgerStreams;
import io.lineageledger.service.query.StoreUnavailableException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger bench projections}: how fast the projections rebuild from the log, against how
 * fast a plain consumer reads the same topic in the same run; and how long an event takes from
 * {@code publish} to being visible to queries, at a steady rate.
 */
@Command(name = "projections", mixinStandardHelpOptions = true,
    description = "Rebuild throughput vs raw consumer read rate of the same topic; produce-to-queryable latency at a fixed rate.")
public final class ProjectionsBenchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  BenchOptions options;

  @Option(names = "--events", defaultValue = "500000", description = "Events in the topic that is rebuilt (default: ${DEFAULT-VALUE}).")
  int events;

  @Option(names = "--runs", defaultValue = "100", description = "Runs the events belong to (default: ${DEFAULT-VALUE}).")
  int runs;

  @Option(names = "--rounds", defaultValue = "3", description = "Rebuilds and raw reads, alternating (default: ${DEFAULT-VALUE}).")
  int rounds;

  @Option(names = "--latency-rate", defaultValue = "10000", description = "Events per second while latency is measured (default: ${DEFAULT-VALUE}).")
  int latencyRate;

  @Option(names = "--latency-seconds", defaultValue = "10", description = "How long latency is measured (default: ${DEFAULT-VALUE}).")
  int latencySeconds;

  @Option(names = "--latency-warmup-seconds", defaultValue = "5",
      description = "Seconds published at the rate before latency is measured (default: ${DEFAULT-VALUE}): the first"
          + " transactions, fetch sessions and JIT compilation of a fresh application are not its steady state.")
  int latencyWarmupSeconds;

  @Option(names = "--streams-property", paramLabel = "KEY=VALUE",
      description = "A Kafka Streams setting for the measured applications (repeatable), e.g. commit.interval.ms=500.")
  Map<String, String> streamsProperties = new HashMap<>();

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    PrintWriter out = spec.commandLine().getOut();
    Path work = Files.createTempDirectory("ledger-bench-projections");
    try (BenchCluster cluster = options.cluster();
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers))) {
      String suffix = UUID.randomUUID().toString().substring(0, 8);
      String topic = "bench.projections." + suffix;
      String dlq = topic + ".dlq";
      String edges = topic + ".lineage";
      LedgerTopics.ensure(admin, List.of(new NewTopic(topic, 6, (short) 1), new NewTopic(dlq, 1, (short) 1), new NewTopic(edges, 6, (short) 1)
          .configs(Map.of("cleanup.policy", "compact"))));
      try {
        return run(cluster, admin, topic, dlq, work, out);
      } finally {
        admin.deleteTopics(List.of(topic, dlq, edges)).all().get(60, TimeUnit.SECONDS);
      }
    } finally {
      BenchOptions.deleteTree(work);
    }
  }

  private int run(BenchCluster cluster, Admin admin, String topic, String dlq, Path work, PrintWriter out) throws Exception {
    RestSchemaRegistryClient registry = new RestSchemaRegistryClient(cluster.schemaRegistryUrl);
    LedgerAvroDeserializer<EventEnvelope> envelopes = new LedgerAvroDeserializer<>(registry, EventEnvelope.class);
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(cluster.bootstrapServers).schemaRegistry(registry)
        .topic(topic).producerIdentity("bench-projections", "bench", "1")
        .maxBlock(BenchOptions.FILL_MAX_BLOCK).deliveryTimeout(BenchOptions.FILL_DELIVERY_TIMEOUT).build()) {
      // Runs training side by side, each summarizing its steps in order, as trainers do.
      List<StepSummary> payloads = ProducersBenchmark.payloads(1024);
      for (int i = 0; i < events; i++) {
        StepSummary p = payloads.get(i & 1023);
        client.stepSummary("bench-" + (i % runs), StepSummary.newBuilder(p).setStep(i / runs).build());
      }
      client.flush();
      BenchOptions.requireAllPublished(client);
    }
    Map<TopicPartition, Long> end = endOffsets(admin, topic);
    long total = end.values().stream().mapToLong(Long::longValue).sum();

    List<Double> raw = new ArrayList<>();
    List<Double> rebuild = new ArrayList<>();
    List<Double> steady = new ArrayList<>();
    List<Double> rawCpu = new ArrayList<>();
    List<Double> rebuildCpu = new ArrayList<>();
    List<Double> bulkSeconds = new ArrayList<>();
    List<Double> startSeconds = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      long cpu = BenchOptions.processCpuNanos();
      raw.add(rawRead(cluster.bootstrapServers, end, total));
      rawCpu.add((BenchOptions.processCpuNanos() - cpu) / 1e3 / total);
      cpu = BenchOptions.processCpuNanos();
      Rebuild measured = rebuild(cluster, admin, envelopes, topic, dlq, work, end, total, r);
      rebuildCpu.add((BenchOptions.processCpuNanos() - cpu) / 1e3 / total);
      rebuild.add(measured.eventsPerSecond());
      steady.add(measured.steadyEventsPerSecond());
      bulkSeconds.add(measured.bulkSeconds());
      startSeconds.add(measured.startSeconds());
    }
    Latency latency = latency(cluster, admin, registry, envelopes, topic, dlq, work);
    report(out, cluster, total, raw, rebuild, steady, BenchOptions.median(rawCpu), BenchOptions.median(rebuildCpu),
        BenchOptions.median(bulkSeconds), BenchOptions.median(startSeconds), latency);
    return 0;
  }

  private static Map<TopicPartition, Long> endOffsets(Admin admin, String topic) throws Exception {
    int partitions = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic).partitions().size();
    Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
    for (int p = 0; p < partitions; p++) {
      latest.put(new TopicPartition(topic, p), OffsetSpec.latest());
    }
    Map<TopicPartition, Long> end = new HashMap<>();
    admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
    return end;
  }

  /** A plain byte[] consumer reading every partition from 0 to its end: the reference. */
  private static double rawRead(String bootstrap, Map<TopicPartition, Long> end, long total) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed"); // as the projections read
    long start = System.nanoTime();
    long read = 0;
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
      consumer.assign(end.keySet());
      consumer.seekToBeginning(end.keySet());
      while (read < total) {
        ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(100));
        read += records.count();
      }
    }
    return total / ((System.nanoTime() - start) / 1e9);
  }

  /**
   * A rebuild's rate over the whole topic, from its start to the rebuilt application serving
   * every partition; over the part done after the first tenth, which leaves start-up out; and how
   * its time split between the bulk fold and the application's start (restoring the stores).
   */
  record Rebuild(double eventsPerSecond, double steadyEventsPerSecond, double bulkSeconds, double startSeconds) {}

  /**
   * A rebuild as {@code ledger rebuild} does it: the bulk fold from offset 0 under a fresh
   * application id, then that application, until it has restored its stores and serves every
   * partition with the whole topic committed.
   */
  private Rebuild rebuild(BenchCluster cluster, Admin admin, LedgerAvroDeserializer<EventEnvelope> envelopes, String topic,
                                String dlq, Path work, Map<TopicPartition, Long> end, long total, int round) throws Exception {
    String appId = topic + "-rebuild-" + round;
    long start = System.nanoTime();
    long[] tenth = new long[2]; // when, and how many offsets were done then
    new BulkRebuild(cluster.bootstrapServers, topic, topic + ".lineage", envelopes).load(appId, end, done -> {
      if (tenth[0] == 0 && done >= total / 10) {
        tenth[0] = System.nanoTime();
        tenth[1] = done;
      }
    });
    long bulkDone = System.nanoTime();
    LedgerStreams streams = new LedgerStreams(appId, cluster.bootstrapServers, work.resolve("state"), null, envelopes, streamsProperties, topic, topic + ".lineage", dlq)
        .start();
    try {
      long deadline = start + TimeUnit.MINUTES.toNanos(10);
      long done;
      while ((done = committed(admin, appId, end)) < total || !streams.activeOnAll(end.size())) {
        if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR) {
          throw new IllegalStateException("the rebuild did not finish (" + streams.state() + ", " + done + " of " + total + " committed)");
        }
        if (tenth[0] == 0 && done >= total / 10) {
          tenth[0] = System.nanoTime();
          tenth[1] = done;
        }
        Thread.sleep(20);
      }
      long now = System.nanoTime();
      if (tenth[0] == 0) { // the whole topic at once
        tenth[0] = start;
      }
      return new Rebuild(total / ((now - start) / 1e9), (total - tenth[1]) / ((now - tenth[0]) / 1e9), (bulkDone - start) / 1e9,
          (now - bulkDone) / 1e9);
    } finally {
      discard(streams, admin);
    }
  }

  /** Stops a measured application and deletes its local state and consumer group. */
  private static void discard(LedgerStreams streams, Admin admin) {
    streams.close();
    streams.cleanUp();
    deleteGroup(admin, streams.applicationId());
  }

  private static void deleteGroup(Admin admin, String groupId) {
    try {
      admin.deleteConsumerGroups(List.of(groupId)).all().get(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      // a leftover group of a throw-away topic is harmless
    }
  }

  private static long committed(Admin admin, String groupId, Map<TopicPartition, Long> end) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
    long sum = 0;
    for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
      OffsetAndMetadata o = offsets.get(e.getKey());
      sum += o == null ? 0 : Math.min(o.offset(), e.getValue());
    }
    return sum;
  }

  record Latency(int events, double p50Ms, double p99Ms, double maxMs, double achievedRate) {}

  /**
   * Publishes one run's step summaries at a fixed rate through the Java client while another
   * thread reads the run's state from the store; an event's latency is from just before its
   * publish call to the first read that shows its step. The first {@code --latency-warmup-seconds}
   * of events are published the same way but not counted.
   */
  private Latency latency(BenchCluster cluster, Admin admin, RestSchemaRegistryClient registry, LedgerAvroDeserializer<EventEnvelope> envelopes,
                          String topic, String dlq, Path work) throws Exception {
    String appId = topic + "-live";
    LedgerStreams streams = new LedgerStreams(appId, cluster.bootstrapServers, work.resolve("state"), null, envelopes, streamsProperties, topic, topic + ".lineage", dlq)
        .start();
    int warm = latencyRate * latencyWarmupSeconds;
    int n = warm + latencyRate * latencySeconds;
    long[] sentAt = new long[n + 1];
    long[] seenAt = new long[n + 1];
    String subject = "run:latency";
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(cluster.bootstrapServers).schemaRegistry(registry)
        .topic(topic).producerIdentity("bench-latency", "bench", "1").build()) {
      // Wait until the application is running and its store answers.
      client.stepSummary("latency", StepSummary.newBuilder().setStep(0).setLoss(1.0).setMetrics(Map.of()).build());
      client.flush();
      long ready = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (latestStep(streams, subject) < 0) {
        if (System.nanoTime() > ready) {
          throw new IllegalStateException("the projections did not become queryable within 2 minutes");
        }
        Thread.sleep(20);
      }
      java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
      Thread reader = new Thread(() -> {
        long seen = 0;
        while (!stop.get() && seen < n) {
          long step = latestStep(streams, subject);
          long now = System.nanoTime();
          for (long s = seen + 1; s <= Math.min(step, n); s++) {
            seenAt[(int) s] = now;
          }
          seen = Math.max(seen, step);
          java.util.concurrent.locks.LockSupport.parkNanos(500_000); // a query every half millisecond, not a spinning core
        }
      }, "bench-latency-reader");
      reader.start();
      long start = System.nanoTime();
      long interval = 1_000_000_000L / latencyRate;
      for (int i = 1; i <= n; i++) {
        long due = start + i * interval;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          java.util.concurrent.locks.LockSupport.parkNanos(wait); // on a small machine a spinning publisher would starve the projections
        }
        sentAt[i] = System.nanoTime();
        client.stepSummary("latency", StepSummary.newBuilder().setStep(i).setLoss(1.0).setMetrics(Map.of()).build());
      }
      double achieved = (n - warm) / ((System.nanoTime() - sentAt[warm + 1]) / 1e9);
      client.flush();
      reader.join(TimeUnit.SECONDS.toMillis(60));
      stop.set(true);
      int measured = n - warm;
      double[] ms = new double[measured];
      for (int i = warm + 1; i <= n; i++) {
        if (seenAt[i] == 0) {
          throw new IllegalStateException("step " + i + " never became visible");
        }
        ms[i - warm - 1] = (seenAt[i] - sentAt[i]) / 1e6;
      }
      Arrays.sort(ms);
      return new Latency(measured, BenchOptions.percentile(ms, 0.50), BenchOptions.percentile(ms, 0.99), ms[measured - 1], achieved);
    } finally {
      discard(streams, admin);
    }
  }

  /** The latest step of a run in the run-state store, or -1 while there is none or the store cannot be read yet. */
  static long latestStep(LedgerStreams streams, String subject) {
    try {
      byte[] bytes = streams.<String, byte[]>store(RunStateProjection.STATE_STORE).get(subject);
      return bytes == null ? -1 : RunStateCodec.decode(bytes).latestStep();
    } catch (StoreUnavailableException | org.apache.kafka.streams.errors.InvalidStateStoreException e) {
      return -1;
    }
  }

  /**
   * {@code rawCpu} and {@code rebuildCpu}: the process's CPU time per event while each side ran,
   * in microseconds, broker included when it is embedded.
   */
  private void report(PrintWriter out, BenchCluster cluster, long total, List<Double> raw, List<Double> rebuild, List<Double> steady,
                      double rawCpu, double rebuildCpu, double bulkSeconds, double startSeconds, Latency latency) {
    double rawMedian = BenchOptions.median(raw);
    double rebuildMedian = BenchOptions.median(rebuild);
    double steadyMedian = BenchOptions.median(steady);
    if (options.json()) {
      ObjectMapper json = new ObjectMapper();
      ObjectNode r = json.createObjectNode();
      r.put("benchmark", "projections");
      r.put("events", total);
      r.put("embedded_broker", cluster.embedded);
      r.putPOJO("raw_read_events_per_s", raw);
      r.putPOJO("rebuild_events_per_s", rebuild);
      r.put("raw_read_median_events_per_s", rawMedian);
      r.put("rebuild_median_events_per_s", rebuildMedian);
      r.put("rebuild_ratio", rebuildMedian / rawMedian);
      r.put("raw_read_cpu_us_per_event", rawCpu);
      r.put("rebuild_cpu_us_per_event", rebuildCpu);
      r.put("rebuild_bulk_fold_median_s", bulkSeconds);
      r.put("rebuild_restore_and_start_median_s", startSeconds);
      r.putPOJO("rebuild_after_first_tenth_events_per_s", steady);
      r.put("rebuild_after_first_tenth_median_events_per_s", steadyMedian);
      r.put("latency_events", latency.events());
      r.put("latency_rate_events_per_s", latency.achievedRate());
      r.put("latency_p50_ms", latency.p50Ms());
      r.put("latency_p99_ms", latency.p99Ms());
      r.put("latency_max_ms", latency.maxMs());
      out.println(r.toPrettyString());
    } else {
      out.printf("projections benchmark: %,d StepSummary events in %d runs, %d rounds, broker %s%n", total, runs, rounds,
          cluster.embedded ? "embedded" : cluster.bootstrapServers);
      out.printf("  raw consumer read (byte[])    %,12.0f events/s   %6.2f us CPU/event%n", rawMedian, rawCpu);
      out.printf("  rebuild (dedupe + run state)  %,12.0f events/s   %6.2f us CPU/event   ratio %.3f%n", rebuildMedian, rebuildCpu,
          rebuildMedian / rawMedian);
      out.printf("    bulk fold %.2f s, then restore and start %.2f s (medians)%n", bulkSeconds, startSeconds);
      out.printf("    after its first tenth       %,12.0f events/s                      ratio %.3f   (start-up left out)%n", steadyMedian,
          steadyMedian / rawMedian);
      out.printf("  produce-to-queryable latency at %,.0f events/s: p50 %.1f ms, p99 %.1f ms, max %.1f ms (%,d events)%n",
          latency.achievedRate(), latency.p50Ms(), latency.p99Ms(), latency.maxMs(), latency.events());
    }
    out.flush();
  }
}
