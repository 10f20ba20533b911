package io.lineageledger.service.bench;

import io.lineageledger.infra.LedgerTopics;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.lineageledger.projections.LedgerRocksDbConfig;
import io.lineageledger.projections.lineage.InMemoryEdges;
import io.lineageledger.projections.lineage.LineageEdge;
import io.lineageledger.projections.lineage.LineageGraph;
import io.lineageledger.projections.lineage.LineageProjection;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger bench lineage}: upstream walks of a given depth in a large lineage graph, read
 * from the real global store (RocksDB, filled from an edges topic by the projection's own
 * indexing), against the same walks over the same graph held in memory, in the same run.
 *
 * <p>The graph is a data pipeline {@code generations} deep and {@code nodes / generations}
 * wide: every node is derived from the node in its column one generation back, and one in
 * ten also from a random node there (merges), so a walk fans out as real pipelines do.
 */
@Command(name = "lineage", mixinStandardHelpOptions = true,
    description = "Upstream lineage walks from the global store vs the same walks in memory, in a graph of --nodes nodes.")
public final class LineageBenchmark implements Callable<Integer> {
  @Spec
  CommandSpec spec;

  @Mixin
  BenchOptions options;

  @Option(names = "--nodes", defaultValue = "1000000", description = "Nodes in the graph (default: ${DEFAULT-VALUE}).")
  int nodes;

  @Option(names = "--depth", defaultValue = "20", description = "Depth of each upstream walk (default: ${DEFAULT-VALUE}).")
  int depth;

  @Option(names = "--generations", defaultValue = "25", description = "Generations of the pipeline (default: ${DEFAULT-VALUE}); walks start in the last.")
  int generations;

  @Option(names = "--queries", defaultValue = "5000", description = "Walks measured, after as many to warm up (default: ${DEFAULT-VALUE}).")
  int queries;

