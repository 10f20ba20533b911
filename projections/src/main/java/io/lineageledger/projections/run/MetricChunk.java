package io.lineageledger.projections.run;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.utils.Bytes;

/**
 * How the metric history of a run is stored: the loss and metrics of {@value #STEPS} consecutive
 * steps share one store entry, keyed by the run's subject and the chunk index, so that keys sort
 * by step and one run's history is a single range scan. A new summary is appended to its chunk,
 * which the store's cache rewrites in memory and logs once per commit; one entry per step and
 * metric would cost a changelog record each.
 *
 * <p>Value layout: per step, in step order, {@code step:long, count:short, (name:UTF, value:double)*}.
 */
public final class MetricChunk {
  /** Steps per chunk. */
  public static final int STEPS = 32;

  private MetricChunk() {}

  /** The index of the chunk holding {@code step}. */
  public static long index(long step) {
    return Math.floorDiv(step, STEPS);
  }

  /** The store key of the chunk holding {@code step} of {@code subject}. */
  public static Bytes key(String subject, long step) {
    byte[] s = subject.getBytes(StandardCharsets.UTF_8);
    return Bytes.wrap(ByteBuffer.allocate(4 + s.length + 8).putInt(s.length).put(s).putLong(index(step)).array());
  }

  /** The first key of {@code subject}'s chunks (inclusive), for range scans. */
  public static Bytes first(String subject) {
    return key(subject, 0);
  }

  /** The last key of {@code subject}'s chunks (inclusive), for range scans. */
  public static Bytes last(String subject) {
    return key(subject, Long.MAX_VALUE);
  }

  /** {@code chunk} (null for a new one) with step {@code step}'s values added, replacing any it held for that step. */
  public static byte[] with(byte[] chunk, long step, Map<String, Double> values) {
    return with(chunk, step, values, chunk == null || chunk.length == 0 ? Long.MIN_VALUE : lastStep(chunk));
  }

  private static byte[] with(byte[] chunk, long step, Map<String, Double> values, long lastStep) {
    if (chunk != null && chunk.length > 0 && lastStep >= step) {
      TreeMap<Long, Map<String, Double>> steps = new TreeMap<>(decode(chunk));
      steps.put(step, values);
      return encode(steps);
    }
    byte[] entry = encodeStep(step, values);
    if (chunk == null) {
      return entry;
    }
    byte[] out = new byte[chunk.length + entry.length];
    System.arraycopy(chunk, 0, out, 0, chunk.length);
    System.arraycopy(entry, 0, out, chunk.length, entry.length);
    return out;
  }

  /**
   * A chunk being written: its bytes and its last step, so that the usual case, the next step
   * of a run, is one append without reading the chunk again. Immutable.
   */
  public record Open(byte[] bytes, long lastStep) {
    /** The open form of a stored chunk (null: a new, empty one). */
    public static Open of(byte[] chunk) {
      return chunk == null || chunk.length == 0 ? new Open(new byte[0], Long.MIN_VALUE) : new Open(chunk, MetricChunk.lastStep(chunk));
    }

    /** This chunk with step {@code step}'s values added, replacing any it held for that step. */
    public Open with(long step, Map<String, Double> values) {
      return new Open(MetricChunk.with(bytes.length == 0 ? null : bytes, step, values, lastStep), Math.max(step, lastStep));
    }
  }

  /** One metric's values in a chunk, in step order, appended to {@code steps} and {@code values}. */
  public static void read(byte[] chunk, String metric, List<Long> steps, List<Double> values) {
    Series series = new Series();
    read(chunk, metric.getBytes(StandardCharsets.UTF_8), series);
    for (int i = 0; i < series.size(); i++) {
      steps.add(series.step(i));
      values.add(series.value(i));
    }
  }

