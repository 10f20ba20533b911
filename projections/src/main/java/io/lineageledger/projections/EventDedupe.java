package io.lineageledger.projections;

import io.lineageledger.events.EventEnvelope;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.Stores;

/**
 * The first step of every projection: checks that an event can be projected and drops any
 * event id already seen, so that a spool shipped twice or a producer's retry is counted once.
 * An event id always comes back under the same subject, hence on the same partition and task,
 * so a per-task store of seen ids is enough. Ids are kept for good: a duplicate may arrive
 * months later, when a spool copied off an offline machine is shipped again.
 */
public final class EventDedupe {
  /** Seen event ids (value: the event's occurred_at in microseconds). */
  public static final String STORE = "event-ids";
  /** The processor node later projections attach to. */
  public static final String NODE = "dedupe";
  private static final int MAX_EVENT_ID_CHARS = 200;

  private EventDedupe() {}

  /** Adds the dedupe node (and its store) under {@code parent}. */
  public static void addTo(Topology topology, String parent) {
    topology.addProcessor(NODE, Dedupe::new, parent);
    topology.addStateStore(store(), NODE);
  }

  static StoreBuilder<KeyValueStore<String, Long>> store() {
    // Not cached: every id is new, so a cache would only fill up and evict.
    return Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.Long()).withCachingDisabled();
  }

  /** Why {@code event}, read under {@code key}, cannot be projected; null when it can. */
  public static String invalidReason(String key, EventEnvelope event) {
    if (event == null) {
      return "the record has no value";
    }
    String id = event.getEventId();
    if (id == null || id.isBlank() || id.length() > MAX_EVENT_ID_CHARS) {
      return "event_id must be 1 to " + MAX_EVENT_ID_CHARS + " characters, got '" + id + "'";
    }
    if (key == null || !key.equals(event.getSubject())) {
      return "event " + id + ": the record key '" + key + "' is not the event's subject '" + event.getSubject() + "'";
    }
    if (event.getPayload() == null) {
      return "event " + id + " has no payload";
    }
    return null;
  }

  private static final class Dedupe implements Processor<String, EventEnvelope, String, EventEnvelope> {
    private ProcessorContext<String, EventEnvelope> context;
    private KeyValueStore<String, Long> seen;

    @Override
    public void init(ProcessorContext<String, EventEnvelope> context) {
      this.context = context;
      this.seen = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String reason = invalidReason(record.key(), record.value());
      if (reason != null) {
        throw new InvalidEventException(reason);
      }
      EventEnvelope event = record.value();
      if (seen.get(event.getEventId()) != null) {
        return;
      }
      java.time.Instant at = event.getOccurredAt();
      seen.put(event.getEventId(), at.getEpochSecond() * 1_000_000 + at.getNano() / 1_000);
      context.forward(record);
    }
  }
}