  @Override
  public Integer call() throws Exception {
    options.validate(spec.commandLine());
    if (generations < 2 || nodes < generations * 2) {
      throw new picocli.CommandLine.ParameterException(spec.commandLine(), "--nodes must be at least twice --generations, and --generations at least 2");
    }
    Path work = Files.createTempDirectory("ledger-bench-lineage");
    try (BenchCluster cluster = options.cluster();
         Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers))) {
      String topic = "bench.lineage." + UUID.randomUUID().toString().substring(0, 8);
      LedgerTopics.ensure(admin, List.of(new NewTopic(topic, 6, (short) 1).configs(Map.of("cleanup.policy", "compact"))));
      try {
        return run(cluster, topic, work);
      } finally {
        admin.deleteTopics(List.of(topic)).all().get(60, TimeUnit.SECONDS);
      }
    } finally {
      BenchOptions.deleteTree(work);
    }
  }

  private String node(int generation, int column) {
    return generation == generations - 1 ? "model:m" + column + "/v1" : "dataset:g" + generation + "-c" + column + "@v1";
  }

  private int run(BenchCluster cluster, String topic, Path work) throws Exception {
    int width = nodes / generations;
    int total = width * generations;
    InMemoryEdges memory = new InMemoryEdges();
    long edges = 0;
    long loadStart = System.nanoTime();
    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers);
    pp.put(ProducerConfig.LINGER_MS_CONFIG, 20);
    pp.put(ProducerConfig.BATCH_SIZE_CONFIG, 256 * 1024);
    pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
    Random random = new Random(7);
    Instant at = Instant.parse("2026-11-01T00:00:00Z");
    try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(pp, new StringSerializer(), new ByteArraySerializer())) {
      for (int g = 1; g < generations; g++) {
        for (int c = 0; c < width; c++) {
          List<LineageEdge> stated = new ArrayList<>(2);
          stated.add(new LineageEdge(node(g, c), LineageEdge.Kind.WAS_DERIVED_FROM, node(g - 1, c), "e" + g + "-" + c, at));
          if (random.nextInt(10) == 0) {
            stated.add(new LineageEdge(node(g, c), LineageEdge.Kind.WAS_DERIVED_FROM, node(g - 1, random.nextInt(width)), "m" + g + "-" + c, at));
          }
          for (LineageEdge e : stated) {
            memory.add(e);
            producer.send(new ProducerRecord<>(topic, e.relation(), LineageProjection.encode(e)));
            edges++;
          }
        }
      }
      producer.flush();
    }
    double publishSeconds = (System.nanoTime() - loadStart) / 1e9;

    Topology topology = new Topology();
    LineageProjection.addStore(topology, topic);
    Properties sp = new Properties();
    sp.put(StreamsConfig.APPLICATION_ID_CONFIG, topic + "-query");
    sp.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers);
    sp.put(StreamsConfig.STATE_DIR_CONFIG, work.resolve("state").toString());
    sp.put(StreamsConfig.ROCKSDB_CONFIG_SETTER_CLASS_CONFIG, LedgerRocksDbConfig.class.getName());
    long indexStart = System.nanoTime();
    try (KafkaStreams streams = new KafkaStreams(topology, sp)) {
      streams.start();
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
      while (streams.state() != KafkaStreams.State.RUNNING) {
        if (System.nanoTime() > deadline || streams.state() == KafkaStreams.State.ERROR) {
          throw new IllegalStateException("the lineage store did not load (" + streams.state() + ")");
        }
        Thread.sleep(20);
      }
      ReadOnlyKeyValueStore<String, byte[]> store = streams.store(
          StoreQueryParameters.fromNameAndType(LineageProjection.STORE, QueryableStoreTypes.keyValueStore()));
      LineageGraph.EdgeSource fromStore = LineageProjection.edges(store);
      // The global thread is RUNNING once it has read the topic to its end; the last node of the last generation is there.
      String lastNode = node(generations - 1, width - 1);
      while (fromStore.upstreamOf(lastNode).isEmpty()) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the lineage store never held " + lastNode);
        }
        Thread.sleep(20);
      }
      double indexSeconds = (System.nanoTime() - indexStart) / 1e9;

      SplittableRandom starts = new SplittableRandom(11);
      int[] columns = new int[queries * 2];
      for (int i = 0; i < columns.length; i++) {
        columns[i] = starts.nextInt(width);
      }
      // Warm-up, checking the store answers exactly as memory does.
      long reached = 0;
      for (int i = 0; i < queries; i++) {
        String start = node(generations - 1, columns[i]);
        LineageGraph.Result s = LineageGraph.traverse(fromStore, start, LineageGraph.Direction.UPSTREAM, depth, 10_000);
        LineageGraph.Result m = LineageGraph.traverse(memory, start, LineageGraph.Direction.UPSTREAM, depth, 10_000);
        if (!s.equals(m)) {
          throw new IllegalStateException("the store and memory disagree on the lineage of " + start);
        }
      }
      double[] storeMs = new double[queries];
      double[] memoryMs = new double[queries];
      for (int i = 0; i < queries; i++) {
        String start = node(generations - 1, columns[queries + i]);
        long t0 = System.nanoTime();
        LineageGraph.Result s = LineageGraph.traverse(fromStore, start, LineageGraph.Direction.UPSTREAM, depth, 10_000);
        long t1 = System.nanoTime();
        LineageGraph.traverse(memory, start, LineageGraph.Direction.UPSTREAM, depth, 10_000);
        long t2 = System.nanoTime();
        storeMs[i] = (t1 - t0) / 1e6;
        memoryMs[i] = (t2 - t1) / 1e6;
        reached += s.nodes().size();
      }
      Arrays.sort(storeMs);
      Arrays.sort(memoryMs);
      report(cluster, total, edges, publishSeconds, indexSeconds, reached / (double) queries, storeMs, memoryMs);
    }
    return 0;
  }

  private void report(BenchCluster cluster, int total, long edges, double publishSeconds, double indexSeconds, double meanNodes,
                      double[] storeMs, double[] memoryMs) {
    PrintWriter out = spec.commandLine().getOut();
    double p50 = BenchOptions.percentile(storeMs, 0.50);
    double p99 = BenchOptions.percentile(storeMs, 0.99);
    double memP50 = BenchOptions.percentile(memoryMs, 0.50);
    double memP99 = BenchOptions.percentile(memoryMs, 0.99);
    if (options.json()) {
      ObjectNode r = new ObjectMapper().createObjectNode();
      r.put("benchmark", "lineage");
      r.put("nodes", total);
      r.put("edges", edges);
      r.put("depth", depth);
      r.put("queries", storeMs.length);
      r.put("embedded_broker", cluster.embedded);
      r.put("publish_edges_per_s", edges / publishSeconds);
      r.put("index_edges_per_s", edges / indexSeconds);
      r.put("mean_nodes_reached", meanNodes);
      r.put("store_p50_ms", p50);
      r.put("store_p99_ms", p99);
      r.put("store_max_ms", storeMs[storeMs.length - 1]);
      r.put("memory_p50_ms", memP50);
      r.put("memory_p99_ms", memP99);
      r.put("store_over_memory_p50", p50 / memP50);
      r.put("store_over_memory_p99", p99 / memP99);
      out.println(r.toPrettyString());
    } else {
      out.printf("lineage benchmark: %,d nodes, %,d edges, upstream walks of depth %d (%,d measured, %.1f nodes reached on average)%n",
          total, edges, depth, storeMs.length, meanNodes);
      out.printf("  edges published %,.0f/s, indexed into the global store %,.0f/s (%.1f s)%n", edges / publishSeconds, edges / indexSeconds, indexSeconds);
      out.printf("  global store (RocksDB)  p50 %.3f ms  p99 %.3f ms  max %.3f ms%n", p50, p99, storeMs[storeMs.length - 1]);
      out.printf("  in memory (reference)   p50 %.3f ms  p99 %.3f ms   store/memory: p50 x%.1f, p99 x%.1f%n", memP50, memP99, p50 / memP50, p99 / memP99);
    }
    out.flush();
  }
}
