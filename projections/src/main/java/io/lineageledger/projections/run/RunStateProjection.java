package io.lineageledger.projections.run;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.WriteBehindStore;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * The run-state projection: folds each run's events with {@link RunState#apply} into
 * {@value #STATE_STORE} (key: the run's subject {@code run:ID}, value: the {@link RunState},
 * stored as {@link RunStateCodec} bytes), and keeps every step's loss and metrics in
 * {@value #METRICS_STORE} in {@link MetricChunk}s, laid out so that one run's history is a
 * single ordered range scan however long the run.
 *
 * <p>Both stores are keyed by (a prefix of) the subject, the topic's key, so the instance that
 * owns a subject's partition owns all of that run's answers. Both are {@link WriteBehindStore}s:
 * a run's state and its current metric chunk are rewritten in memory on every event and
 * encoded, written and logged once per commit.
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
    topology.addStateStore(WriteBehindStore.builder(STATE_STORE, Serdes.String(), new WriteBehindStore.Codec<RunState>() {
      @Override
      public byte[] encode(RunState value) {
        return RunStateCodec.encode(value);
      }

      @Override
      public RunState decode(byte[] bytes) {
        return RunStateCodec.decode(bytes);
      }
    }), NODE);
    topology.addStateStore(WriteBehindStore.builder(METRICS_STORE, Serdes.Bytes(), new WriteBehindStore.Codec<byte[]>() {
      @Override
      public byte[] encode(byte[] value) {
        return value;
      }

      @Override
      public byte[] decode(byte[] bytes) {
        return bytes;
      }
    }), NODE);
  }

  /** One task's fold. */
  private static final class Fold implements Processor<String, EventEnvelope, Void, Void> {
    private KeyValueStore<String, RunState> states;
    private KeyValueStore<Bytes, byte[]> metrics;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      states = context.getStateStore(STATE_STORE);
      metrics = context.getStateStore(METRICS_STORE);
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String subject = record.key();
      if (!subject.startsWith("run:")) {
        return;
      }
      EventEnvelope event = record.value();
      RunState state = states.get(subject);
      states.put(subject, (state == null ? RunState.empty(subject.substring(4)) : state).apply(event));
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        Map<String, Double> values = new HashMap<>(s.getMetrics());
        values.put(LOSS, s.getLoss());
        Bytes key = MetricChunk.key(subject, s.getStep());
        metrics.put(key, MetricChunk.with(metrics.get(key), s.getStep(), values));
      }
    }
  }
}
