package io.lineageledger.projections.run;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.StepSummary;
import io.lineageledger.projections.WriteBehindStore;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.function.BiConsumer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
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

  /** What a summary adds to the metric history: its metrics and its loss under {@value #LOSS}. */
  static Map<String, Double> values(StepSummary s) {
    Map<String, Double> values = new HashMap<>(s.getMetrics());
    values.put(LOSS, s.getLoss());
    return values;
  }

  /**
   * The same fold over one partition's events held in memory, for
   * {@link io.lineageledger.projections.BulkRebuild}: after the same events, it holds what the
   * two stores of that partition's task would, and gives it as their changelog records.
   */
  public static final class InMemory {
    private final Map<String, Run> runs = new HashMap<>();
    // Chunks other than each run's current one.
    private final Map<Bytes, MetricChunk.Open> chunks = new HashMap<>();
    private long chunkBytes;

    /** A run's state and its current chunk, so that the next step of a run is no map lookup. */
    private static final class Run {
      RunState state;
      long chunkIndex = Long.MIN_VALUE;
      long chunkStep;
      MetricChunk.Growing chunk;
    }

    /**
     * Folds {@code event}, read under {@code subject}; events of subjects other than runs are
     * not run state. A run's metric chunk that this event closes (its next step is in the next
     * chunk) goes to {@code closed} as its changelog record; it is kept, as a later step may
     * still reopen it, and then comes out again when it closes anew.
     */
    public void apply(String subject, EventEnvelope event, BiConsumer<byte[], byte[]> closed) {
      if (!subject.startsWith("run:")) {
        return;
      }
      Run run = runs.get(subject);
      RunState after = (run == null ? RunState.empty(subject.substring(4)) : run.state).apply(event);
      if (run == null) {
        run = new Run();
        runs.put(subject, run);
      }
      run.state = after;
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        long index = MetricChunk.index(s.getStep());
        if (index != run.chunkIndex) {
          if (run.chunk != null) {
            Bytes key = MetricChunk.key(subject, run.chunkStep);
            MetricChunk.Open done = run.chunk.toOpen();
            chunks.put(key, done);
            closed.accept(key.get(), done.bytes());
          }
          MetricChunk.Open earlier = chunks.remove(MetricChunk.key(subject, s.getStep()));
          run.chunk = new MetricChunk.Growing(earlier == null ? MetricChunk.Open.of(null) : earlier);
          run.chunkIndex = index;
          run.chunkStep = s.getStep();
        }
        int before = run.chunk.length();
        run.chunk.add(s.getStep(), LOSS, s.getLoss(), s.getMetrics());
        chunkBytes += run.chunk.length() - before;
      }
    }

    /** A rough count of the heap bytes held: the chunks' bytes, and a few kilobytes per run. */
    public long approximateBytes() {
      return chunkBytes * 2 + chunks.size() * 96L + runs.size() * 4096L;
    }

    /** Each entry of {@value #STATE_STORE} as its changelog record: key and value bytes. */
    public void forEachState(BiConsumer<byte[], byte[]> out) {
      runs.forEach((subject, run) -> out.accept(subject.getBytes(StandardCharsets.UTF_8), RunStateCodec.encode(run.state)));
    }

    /** The entries of {@value #METRICS_STORE} not yet given to {@link #apply}'s {@code closed}: each run's current chunk. */
    public void forEachOpenChunk(BiConsumer<byte[], byte[]> out) {
      runs.forEach((subject, run) -> {
        if (run.chunk != null) {
          out.accept(MetricChunk.key(subject, run.chunkStep).get(), run.chunk.toOpen().bytes());
        }
      });
    }
  }

  /**
   * One task's fold. Between two commits a run's state and its current metric chunk stay
   * decoded in the write-behind stores, and the fold keeps their slots, so that the next event
   * of the run updates them without a map lookup; the first event of a run after a commit
   * decodes them from the store once.
   */
  private static final class Fold implements Processor<String, EventEnvelope, Void, Void> {
    // Runs whose slots a task's fold keeps; past this many it forgets them all and starts over.
    private static final int KEPT_RUNS = 10_000;
    private WriteBehindStore<String, RunState> states;
    private WriteBehindStore<Bytes, MetricChunk.Open> metrics;
    private final Map<String, Run> runs = new HashMap<>();

    /** A run's slots in the two stores, and which chunk its metric slot holds. */
    private static final class Run {
      WriteBehindStore.Slot<RunState> state;
      WriteBehindStore.Slot<MetricChunk.Open> chunk;
      long chunkIndex;
    }

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      states = WriteBehindStore.of(context.getStateStore(STATE_STORE));
      metrics = WriteBehindStore.of(context.getStateStore(METRICS_STORE));
      runs.clear(); // a revived task (after an aborted transaction) is initialized again
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String subject = record.key();
      if (!subject.startsWith("run:")) {
        return;
      }
      EventEnvelope event = record.value();
      Run run = runs.get(subject);
      if (run == null) {
        if (runs.size() >= KEPT_RUNS) {
          runs.clear();
        }
        run = new Run();
        runs.put(subject, run);
      }
      if (states.holds(run.state)) {
        run.state.set(run.state.value().apply(event));
      } else {
        RunState state = states.deferred(subject);
        if (state == null) {
          byte[] before = states.stored(subject);
          state = before == null ? RunState.empty(subject.substring(4)) : RunStateCodec.decode(before);
        }
        run.state = states.defer(subject, state.apply(event));
      }
      if (event.getPayload() instanceof StepSummary s && s.getStep() >= 0) {
        Map<String, Double> values = values(s);
        long index = MetricChunk.index(s.getStep());
        if (metrics.holds(run.chunk) && run.chunkIndex == index) {
          run.chunk.set(run.chunk.value().with(s.getStep(), values));
        } else {
          Bytes key = MetricChunk.key(subject, s.getStep());
          MetricChunk.Open chunk = metrics.deferred(key);
          if (chunk == null) {
            chunk = MetricChunk.Open.of(metrics.stored(key));
          }
          run.chunk = metrics.defer(key, chunk.with(s.getStep(), values));
          run.chunkIndex = index;
        }
      }
    }
  }
}
