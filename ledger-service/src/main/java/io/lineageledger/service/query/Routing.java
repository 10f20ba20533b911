package io.lineageledger.service.query;

import io.lineageledger.infra.LedgerTopics;
import io.lineageledger.projections.run.RunStateProjection;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyQueryMetadata;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Which instance answers what: a run's state lives on the instance whose projections own the
 * run's partition ({@code application.server} of that task's active host); lists are the union
 * of every instance's active partitions.
 *
 * <p>Thread-safe.
 */
public final class Routing {
  private final Projections projections;
  private final HostInfo self;

  /** A part of a fanned-out list: the other instances, and the partitions of the events topic no instance has active now. */
  public record Parts(List<String> others, Set<Integer> unowned) {}

  public Routing(Projections projections) {
    this.projections = projections;
    this.self = projections.applicationServer() == null ? null : HostInfo.buildFromEndpoint(projections.applicationServer());
  }

  /**
   * The {@code host:port} of the instance that holds {@code runId}'s state when it is another
   * one; empty when it is this one (or there is only this one).
   */
  public Optional<String> ownerOfRun(String runId) {
    if (self == null) {
      return Optional.empty();
    }
    KafkaStreams streams = projections.current().streams();
    KeyQueryMetadata md = streams.queryMetadataForKey(RunStateProjection.STATE_STORE, RunQueries.subject(runId), new StringSerializer());
    if (md == null || md.equals(KeyQueryMetadata.NOT_AVAILABLE) || md.activeHost() == null) {
      throw new StoreUnavailableException("the projections are rebalancing: no instance owns run '" + runId + "' yet", null);
    }
    return md.activeHost().equals(self) ? Optional.empty() : Optional.of(endpoint(md.activeHost()));
  }

  /** The other instances of this application, and the event partitions that no instance has active. */
  public Parts parts() {
    List<String> others = new ArrayList<>();
    if (self == null) {
      return new Parts(others, Set.of());
    }
    Set<Integer> unowned = new TreeSet<>();
    for (int p = 0; p < projections.eventPartitions(); p++) {
      unowned.add(p);
    }
    for (StreamsMetadata m : projections.current().streams().metadataForAllStreamsClients()) {
      m.topicPartitions().stream().filter(tp -> tp.topic().equals(LedgerTopics.EVENTS)).forEach(tp -> unowned.remove(tp.partition()));
      if (!m.hostInfo().equals(self)) {
        others.add(endpoint(m.hostInfo()));
      }
    }
    others.sort(null);
    return new Parts(others, unowned);
  }

  public String self() {
    return self == null ? null : endpoint(self);
  }

  private static String endpoint(HostInfo h) {
    return h.host() + ":" + h.port();
  }
}
