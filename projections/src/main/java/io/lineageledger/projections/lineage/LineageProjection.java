package io.lineageledger.projections.lineage;

import io.lineageledger.events.EventEnvelope;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The lineage projection: the edges each event states ({@link LineageFacts}) are written to a
 * compacted edges topic (key: the relation, so a relation stated twice is one record), and every
 * instance keeps all of them in the global store {@value #STORE}, indexed both ways, so any
 * instance answers any lineage query without forwarding it. Upstream, the usual question, is one
 * point read per node: {@code A<sep>from} holds every edge out of {@code from} (a node comes from
 * few things); downstream is a prefix scan of {@code D<sep>to<sep>relation}, as a popular dataset
 * may feed thousands of runs. Of two statements of a relation the
 * store keeps {@link LineageEdge#first}, so rebuilds agree whatever order partitions arrive in.
 */
public final class LineageProjection {
  public static final String STORE = "lineage-edges";
  public static final String NODE = "lineage-facts";
  private static final String SINK = "lineage-edges-sink";
  private static final String GLOBAL_SOURCE = "lineage-edges-source";
  private static final String GLOBAL_NODE = "lineage-edges-index";
  private static final char SEP = '\u0000';

  private LineageProjection() {}

  /** Adds the projection under {@code parent} (deduplicated, valid events), writing to and reading {@code edgesTopic}. */
  public static void addTo(Topology topology, String parent, String edgesTopic) {
    topology.addProcessor(NODE, Facts::new, parent);
    topology.addSink(SINK, edgesTopic, new StringSerializer(), new ByteArraySerializer(), NODE);
    addStore(topology, edgesTopic);
  }

  /** Adds only the global store {@value #STORE} fed by {@code edgesTopic}: for instances that answer lineage queries. */
  public static void addStore(Topology topology, String edgesTopic) {
    topology.addGlobalStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(STORE), Serdes.String(), Serdes.ByteArray())
            .withLoggingDisabled(), // the edges topic is its changelog
        GLOBAL_SOURCE, new StringDeserializer(), new ByteArrayDeserializer(), edgesTopic, GLOBAL_NODE, Index::new);
  }

  /** The edges {@code store} holds around {@code node}, as an {@link LineageGraph.EdgeSource}. */
  public static LineageGraph.EdgeSource edges(ReadOnlyKeyValueStore<String, byte[]> store) {
    return new LineageGraph.EdgeSource() {
      @Override
      public List<LineageEdge> upstreamOf(String node) {
        return decodeList(store.get("A" + SEP + node));
      }

      @Override
      public List<LineageEdge> downstreamOf(String node) {
        return scan(store, "D" + SEP + node + SEP);
      }
    };
  }

  private static List<LineageEdge> scan(ReadOnlyKeyValueStore<String, byte[]> store, String prefix) {
    List<LineageEdge> out = new ArrayList<>();
    // Keys sort by their UTF-8 bytes; SEP is the smallest character, so [prefix, prefix + U+FFFF] is exactly the prefix's keys.
    try (KeyValueIterator<String, byte[]> it = store.range(prefix, prefix + '\uffff')) {
      it.forEachRemaining(kv -> out.add(decode(kv.value)));
    }
    return out;
  }

  public static byte[] encode(LineageEdge e) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(1);
      out.writeUTF(e.from());
      out.writeByte(e.kind().ordinal());
      out.writeUTF(e.to());
      out.writeUTF(e.eventId());
      out.writeLong(e.at().getEpochSecond());
      out.writeInt(e.at().getNano());
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
    return bytes.toByteArray();
  }

  /** The edges out of one node, sorted by relation: format 2, a count, then each edge as {@link #encode} writes it. */
  static byte[] encodeList(List<LineageEdge> edges) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 128 * edges.size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(2);
      out.writeInt(edges.size());
      for (LineageEdge e : edges) {
        byte[] one = encode(e);
        out.writeInt(one.length);
        out.write(one);
      }
    } catch (IOException x) {
      throw new UncheckedIOException(x);
    }
    return bytes.toByteArray();
  }

  static List<LineageEdge> decodeList(byte[] bytes) {
    if (bytes == null) {
      return new ArrayList<>();
    }
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != 2) {
        throw new IllegalArgumentException("lineage edge list in format " + format + "; this version reads format 2");
      }
      int n = in.readInt();
      List<LineageEdge> edges = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        byte[] one = new byte[in.readInt()];
        in.readFully(one);
        edges.add(decode(one));
      }
      return edges;
    } catch (IOException x) {
      throw new IllegalArgumentException("cannot read a lineage edge list: " + x, x);
    }
  }

  public static LineageEdge decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != 1) {
        throw new IllegalArgumentException("lineage edge in format " + format + "; this version reads format 1");
      }
      return new LineageEdge(in.readUTF(), LineageEdge.Kind.values()[in.readByte()], in.readUTF(), in.readUTF(),
          Instant.ofEpochSecond(in.readLong(), in.readInt()));
    } catch (IOException x) {
      throw new IllegalArgumentException("cannot read a lineage edge: " + x, x);
    }
  }

  private static final class Facts implements Processor<String, EventEnvelope, String, byte[]> {
    private ProcessorContext<String, byte[]> context;

    @Override
    public void init(ProcessorContext<String, byte[]> context) {
      this.context = context;
    }

    @Override
    public void process(Record<String, EventEnvelope> record) {
      for (LineageEdge e : LineageFacts.of(record.value())) {
        context.forward(new Record<>(e.relation(), encode(e), record.timestamp()));
      }
    }
  }

  /** Keeps each relation under both of its nodes: in the list {@code A<sep>from} and as {@code D<sep>to<sep>relation}. */
  private static final class Index implements Processor<String, byte[], Void, Void> {
    private KeyValueStore<String, byte[]> store;

    @Override
    public void init(ProcessorContext<Void, Void> context) {
      store = context.getStateStore(STORE);
    }

    @Override
    public void process(Record<String, byte[]> record) {
      if (record.value() == null) {
        return;
      }
      LineageEdge e = decode(record.value());
      String up = "A" + SEP + e.from();
      List<LineageEdge> out = decodeList(store.get(up));
      int at = 0;
      while (at < out.size() && out.get(at).relation().compareTo(e.relation()) < 0) {
        at++;
      }
      if (at < out.size() && out.get(at).relation().equals(e.relation())) {
        if (LineageEdge.first(out.get(at), e) != e || out.get(at).equals(e)) {
          return; // an earlier statement of this relation is kept
        }
        out.set(at, e);
      } else {
        out.add(at, e);
      }
      store.put(up, encodeList(out));
      store.put("D" + SEP + e.to() + SEP + e.relation(), encode(e));
    }
  }
}