  /** One metric's values in a chunk ({@code metric}: the name's UTF-8), in step order, appended to {@code series}. */
  public static void read(byte[] chunk, byte[] metric, Series series) {
    ByteBuffer b = ByteBuffer.wrap(chunk);
    while (b.hasRemaining()) {
      long step = b.getLong();
      int count = b.getShort();
      for (int i = 0; i < count; i++) {
        int len = b.getShort();
        boolean match = len == metric.length && regionEquals(chunk, b.position(), metric);
        b.position(b.position() + len);
        double v = b.getDouble();
        if (match) {
          series.add(step, v);
        }
      }
    }
  }

  /** A metric's steps and values in unboxed arrays that grow as they are appended to: a long run's history without an object per step. */
  public static final class Series {
    private long[] steps = new long[1024];
    private double[] values = new double[1024];
    private int size;

    void add(long step, double value) {
      if (size == steps.length) {
        steps = java.util.Arrays.copyOf(steps, size * 2);
        values = java.util.Arrays.copyOf(values, size * 2);
      }
      steps[size] = step;
      values[size++] = value;
    }

    public int size() {
      return size;
    }

    public long step(int i) {
      return steps[i];
    }

    public double value(int i) {
      return values[i];
    }
  }

  /** Every step of a chunk with its values. */
  public static Map<Long, Map<String, Double>> decode(byte[] chunk) {
    Map<Long, Map<String, Double>> out = new LinkedHashMap<>();
    ByteBuffer b = ByteBuffer.wrap(chunk);
    while (b.hasRemaining()) {
      long step = b.getLong();
      int count = b.getShort();
      Map<String, Double> values = new LinkedHashMap<>();
      for (int i = 0; i < count; i++) {
        byte[] n = new byte[b.getShort()];
        b.get(n);
        values.put(new String(n, StandardCharsets.UTF_8), b.getDouble());
      }
      out.put(step, Collections.unmodifiableMap(values));
    }
    return out;
  }

  /**
   * Step {@code step}'s entry for a summary: its {@code metrics} and its loss under
   * {@code lossName} (which wins over a metric of that name), as {@link #with} would write the
   * merged map, without building it.
   */
  static byte[] encodeStep(long step, String lossName, double loss, Map<String, Double> metrics) {
    int n = metrics.size() + (metrics.containsKey(lossName) ? 0 : 1);
    String[] names = new String[n];
    int k = 0;
    for (String name : metrics.keySet()) {
      if (!name.equals(lossName)) {
        names[k++] = name;
      }
    }
    names[k] = lossName;
    java.util.Arrays.sort(names);
    byte[][] encoded = new byte[n][];
    int size = 10;
    for (int i = 0; i < n; i++) {
      encoded[i] = names[i].getBytes(StandardCharsets.UTF_8);
      if (encoded[i].length > Short.MAX_VALUE) {
        throw new IllegalArgumentException("metric name of " + encoded[i].length + " bytes; the limit is " + Short.MAX_VALUE);
      }
      size += 2 + encoded[i].length + 8;
    }
    if (n > Short.MAX_VALUE) {
      throw new IllegalArgumentException(n + " metrics in one step; the limit is " + Short.MAX_VALUE);
    }
    ByteBuffer b = ByteBuffer.allocate(size).putLong(step).putShort((short) n);
    for (int i = 0; i < n; i++) {
      b.putShort((short) encoded[i].length).put(encoded[i]).putDouble(names[i].equals(lossName) ? loss : metrics.get(names[i]));
    }
    return b.array();
  }

  /**
   * A chunk appended to in place, for folding a run's steps in order in memory: the same bytes
   * as {@link Open#with} would give, without copying the chunk per step.
   */
  static final class Growing {
    private byte[] buf;
    private int length;
    private long lastStep;

    Growing(Open from) {
      buf = java.util.Arrays.copyOf(from.bytes(), Math.max(256, from.bytes().length * 2));
      length = from.bytes().length;
      lastStep = from.lastStep();
    }

