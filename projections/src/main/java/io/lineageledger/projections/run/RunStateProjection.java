package io.lineageledger.projections.run;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * bytes), and keeps every step's loss and metrics in {@value #METRICS_STORE}, laid out so that
 * one metric of one run is a single ordered range scan however long the run.
 *
 * <p>Both stores are keyed by (a prefix of) the subject, the topic's key, so the instance that
 * owns a subject's partition owns all of that run's answers.
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
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STATE_STORE), Serdes.String(), Serdes.ByteArray()), NODE);
    topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(METRICS_STORE), Serdes.Bytes(), Serdes.Double()), NODE);
  }

  /** The key of one metric value: length-prefixed subject and metric name, then the step, so keys sort by step. */
  public static Bytes metricKey(String subject, String metric, long step) {
    byte[] s = subject.getBytes(StandardCharsets.UTF_8);
    byte[] m = metric.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(8 + s.length + m.length + 8)
        .putInt(s.length).put(s).putInt(m.length).put(m).putLong(step).array());
  }

  /** The step a {@link #metricKey} holds. */
  public static long stepOf(Bytes key) {
    byte[] k = key.get();
    return ByteBuffer.wrap(k, k.length - 8, 8).getLong();
  }

  private static final class Fold implements Processor<String, EventEnvelope, Void, Void> {
    private KeyValueStore<String, byte[]> states;
    private KeyValueStore<Bytes, Double> metrics;

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
      byte[] before = states.get(subject);
      RunState state = before == null ? RunState.empty(subject.substring(4)) : RunStateCodec.decode(before);
      states.put(subject, RunStateCodec.encode(state.apply(event)));
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        metrics.put(metricKey(subject, LOSS, s.getStep()), s.getLoss());
        for (Map.Entry<String, Double> m : s.getMetrics().entrySet()) {
          if (!m.getKey().equals(LOSS)) {
            metrics.put(metricKey(subject, m.getKey(), s.getStep()), m.getValue());
          }
        }
      }
    }
  }
}
