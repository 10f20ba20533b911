package io.lineageledger.service.bench;

import io.lineageledger.infra.LedgerTopics;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.projections.run.RunStateProjection;
import io.lineageledger.schemas.registry.RestSchemaRegistryClient;
import io.lineageledger.schemas.serde.LedgerAvroDeserializer;
import io.lineageledger.service.query.LedgerStreams;
import io.lineageledger.service.query.RunHistory;
import io.lineageledger.service.query.RunQueries;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger bench history}: how long the metric history of one long run takes to come back
 * from the projections' metric store, whole and downsampled, against reading the run's events
 * back from the log (what answering it without the store would take), in the same run.
 */
@Command(name = "history", mixinStandardHelpOptions = true,
    description = "Loss history of a long run from the metric store (whole and downsampled) vs reading the run back from the log.")
public final class HistoryBenchmark implements Callable<Integer> {
  private static final String RUN = "history";

  @Spec
  CommandSpec spec;

  @Mixin
  BenchOptions options;

  @Option(names = "--steps", defaultValue = "500000", description = "Step summaries of the run (default: ${DEFAULT-VALUE}).")
  int steps;

  @Option(names = "--points", defaultValue = "500", description = "Points of the downsampled history (default: ${DEFAULT-VALUE}).")
  int points;

  @Option(names = "--queries", defaultValue = "20", description = "Timed queries of each kind from the store (default: ${DEFAULT-VALUE}).")
  int queries;

