package io.lineageledger.projections.run;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The run-state projection: folds each run's events with {@link RunState#apply} into
 * {@value #STATE_STORE} (key: the run's subject {@code run:ID}, value: {@link RunStateCodec}
 * bytes), and keeps every step's loss and metrics in {@value #METRICS_STORE} in
 * {@link MetricChunk}s, laid out so that one run's history is a single ordered range scan
 * however long the run.
 *
 * <p>Both stores are keyed by (a prefix of) the subject, the topic's key, so the instance that
 * owns a subject's partition owns all of that run's answers. Both are cached: a run's state and
 * its current metric chunk are rewritten in memory and logged to their changelogs once per
 * commit, not once per event.
 */
public final class RunStateProjection {
  public static final String STATE_STORE = "run-state";
  public static final String METRICS_STORE = "run-metrics";
  public static final String NODE = "run-state";
  /** The metric name under which each summary's loss is kept. */
  public static final String LOSS = "loss";
  // Decoded states kept by a task's processor, so an event costs one fold, not a decode as well.
  private static final int DECODED_STATES = 10_000;

  private RunStateProjection() {}

  /** Adds the projection under {@code parent} (deduplicated, valid events). */
  public static void addTo(Topology topology, String parent) {
    topology.addProcessor(NODE, Fold::new, parent);
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray())
        .withCachingEnabled(), NODE);
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(METRICS_STORE), Serdes.Bytes(), Serdes.ByteArray())
        .withCachingEnabled(), NODE);
  }

  /**
   * One task's fold. The decoded states it keeps always equal what it last wrote to the store
   * (it is the store's only writer); a task that is closed and opened again, after a rebalance
   * or an aborted transaction, gets a new processor and so starts from the store.
   */
  private static final class Fold implements Processor<String, EventEnvelope, Void, Void> {
    private KeyValueStore<String, byte[]> states;
    private KeyValueStore<Bytes, byte[]> metrics;
    private final Map<String, RunState> decoded = new HashMap<>();

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      states = context.getStateStore(STATE_STORE);
      metrics = context.getStateStore(METRICS_STORE);
      decoded.clear(); // a revived task (after an aborted transaction) is initialized again
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String subject = record.key();
      if (!subject.startsWith("run:")) {
        return;
      }
      EventEnvelope event = record.value();
      RunState state = decoded.get(subject);
      if (state == null) {
        byte[] before = states.get(subject);
        state = before == null ? RunState.empty(subject.substring(4)) : RunStateCodec.decode(before);
      }
      RunState next = state.apply(event);
      states.put(subject, RunStateCodec.encode(next));
      if (decoded.size() >= DECODED_STATES && !decoded.containsKey(subject)) {
        decoded.clear();
      }
      decoded.put(subject, next);
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        Map<String, Double> values = new HashMap<>(s.getMetrics());
        values.put(LOSS, s.getLoss());
        Bytes key = MetricChunk.key(subject, s.getStep());
        metrics.put(key, MetricChunk.with(metrics.get(key), s.getStep(), values));
      }
    }
  }
}
