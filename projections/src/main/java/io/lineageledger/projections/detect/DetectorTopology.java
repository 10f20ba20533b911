package io.lineageledger.projections.detect;

import io.lineageledger.events.Alert;
import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.CheckpointSaved;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.DatasetBound;
import io.lineageledger.events.EvaluationCompleted;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.RunStarted;
import io.lineageledger.projections.EventDedupe;
import io.lineageledger.projections.LedgerTopology;
import io.lineageledger.projections.WriteBehindStore;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The detectors: a Kafka Streams application of its own (its own application id, so that
 * {@code ledger rebuild} of the query projections never re-raises or forgets what was raised)
 * that reads {@code ledger.events} and writes {@link Alert}s to {@code ledger.alerts}.
 *
 * <pre>
 * ledger.events → dedupe → run-health ──────────────────────────────→ ledger.alerts
 *                              └→ facts topic (1 partition) → catalog ─┘
 * </pre>
 *
 * <ul>
 *   <li>{@value #HEALTH_NODE} folds each run's step stream with {@link RunHealth} in
 *       {@value #HEALTH_STORE} on the run's own partition (the high-volume part), and checks every
 *       unfinished run for silence on a wall-clock punctuation.</li>
 *   <li>It passes the few events that other detectors join across subjects (run starts,
 *       checkpoints with the loss before them, dataset mentions, evaluations, model versions,
 *       baselines, and the first few summaries of a resumed run and after each checkpoint) to the facts topic, whose one partition
 *       brings them to one {@link DetectorCatalog} in {@value #CATALOG_STORE}.</li>
 * </ul>
 * Alerts are written in the same transactions as the state that decided them, so each
 * condition is raised once even across crashes.
 */
public final class DetectorTopology {
  public static final String HEALTH_STORE = "run-health";
  public static final String CATALOG_STORE = "detector-catalog";
  public static final String HEALTH_NODE = "run-health";
  public static final String CATALOG_NODE = "detector-catalog";
  static final String SOURCE = "events";
  static final String FACTS_SOURCE = "facts";
  static final String FACTS_SINK = "facts-sink";
  static final String ALERTS_SINK = "alerts-sink";

  private DetectorTopology() {}

  /** The facts topic of an application: internal to it, one partition. */
  public static String factsTopic(String applicationId) {
    return applicationId + ".facts";
  }

  public static Topology build(String eventsTopic, String factsTopic, String alertsTopic, Deserializer<EventEnvelope> envelopes,
                               Serializer<EventEnvelope> factSerializer, Serializer<Alert> alerts, DetectorSettings settings) {
    Topology t = new Topology();
    t.addSource(SOURCE, new StringDeserializer(), envelopes, eventsTopic);
    EventDedupe.addTo(t, SOURCE);
    t.addProcessor(HEALTH_NODE, () -> new Health(settings), EventDedupe.NODE);
    // A run's health stays an object between commits and is encoded once per commit, as the run states are.
    t.addStateStore(WriteBehindStore.<String, RunHealth>builder(
        Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(HEALTH_STORE), Serdes.String(), Serdes.ByteArray()).withCachingDisabled(),
        RunHealth::encode, subject -> Bytes.wrap(subject.getBytes(StandardCharsets.UTF_8))), HEALTH_NODE);
    t.addSink(FACTS_SINK, factsTopic, new StringSerializer(), factSerializer, HEALTH_NODE);
    t.addSource(FACTS_SOURCE, new StringDeserializer(), envelopes, factsTopic);
    t.addProcessor(CATALOG_NODE, () -> new Catalog(settings), FACTS_SOURCE);
    t.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(CATALOG_STORE), Serdes.String(), Serdes.ByteArray())
        .withCachingEnabled(), CATALOG_NODE);
    t.addSink(ALERTS_SINK, alertsTopic, new StringSerializer(), alerts, HEALTH_NODE, CATALOG_NODE);
    return t;
  }

  /**
   * The settings of the detectors application: those of the projections
   * ({@link LedgerTopology#streamsConfig}) without a dead-letter topic (the projections already
   * put unreadable events there; the detectors only skip them), and {@code overrides}.
   */
  public static Properties streamsConfig(String applicationId, String bootstrapServers, Path stateDir, String applicationServer,
                                         Map<String, ?> overrides) {
    Properties p = LedgerTopology.streamsConfig(applicationId, bootstrapServers, stateDir, applicationServer, "unused", Map.of());
    p.remove(StreamsConfig.ERRORS_DEAD_LETTER_QUEUE_TOPIC_NAME_CONFIG);
    // Few tasks do little work each: one thread is plenty, and leaves the cores to the projections.
    p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
    p.putAll(overrides);
    return p;
  }

  /** Whether the catalog needs to see {@code event} (the health processor adds a resumed run's first summary). */
  static boolean isFact(Object payload) {
    return payload instanceof RunStarted || payload instanceof CheckpointSaved || payload instanceof DatasetBound
        || payload instanceof DataTransformApplied || payload instanceof EvaluationCompleted || payload instanceof ModelVersionRegistered
        || payload instanceof BaselineDesignated;
  }

  /** Folds run events into {@link RunHealth}; passes facts on; checks for silence. Owned by its task's thread. */
  private static final class Health implements Processor<String, EventEnvelope, String, Object> {
    private final DetectorSettings settings;
    private ProcessorContext<String, Object> context;
    private WriteBehindStore<String, RunHealth> store;

    Health(DetectorSettings settings) {
      this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
      this.context = context;
      this.store = WriteBehindStore.of(context.getStateStore(HEALTH_STORE));
      context.schedule(settings.silenceCheckEvery(), PunctuationType.WALL_CLOCK_TIME, this::checkSilence);
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      String subject = record.key();
      EventEnvelope event = record.value();
      Object payload = event.getPayload();
      EventEnvelope fact = isFact(payload) ? event : null;
      if (subject.startsWith("run:")) {
        RunHealth health = health(subject, null);
        if (payload instanceof CheckpointSaved c && Double.isFinite(health.lastLoss())) {
          Map<String, Double> metrics = new HashMap<>(c.getMetrics());
          metrics.put(DetectorCatalog.LAST_SUMMARY_LOSS, health.lastLoss());
          fact = EventEnvelope.newBuilder(event).setPayload(CheckpointSaved.newBuilder(c).setMetrics(metrics).build()).build();
        }
        RunHealth.Outcome outcome = health.apply(event, settings, Instant.ofEpochMilli(context.currentSystemTimeMs()));
        if (outcome.summaryNearCheckpoint()) {
          fact = event;
        }
        store.defer(subject, health);
        for (Alert a : outcome.alerts()) {
          context.forward(new Record<String, Object>(a.getSubject(), a, record.timestamp()), ALERTS_SINK);
        }
      }
      if (fact != null) {
        context.forward(new Record<String, Object>(subject, fact, record.timestamp()), FACTS_SINK);
      }
    }

    private void checkSilence(long wallClockMs) {
      Instant now = Instant.ofEpochMilli(wallClockMs);
      Map<String, RunHealth> changed = new HashMap<>();
      try (KeyValueIterator<String, byte[]> it = store.all()) {
        while (it.hasNext()) {
          KeyValue<String, byte[]> kv = it.next();
          RunHealth h = health(kv.key, kv.value);
          Alert a = h.silence(settings, now);
          if (a != null) {
            changed.put(kv.key, h);
            context.forward(new Record<String, Object>(a.getSubject(), a, wallClockMs), ALERTS_SINK);
          }
        }
      }
      changed.forEach(store::defer);
    }

    /** The run's health: the object deferred since the last commit, else decoded from {@code stored} (read when null). */
    private RunHealth health(String subject, byte[] stored) {
      RunHealth h = store.deferred(subject);
      if (h != null) {
        return h;
      }
      byte[] bytes = stored != null ? stored : store.stored(subject);
      return bytes == null ? RunHealth.empty(subject.substring(4)) : RunHealth.decode(bytes);
    }
  }

  /** Folds facts into the {@link DetectorCatalog}. Owned by the thread of the facts topic's one task. */
  private static final class Catalog implements Processor<String, EventEnvelope, String, Object> {
    private final DetectorSettings settings;
    private ProcessorContext<String, Object> context;
    private DetectorCatalog catalog;

    Catalog(DetectorSettings settings) {
      this.settings = settings;
    }

    @Override
    public void init(ProcessorContext<String, Object> context) {
      this.context = context;
      KeyValueStore<String, byte[]> store = context.getStateStore(CATALOG_STORE);
      this.catalog = new DetectorCatalog(new DetectorCatalog.Kv() {
        @Override
        public byte[] get(String key) {
          return store.get(key);
        }

        @Override
        public void put(String key, byte[] value) {
          store.put(key, value);
        }
      }, settings);
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      for (Alert a : catalog.apply(record.value(), Instant.ofEpochMilli(context.currentSystemTimeMs()))) {
        context.forward(new Record<String, Object>(a.getSubject(), a, record.timestamp()), ALERTS_SINK);
      }
    }
  }
}
