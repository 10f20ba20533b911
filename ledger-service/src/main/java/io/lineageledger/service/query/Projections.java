package io.lineageledger.service.query;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.BulkRebuild;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The projections this instance serves from, and their rebuild. The application id in use is
 * kept in {@code STATE_DIR/application-id}, so a restart picks up where the last rebuild left
 * off. A rebuild folds {@code ledger.events} from offset 0 in bulk into the stores of a second
 * application under a new id ({@link BulkRebuild}), then starts that application, which restores
 * them and goes on from where the bulk fold stopped; once it has committed everything that was in
 * the log when the rebuild began and serves every partition, queries switch to it, and the old application is closed and its local state, consumer group
 * and internal topics deleted. Until then queries keep being answered by the old one.
 *
 * <p>Thread-safe: queries call {@link #current} from any thread; the rebuild runs on a thread of its own.
 */
public final class Projections implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Projections.class);
  private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss").withZone(ZoneOffset.UTC);

  private final Path stateDir;
  private final String bootstrapServers;
  private final String applicationServer;
  private final Deserializer<EventEnvelope> envelopes;
  private final Admin admin;
  private final Map<String, ?> overrides;
  private volatile LedgerStreams current;
  private volatile RebuildStatus rebuild;
  private volatile int eventPartitions;
  private Thread rebuilder; // guarded by this

  /** Where a rebuild stands. {@code total} counts the events in the log when it began. */
  public record RebuildStatus(String state, String applicationId, String replacing, long consumed, long total,
                              Instant startedAt, Instant finishedAt, String error) {
    public double fraction() {
      return total == 0 ? 1.0 : Math.min(1.0, (double) consumed / total);
    }
  }

  public Projections(Path stateDir, String bootstrapServers, String applicationServer, Deserializer<EventEnvelope> envelopes,
                     Admin admin, Map<String, ?> overrides) {
    this.stateDir = stateDir;
    this.bootstrapServers = bootstrapServers;
    this.applicationServer = applicationServer;
    this.envelopes = envelopes;
    this.admin = admin;
    this.overrides = overrides;
  }

  public Projections start() {
    current = open(applicationId()).start();
    return this;
  }

  /** This instance's {@code host:port} for interactive queries ({@code application.server}), or null. */
  public String applicationServer() {
    return applicationServer;
  }

  /** How many partitions the events topic has (read once). */
  public int eventPartitions() {
    if (eventPartitions == 0) {
      try {
        eventPartitions = admin.describeTopics(List.of(LedgerTopics.EVENTS)).allTopicNames().get(30, TimeUnit.SECONDS)
            .get(LedgerTopics.EVENTS).partitions().size();
      } catch (Exception e) {
        throw new StoreUnavailableException("cannot describe " + LedgerTopics.EVENTS + ": " + e.getMessage(), e);
      }
    }
    return eventPartitions;
  }

  /** The projections queries are answered from now. */
  public LedgerStreams current() {
    return current;
  }

  /** The last rebuild's status, or null if none ran since this process started. */
  public RebuildStatus rebuildStatus() {
    return rebuild;
  }

  /** Starts a rebuild unless one is running; returns its status. */
  public synchronized RebuildStatus rebuild() {
    if (rebuilder != null && rebuilder.isAlive()) {
      return rebuild;
    }
    String old = current.applicationId();
    List<String> others = current.streams().metadataForAllStreamsClients().stream()
        .map(m -> m.hostInfo().host() + ":" + m.hostInfo().port()).filter(h -> !h.equals(applicationServer)).sorted().toList();
    if (!others.isEmpty()) {
      // Retiring the old application deletes its group and internal topics, which the others still use.
      throw new ConflictException("instances " + others + " also serve " + old + "; a rebuild retires that application's "
          + "group and internal topics under them. Stop them first, rebuild on this instance, then start them with this "
          + "instance's " + stateDir.resolve("application-id") + " copied into their data directories");
    }
    String base = old.replaceFirst("-rebuild-\\d{8}T\\d{6}$", "");
    String next = base + "-rebuild-" + STAMP.format(Instant.now());
    Map<TopicPartition, Long> target = endOffsets();
    long total = target.values().stream().mapToLong(Long::longValue).sum();
    rebuild = new RebuildStatus("RUNNING", next, old, 0, total, Instant.now(), null, null);
    rebuilder = new Thread(() -> runRebuild(next, old, target, total), "ledger-rebuild");
    rebuilder.setDaemon(true);
    rebuilder.start();
    return rebuild;
  }

  private void runRebuild(String next, String old, Map<TopicPartition, Long> target, long total) {
    Instant started = rebuild.startedAt();
    LedgerStreams fresh = null;
    try {
      // Folds the log in bulk first; the application restores what that wrote and goes on from there.
      new BulkRebuild(bootstrapServers, LedgerTopics.EVENTS, LedgerTopics.LINEAGE_EDGES, envelopes)
          .load(next, target, done -> rebuild = new RebuildStatus("RUNNING", next, old, done, total, started, null, null));
      fresh = open(next).start();
      while (true) {
        long consumed = committed(next, target);
        rebuild = new RebuildStatus("RUNNING", next, old, consumed, total, started, null, null);
        if (consumed >= total && fresh.activeOnAll(target.size())) {
          break;
        }
        if (fresh.state() == KafkaStreams.State.ERROR || fresh.state() == KafkaStreams.State.NOT_RUNNING) {
          throw new IllegalStateException("the rebuilding application stopped (" + fresh.state() + ")");
        }
        Thread.sleep(250);
      }
      LedgerStreams previous = current;
      current = fresh;
      writeApplicationId(next);
      rebuild = new RebuildStatus("DONE", next, old, total, total, started, Instant.now(), null);
      LOG.info("rebuilt the projections from {} events under {}; serving from it", total, next);
      retire(previous);
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      LOG.error("rebuild under {} failed", next, e);
      rebuild = new RebuildStatus("FAILED", next, old, rebuild.consumed(), total, started, Instant.now(), e.toString());
      if (fresh != null && fresh != current) {
        fresh.close();
        fresh.cleanUp();
      }
      deleteGroupAndTopics(next);
    }
  }

  /** Closes a replaced application and deletes what it leaves behind: local state, group, internal topics. */
  private void retire(LedgerStreams old) {
    String id = old.applicationId();
    old.close();
    old.cleanUp();
    deleteGroupAndTopics(id);
  }

  /** Deletes the consumer group and internal topics of an application no instance runs any more. */
  private void deleteGroupAndTopics(String id) {
    try {
      admin.deleteConsumerGroups(List.of(id)).all().get(30, TimeUnit.SECONDS);
      List<String> internal = admin.listTopics().names().get(30, TimeUnit.SECONDS).stream()
          .filter(t -> t.startsWith(id + "-")).toList();
      if (!internal.isEmpty()) {
        admin.deleteTopics(internal).all().get(30, TimeUnit.SECONDS);
      }
    } catch (Exception e) {
      LOG.warn("could not delete the group and internal topics of application {}: {}", id, e.toString());
    }
  }

  /**
   * The projections of {@code applicationId} on this instance. Each instance is a static member
   * of the application's group ({@code group.instance.id} kept in {@code STATE_DIR/instance-id}):
   * restarted after a crash, it takes its partitions back at once instead of waiting out the
   * dead member's session; stopped cleanly, it leaves the group and the others take over.
   */
  private LedgerStreams open(String applicationId) {
    Map<String, Object> settings = new HashMap<>();
    settings.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG), instanceId());
    settings.putAll(overrides);
    return new LedgerStreams(applicationId, bootstrapServers, stateDir, applicationServer, envelopes, settings);
  }

  private String instanceId() {
    Path file = stateDir.resolve("instance-id");
    try {
      if (Files.exists(file)) {
        return Files.readString(file, StandardCharsets.UTF_8).trim();
      }
      String id = "ledger-" + java.util.UUID.randomUUID();
      Files.createDirectories(stateDir);
      Path tmp = stateDir.resolve("instance-id.tmp");
      Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
      return id;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read or write " + file, e);
    }
  }

  private Map<TopicPartition, Long> endOffsets() {
    try {
      int partitions = admin.describeTopics(List.of(LedgerTopics.EVENTS)).allTopicNames().get(30, TimeUnit.SECONDS)
          .get(LedgerTopics.EVENTS).partitions().size();
      Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
      for (int p = 0; p < partitions; p++) {
        latest.put(new TopicPartition(LedgerTopics.EVENTS, p), OffsetSpec.latest());
      }
      return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
          .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
    } catch (Exception e) {
      throw new StoreUnavailableException("cannot read the end of " + LedgerTopics.EVENTS + ": " + e, e);
    }
  }

  /** How many of the target offsets the application {@code groupId} has committed. */
  private long committed(String groupId, Map<TopicPartition, Long> target) throws Exception {
    Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(groupId).partitionsToOffsetAndMetadata()
        .get(30, TimeUnit.SECONDS);
    long sum = 0;
    for (Map.Entry<TopicPartition, Long> t : target.entrySet()) {
      OffsetAndMetadata o = offsets.get(t.getKey());
      sum += o == null ? 0 : Math.min(o.offset(), t.getValue());
    }
    return sum;
  }

  private String applicationId() {
    Path file = stateDir.resolve("application-id");
    try {
      return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8).trim() : LedgerStreams.DEFAULT_APPLICATION_ID;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private void writeApplicationId(String id) throws IOException {
    Files.createDirectories(stateDir);
    Path tmp = stateDir.resolve("application-id.tmp");
    Files.writeString(tmp, id + "\n", StandardCharsets.UTF_8);
    Files.move(tmp, stateDir.resolve("application-id"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public synchronized void close() {
    if (rebuilder != null) {
      rebuilder.interrupt();
      try {
        rebuilder.join(35_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    LedgerStreams c = current;
    if (c != null) {
      c.close();
    }
  }
}