  @Option(names = "--log-reads", defaultValue = "3", description = "Timed reads of the run from the log (default: ${DEFAULT-VALUE}).")
  int logReads;

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    if (steps < 1 || points < 1 || queries < 1 || logReads < 1) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--steps, --points, --queries and --log-reads must be 1 or more");
    }
    Path work = Files.createTempDirectory("ledger-bench-history");
    try (BenchCluster cluster = options.cluster();
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers))) {
      String topic = "bench.history." + UUID.randomUUID().toString().substring(0, 8);
      List<String> topics = List.of(topic, topic + ".dlq", topic + ".lineage");
      LedgerTopics.ensure(admin, List.of(new NewTopic(topic, 6, (short) 1), new NewTopic(topic + ".dlq", 1, (short) 1),
          new NewTopic(topic + ".lineage", 6, (short) 1).configs(Map.of("cleanup.policy", "compact"))));
      try {
        return run(cluster, topic, work);
      } finally {
        admin.deleteTopics(topics).all().get(60, TimeUnit.SECONDS);
        try {
          admin.deleteConsumerGroups(List.of(topic + "-app")).all().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
          // a leftover group of a throw-away topic is harmless
        }
      }
    } finally {
      BenchOptions.deleteTree(work);
    }
  }

  private int run(BenchCluster cluster, String topic, Path work) throws Exception {
    RestSchemaRegistryClient registry = new RestSchemaRegistryClient(cluster.schemaRegistryUrl);
    LedgerAvroDeserializer<EventEnvelope> envelopes = new LedgerAvroDeserializer<>(registry, EventEnvelope.class);
    try (LedgerClient client = LedgerClient.builder().bootstrapServers(cluster.bootstrapServers).schemaRegistry(registry)
        .topic(topic).producerIdentity("bench-history", "bench", "1")
        .maxBlock(BenchOptions.FILL_MAX_BLOCK).deliveryTimeout(BenchOptions.FILL_DELIVERY_TIMEOUT).build()) {
      List<StepSummary> payloads = ProducersBenchmark.payloads(1024);
      for (int i = 0; i < steps; i++) {
        client.stepSummary(RUN, StepSummary.newBuilder(payloads.get(i & 1023)).setStep(i).build());
      }
      client.flush();
      BenchOptions.requireAllPublished(client);
    }
    LedgerStreams streams = new LedgerStreams(topic + "-app", cluster.bootstrapServers, work.resolve("state"), null, envelopes, Map.of(),
        topic, topic + ".lineage", topic + ".dlq").start();
    try {
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      String subject = "run:" + RUN;
      while (ProjectionsBenchmark.latestStep(streams, subject) < steps - 1) {
        if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR) {
          throw new IllegalStateException("the run was not projected within 10 minutes (" + streams.state() + ")");
        }
        Thread.sleep(50);
      }
      ReadOnlyKeyValueStore<Bytes, byte[]> store = streams.store(RunStateProjection.METRICS_STORE);
      for (int i = 0; i < 3; i++) { // warm-up
        check(RunQueries.metric(store, subject, RunStateProjection.LOSS, 0), steps);
        check(RunQueries.metric(store, subject, RunStateProjection.LOSS, points), Math.min(points, steps));
      }
      double[] whole = new double[queries];
      double[] downsampled = new double[queries];
      for (int i = 0; i < queries; i++) {
        long t0 = System.nanoTime();
        check(RunQueries.metric(store, subject, RunStateProjection.LOSS, 0), steps);
        long t1 = System.nanoTime();
        check(RunQueries.metric(store, subject, RunStateProjection.LOSS, points), Math.min(points, steps));
        long t2 = System.nanoTime();
        whole[i] = (t1 - t0) / 1e6;
        downsampled[i] = (t2 - t1) / 1e6;
      }
      RunHistory history = new RunHistory(cluster.bootstrapServers, envelopes, topic);
      double[] log = new double[logReads];
      for (int i = 0; i < logReads; i++) {
        long t0 = System.nanoTime();
        List<EventEnvelope> events = history.events(subject);
        double[] loss = events.stream().filter(e -> e.getPayload() instanceof StepSummary)
            .mapToDouble(e -> ((StepSummary) e.getPayload()).getLoss()).toArray();
        log[i] = (System.nanoTime() - t0) / 1e6;
        if (loss.length != steps) {
          throw new IllegalStateException("the log held " + loss.length + " summaries of the run, not " + steps);
        }
      }
      Arrays.sort(whole);
      Arrays.sort(downsampled);
      Arrays.sort(log);
      report(cluster, whole, downsampled, log);
      return 0;
    } finally {
      streams.close();
      streams.cleanUp();
    }
  }

  private static void check(List<RunQueries.MetricPoint> answer, int expected) {
    if (answer.size() != expected) {
      throw new IllegalStateException("the history came back with " + answer.size() + " points, not " + expected);
    }
  }

  private void report(BenchCluster cluster, double[] whole, double[] downsampled, double[] log) {
    PrintWriter out = spec.commandLine().getOut();
    double logMedian = BenchOptions.percentile(log, 0.5);
    if (options.json()) {
      ObjectNode r = new ObjectMapper().createObjectNode();
      r.put("benchmark", "history");
      r.put("steps", steps);
      r.put("points", points);
      r.put("queries", queries);
      r.put("embedded_broker", cluster.embedded);
      r.put("store_whole_p50_ms", BenchOptions.percentile(whole, 0.5));
      r.put("store_whole_max_ms", whole[whole.length - 1]);
      r.put("store_downsampled_p50_ms", BenchOptions.percentile(downsampled, 0.5));
      r.put("store_downsampled_max_ms", downsampled[downsampled.length - 1]);
      r.put("log_read_median_ms", logMedian);
      r.put("store_whole_over_log", BenchOptions.percentile(whole, 0.5) / logMedian);
      r.put("store_downsampled_over_log", BenchOptions.percentile(downsampled, 0.5) / logMedian);
      out.println(r.toPrettyString());
    } else {
      out.printf("history benchmark: loss history of a run of %,d step summaries, broker %s%n", steps,
          cluster.embedded ? "embedded" : cluster.bootstrapServers);
      out.printf("  from the metric store, whole            p50 %8.1f ms   max %8.1f ms   (%d queries)   %.3f of the log read%n",
          BenchOptions.percentile(whole, 0.5), whole[whole.length - 1], queries, BenchOptions.percentile(whole, 0.5) / logMedian);
      out.printf("  from the metric store, %,d points       p50 %8.1f ms   max %8.1f ms   (%d queries)   %.3f of the log read%n",
          points, BenchOptions.percentile(downsampled, 0.5), downsampled[downsampled.length - 1], queries,
          BenchOptions.percentile(downsampled, 0.5) / logMedian);
      out.printf("  reading the run back from the log       median %8.1f ms   (%d reads)%n", logMedian, log.length);
    }
    out.flush();
  }
}
