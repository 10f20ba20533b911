package io.lineageledger.infra;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The ledger's topics and their settings, in one place. {@link #ensure} creates whichever are
 * missing, so the embedded broker and an existing cluster are set up the same way.
 *
 * <ul>
 *   <li>{@value #EVENTS}: every event, keyed by subject, kept forever (the log is the system of record).
 *   <li>{@value #ALERTS}: alerts raised by detectors, keyed by subject, kept forever.
 *   <li>{@value #DEAD_LETTERS}: records projections could not read, with the reason in headers, kept forever.
 *   <li>{@value #SCHEMAS}: the schema registry's compacted store, one partition (it is totally ordered).
 *   <li>{@value #SPOOL_PROGRESS}: compacted; per spool id, the last spooled event committed to {@value #EVENTS}.
 *   <li>{@value #LINEAGE_EDGES}: compacted; the lineage projection's edges, one record per relation, read by every instance.
 *   <li>{@value #SUBSCRIPTIONS}: compacted, one partition; the webhook subscriptions, read by every instance.
 * </ul>
 */
public final class LedgerTopics {
  public static final String EVENTS = "ledger.events";
  public static final String ALERTS = "ledger.alerts";
  public static final String DEAD_LETTERS = "ledger.events.dlq";
  public static final String SCHEMAS = "_schemas";
  public static final String SPOOL_PROGRESS = "ledger.spool.progress";
  public static final String LINEAGE_EDGES = "ledger.lineage.edges";
  public static final String SUBSCRIPTIONS = "ledger.subscriptions";

  public static final int EVENT_PARTITIONS = 6;
  public static final int ALERT_PARTITIONS = 3;

  private LedgerTopics() {}

  /** Definitions of every ledger topic for a cluster whose topics get {@code replicationFactor} replicas. */
  public static List<NewTopic> definitions(short replicationFactor) {
    String minIsr = String.valueOf(Math.min(2, replicationFactor));
    Map<String, String> forever = Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_DELETE,
        TopicConfig.RETENTION_MS_CONFIG, "-1",
        TopicConfig.RETENTION_BYTES_CONFIG, "-1",
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr);
    List<NewTopic> topics = new ArrayList<>();
    topics.add(new NewTopic(EVENTS, EVENT_PARTITIONS, replicationFactor).configs(forever));
    topics.add(new NewTopic(ALERTS, ALERT_PARTITIONS, replicationFactor).configs(forever));
    topics.add(new NewTopic(DEAD_LETTERS, 1, replicationFactor).configs(forever));
    topics.add(new NewTopic(SPOOL_PROGRESS, 1, replicationFactor).configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr)));
    topics.add(new NewTopic(LINEAGE_EDGES, EVENT_PARTITIONS, replicationFactor).configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr)));
    topics.add(new NewTopic(SUBSCRIPTIONS, 1, replicationFactor).configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr)));
    topics.add(new NewTopic(SCHEMAS, 1, replicationFactor).configs(Map.of(
        TopicConfig.CLEANUP_POLICY_CONFIG, TopicConfig.CLEANUP_POLICY_COMPACT,
        TopicConfig.MIN_IN_SYNC_REPLICAS_CONFIG, minIsr)));
    return topics;
  }

  /**
   * Creates the ledger topics that do not exist yet; leaves existing ones as they are.
   *
   * @return the names of the topics it created
   */
  public static Set<String> ensure(Admin admin, short replicationFactor) {
    return ensure(admin, definitions(replicationFactor));
  }

  /**
   * Creates those of {@code topics} that do not exist yet (a topic another instance creates at
   * the same moment counts as existing); leaves existing ones as they are. Returns once every
   * partition of them is served by its leader ({@link #awaitServing}).
   *
   * @return the names of the topics it created
   */
  public static Set<String> ensure(Admin admin, List<NewTopic> topics) {
    try {
      List<String> names = topics.stream().map(NewTopic::name).toList();
      Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
      List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
      if (missing.isEmpty()) {
        awaitServing(admin, names, Duration.ofSeconds(60));
        return Set.of();
      }
      var result = admin.createTopics(missing);
      for (var entry : result.values().entrySet()) {
        try {
          entry.getValue().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          if (!(e.getCause() instanceof TopicExistsException)) {
            throw new IllegalStateException("could not create topic " + entry.getKey() + ": " + e.getCause().getMessage(), e.getCause());
          }
        }
      }
      awaitServing(admin, names, Duration.ofSeconds(60));
      return result.values().keySet();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while creating the ledger topics", e);
    } catch (ExecutionException | TimeoutException e) {
      throw new IllegalStateException("could not list or create the ledger topics: " + e, e);
    }
  }

  /**
   * Waits until every partition of {@code topics} is served by its leader: the metadata names a
   * leader, and that broker answers for the partition (a list-offsets request, which only a
   * partition's leader answers). A broker is named leader in the metadata a moment before it has
   * taken the partition on, and a write it refuses in that moment can cost an idempotent producer
   * dearly: the broker takes the producer's next batch as its first (it accepts any sequence from
   * a producer it holds no state for), and the refused batch's retries then fail with out-of-order
   * sequence errors until the delivery timeout.
   *
   * @throws IllegalStateException when they are not all served within {@code timeout}
   */
  public static void awaitServing(Admin admin, Collection<String> topics, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    Throwable last = null;
    while (true) {
      try {
        Map<TopicPartition, OffsetSpec> partitions = new HashMap<>();
        boolean led = true;
        for (TopicDescription d : admin.describeTopics(topics).allTopicNames().get(30, TimeUnit.SECONDS).values()) {
          for (TopicPartitionInfo p : d.partitions()) {
            led &= p.leader() != null && !p.leader().isEmpty();
            partitions.put(new TopicPartition(d.name(), p.partition()), OffsetSpec.latest());
          }
        }
        if (led) {
          admin.listOffsets(partitions, new ListOffsetsOptions().timeoutMs(5_000)).all().get(30, TimeUnit.SECONDS);
          return;
        }
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof RetriableException)) { // not yet in this broker's metadata, or not yet taken on
          throw new IllegalStateException("could not check the partitions of " + topics + ": " + e.getCause().getMessage(), e.getCause());
        }
        last = e.getCause();
      } catch (TimeoutException e) {
        last = e; // asked again below
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the partitions of " + topics + " were not all served by a leader within " + timeout.toSeconds() + " s"
            + (last == null ? "" : " (last: " + last + ")"), last);
      }
      Thread.sleep(50);
    }
  }
}