    /** Adds a summary's step; one that is not after the last step rewrites the chunk like {@link Open#with}. */
    void add(long step, String lossName, double loss, Map<String, Double> metrics) {
      if (length > 0 && step <= lastStep) {
        Map<String, Double> values = new java.util.HashMap<>(metrics);
        values.put(lossName, loss);
        Open merged = toOpen().with(step, values);
        buf = java.util.Arrays.copyOf(merged.bytes(), Math.max(256, merged.bytes().length * 2));
        length = merged.bytes().length;
        lastStep = merged.lastStep();
        return;
      }
      byte[] entry = encodeStep(step, lossName, loss, metrics);
      if (length + entry.length > buf.length) {
        buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, length + entry.length));
      }
      System.arraycopy(entry, 0, buf, length, entry.length);
      length += entry.length;
      lastStep = step;
    }

    int length() {
      return length;
    }

    Open toOpen() {
      return length == 0 ? Open.of(null) : new Open(java.util.Arrays.copyOf(buf, length), lastStep);
    }
  }

  private static byte[] encodeStep(long step, Map<String, Double> values) {
    String[] names = values.keySet().toArray(new String[0]);
    java.util.Arrays.sort(names);
    byte[][] encoded = new byte[names.length][];
    int size = 10;
    for (int i = 0; i < names.length; i++) {
      encoded[i] = names[i].getBytes(StandardCharsets.UTF_8);
      if (encoded[i].length > Short.MAX_VALUE) {
        throw new IllegalArgumentException("metric name of " + encoded[i].length + " bytes; the limit is " + Short.MAX_VALUE);
      }
      size += 2 + encoded[i].length + 8;
    }
    if (names.length > Short.MAX_VALUE) {
      throw new IllegalArgumentException(names.length + " metrics in one step; the limit is " + Short.MAX_VALUE);
    }
    ByteBuffer b = ByteBuffer.allocate(size).putLong(step).putShort((short) names.length);
    for (int i = 0; i < names.length; i++) {
      b.putShort((short) encoded[i].length).put(encoded[i]).putDouble(values.get(names[i]));
    }
    return b.array();
  }

  private static byte[] encode(Map<Long, Map<String, Double>> steps) {
    List<byte[]> names = new ArrayList<>();
    int size = 0;
    for (Map<String, Double> values : steps.values()) {
      size += 10;
      for (String name : new TreeMap<>(values).keySet()) {
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        if (n.length > Short.MAX_VALUE) {
          throw new IllegalArgumentException("metric name of " + n.length + " bytes; the limit is " + Short.MAX_VALUE);
        }
        names.add(n);
        size += 2 + n.length + 8;
      }
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    int k = 0;
    for (Map.Entry<Long, Map<String, Double>> e : steps.entrySet()) {
      TreeMap<String, Double> sorted = new TreeMap<>(e.getValue());
      if (sorted.size() > Short.MAX_VALUE) {
        throw new IllegalArgumentException(sorted.size() + " metrics in one step; the limit is " + Short.MAX_VALUE);
      }
      b.putLong(e.getKey()).putShort((short) sorted.size());
      for (Double v : sorted.values()) {
        byte[] n = names.get(k++);
        b.putShort((short) n.length).put(n).putDouble(v);
      }
    }
    return b.array();
  }

  private static long lastStep(byte[] chunk) {
    ByteBuffer b = ByteBuffer.wrap(chunk);
    long step = Long.MIN_VALUE;
    while (b.hasRemaining()) {
      step = b.getLong();
      int count = b.getShort();
      for (int i = 0; i < count; i++) {
        int len = b.getShort();
        b.position(b.position() + len + 8);
      }
    }
    return step;
  }

  private static boolean regionEquals(byte[] a, int from, byte[] b) {
    for (int i = 0; i < b.length; i++) {
      if (a[from + i] != b[i]) {
        return false;
      }
    }
    return true;
  }
}
