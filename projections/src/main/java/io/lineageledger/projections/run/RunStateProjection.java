package io.lineageledger.projections.run;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.WriteBehindStore;
import java.nio.charset.StandardCharsets;
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
 * owns a subject's partition owns all of that run's answers. Both are {@link WriteBehindStore}s:
 * a run's state and its current metric chunk are folded as objects, and encoded, written to
 * RocksDB and logged to their changelogs once per commit, not once per event.
 */
public final class RunStateProjection {
  public static final String STATE_STORE = "run-state";
  public static final String METRICS_STORE = "run-metrics";
  public static final String NODE = "run-state";
  /** The metric name under which each summary's loss is kept. */
  public static final String LOSS = "loss";

  private RunStateProjection() {}

  /** Adds the projection under {@code parent} (deduplicated, valid events). */
  public static void addTo(Topology topology, String parent) {
    topology.addProcessor(NODE, Fold::new, parent);
    topology.addStateStore(WriteBehindStore.<String, RunState>builder(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray()).withCachingDisabled(),
        RunStateCodec::encode, subject -> Bytes.wrap(subject.getBytes(StandardCharsets.UTF_8))), NODE);
    topology.addStateStore(WriteBehindStore.<Bytes, MetricChunk.Open>builder(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(METRICS_STORE), Serdes.Bytes(), Serdes.ByteArray()).withCachingDisabled(),
        MetricChunk.Open::bytes, key -> key), NODE);
  }

  /**
   * One task's fold. Between two commits a run's state and its current metric chunk stay
   * decoded in the write-behind stores; the first event of a run after a commit decodes them
   * from the store once.
   */
  private static final class Fold implements Processor<String, EventEnvelope, Void, Void> {
    private WriteBehindStore<String, RunState> states;
    private WriteBehindStore<Bytes, MetricChunk.Open> metrics;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      states = WriteBehindStore.of(context.getStateStore(STATE_STORE));
      metrics = WriteBehindStore.of(context.getStateStore(METRICS_STORE));
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String subject = record.key();
      if (!subject.startsWith("run:")) {
        return;
      }
      EventEnvelope event = record.value();
      RunState state = states.deferred(subject);
      if (state == null) {
        byte[] before = states.stored(subject);
        state = before == null ? RunState.empty(subject.substring(4)) : RunStateCodec.decode(before);
      }
      states.defer(subject, state.apply(event));
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        Map<String, Double> values = new HashMap<>(s.getMetrics());
        values.put(LOSS, s.getLoss());
        Bytes key = MetricChunk.key(subject, s.getStep());
        MetricChunk.Open chunk = metrics.deferred(key);
        if (chunk == null) {
          chunk = MetricChunk.Open.of(metrics.stored(key));
        }
        metrics.defer(key, chunk.with(s.getStep(), values));
      }
    }
  }
}
