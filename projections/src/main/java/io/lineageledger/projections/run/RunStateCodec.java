package io.lineageledger.projections.run;

import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.avro.io.BinaryDecoder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.io.EncoderFactory;
import org.apache.avro.specific.SpecificDatumReader;
import org.apache.avro.specific.SpecificDatumWriter;
import org.apache.avro.specific.SpecificRecord;

/**
 * The bytes a {@link RunState} is kept as in the run-state store. Deterministic: equal states
 * encode to equal bytes, which is what lets a rebuilt store be compared with the live one byte
 * for byte. The {@code RunStarted} and {@code RunFinished} payloads are kept as Avro binary of
 * the schema compiled into this version; the leading format byte lets a later version read
 * what an earlier one wrote. Format 2 added the evidence of reports (event ids, the checkpoint's
 * scheduler flag and commit, the evaluation's settings and samples); format 1 still reads, with
 * those left empty.
 */
public final class RunStateCodec {
  private static final byte FORMAT = 2;
  private static final byte FORMAT_WITHOUT_EVIDENCE = 1;

  private RunStateCodec() {}

  public static byte[] encode(RunState s) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(512);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeUTF(s.runId);
      avro(out, s.started);
      nullableString(out, s.startedEventId);
      out.writeByte(s.status.ordinal());
      strings(out, s.config);
      out.writeInt(s.configHistory.size());
      for (RunState.ConfigVersion c : s.configHistory) {
        nullableString(out, c.digest());
        instant(out, c.at());
        out.writeLong(c.atStep());
        out.writeInt(c.changedKeys().size());
        for (String k : c.changedKeys()) {
          out.writeUTF(k);
        }
        nullableString(out, c.eventId());
      }
      out.writeInt(s.datasets.size());
      for (RunState.BoundDataset d : s.datasets) {
        out.writeUTF(d.role());
        out.writeUTF(d.name());
        out.writeUTF(d.version());
        out.writeUTF(d.digest());
        nullableString(out, d.eventId());
      }
      out.writeLong(s.latestStep);
      nullableDouble(out, s.latestLoss);
      doubles(out, s.latestMetrics);
      out.writeLong(s.nonFiniteSteps);
      nullableLong(out, s.tokensSeen);
      out.writeInt(s.checkpoints.size());
      for (RunState.Checkpoint c : s.checkpoints) {
        out.writeLong(c.step());
        out.writeUTF(c.digest());
        nullableString(out, c.uri());
        out.writeLong(c.sizeBytes());
        out.writeBoolean(c.complete());
        instant(out, c.at());
        out.writeBoolean(c.scheduler());
        nullableString(out, c.codeCommit());
        nullableString(out, c.eventId());
      }
      out.writeInt(s.evaluations.size());
      for (RunState.Evaluation e : s.evaluations) {
        out.writeUTF(e.evalId());
        nullableString(out, e.checkpointDigest());
        nullableString(out, e.suite());
        nullableString(out, e.suiteVersion());
        nullableLong(out, e.seed());
        doubles(out, e.metrics());
        instant(out, e.at());
        nullableString(out, e.promptVersion());
        strings(out, e.decodingParams());
        out.writeInt(e.samples().size());
        for (Map.Entry<String, List<Double>> sample : new TreeMap<>(e.samples()).entrySet()) {
          out.writeUTF(sample.getKey());
          out.writeInt(sample.getValue().size());
          for (double v : sample.getValue()) {
            out.writeDouble(v);
          }
        }
        nullableString(out, e.sampleKind());
        nullableString(out, e.eventId());
      }
      avro(out, s.finished);
      nullableString(out, s.finishedEventId);
      instant(out, s.startedAt);
      instant(out, s.lastEventAt);
      out.writeLong(s.events);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The state {@code bytes} hold; an {@link IllegalArgumentException} names what is wrong with bytes it cannot read. */
  public static RunState decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != FORMAT && format != FORMAT_WITHOUT_EVIDENCE) {
        throw new IllegalArgumentException("run state in format " + format + "; this version reads formats "
            + FORMAT_WITHOUT_EVIDENCE + " and " + FORMAT);
      }
      boolean evidence = format == FORMAT;
      RunState s = new RunState(in.readUTF());
      s.started = avro(in, RunStarted.class);
      s.startedEventId = evidence ? readNullableString(in) : null;
      s.status = RunState.Status.values()[in.readByte()];
      s.config = readStrings(in);
      int n = in.readInt();
      List<RunState.ConfigVersion> history = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String digest = readNullableString(in);
        Instant at = readInstant(in);
        long atStep = in.readLong();
        int k = in.readInt();
        List<String> keys = new ArrayList<>(k);
        for (int j = 0; j < k; j++) {
          keys.add(in.readUTF());
        }
        history.add(new RunState.ConfigVersion(digest, at, atStep, List.copyOf(keys), evidence ? readNullableString(in) : null));
      }
      s.configHistory = Collections.unmodifiableList(history);
      n = in.readInt();
      List<RunState.BoundDataset> datasets = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        datasets.add(new RunState.BoundDataset(in.readUTF(), in.readUTF(), in.readUTF(), in.readUTF(),
            evidence ? readNullableString(in) : null));
      }
      s.datasets = Collections.unmodifiableList(datasets);
      s.latestStep = in.readLong();
      s.latestLoss = readNullableDouble(in);
      s.latestMetrics = readDoubles(in);
      s.nonFiniteSteps = in.readLong();
      s.tokensSeen = readNullableLong(in);
      n = in.readInt();
      List<RunState.Checkpoint> checkpoints = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        long step = in.readLong();
        String digest = in.readUTF();
        String uri = readNullableString(in);
        long size = in.readLong();
        boolean complete = in.readBoolean();
        Instant at = readInstant(in);
        checkpoints.add(evidence
            ? new RunState.Checkpoint(step, digest, uri, size, complete, at, in.readBoolean(), readNullableString(in), readNullableString(in))
            : new RunState.Checkpoint(step, digest, uri, size, complete, at, false, null, null));
      }
      s.checkpoints = Collections.unmodifiableList(checkpoints);
      n = in.readInt();
      List<RunState.Evaluation> evaluations = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        String evalId = in.readUTF();
        String checkpointDigest = readNullableString(in);
        String suite = readNullableString(in);
        String suiteVersion = readNullableString(in);
        Long seed = readNullableLong(in);
        Map<String, Double> metrics = readDoubles(in);
        Instant at = readInstant(in);
        if (!evidence) {
          evaluations.add(new RunState.Evaluation(evalId, checkpointDigest, suite, suiteVersion, seed, metrics, at, null, Map.of(),
              Map.of(), null, null));
          continue;
        }
        String promptVersion = readNullableString(in);
        Map<String, String> decoding = readStrings(in);
        int k = in.readInt();
        Map<String, List<Double>> samples = new TreeMap<>();
        for (int j = 0; j < k; j++) {
          String name = in.readUTF();
          int m = in.readInt();
          Double[] values = new Double[m];
          for (int v = 0; v < m; v++) {
            values[v] = in.readDouble();
          }
          samples.put(name, List.of(values));
        }
        evaluations.add(new RunState.Evaluation(evalId, checkpointDigest, suite, suiteVersion, seed, metrics, at, promptVersion,
            decoding, Collections.unmodifiableMap(samples), readNullableString(in), readNullableString(in)));
      }
      s.evaluations = Collections.unmodifiableList(evaluations);
      s.finished = avro(in, RunFinished.class);
      s.finishedEventId = evidence ? readNullableString(in) : null;
      s.startedAt = readInstant(in);
      s.lastEventAt = readInstant(in);
      s.events = in.readLong();
      if (in.available() > 0) {
        throw new IllegalArgumentException("run state of '" + s.runId + "' has " + in.available() + " bytes after its end");
      }
      return s;
    } catch (IOException | RuntimeException e) {
      if (e instanceof IllegalArgumentException iae) {
        throw iae;
      }
      throw new IllegalArgumentException("cannot read a run state (" + bytes.length + " bytes): " + e, e);
    }
  }

  private static void avro(DataOutputStream out, SpecificRecord record) throws IOException {
    if (record == null) {
      out.writeInt(-1);
      return;
    }
    ByteArrayOutputStream buf = new ByteArrayOutputStream(256);
    BinaryEncoder enc = EncoderFactory.get().directBinaryEncoder(buf, null);
    @SuppressWarnings("unchecked")
    SpecificDatumWriter<SpecificRecord> writer = new SpecificDatumWriter<>((Class<SpecificRecord>) record.getClass());
    writer.write(record, enc);
    enc.flush();
    out.writeInt(buf.size());
    buf.writeTo(out);
  }

  private static <T extends SpecificRecord> T avro(DataInputStream in, Class<T> type) throws IOException {
    int n = in.readInt();
    if (n < 0) {
      return null;
    }
    byte[] b = in.readNBytes(n);
    BinaryDecoder dec = DecoderFactory.get().binaryDecoder(b, null);
    return new SpecificDatumReader<>(type).read(null, dec);
  }

  private static void strings(DataOutputStream out, Map<String, String> map) throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, String> e : new TreeMap<>(map).entrySet()) {
      out.writeUTF(e.getKey());
      nullableString(out, e.getValue());
    }
  }

  private static Map<String, String> readStrings(DataInputStream in) throws IOException {
    int n = in.readInt();
    Map<String, String> map = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      map.put(in.readUTF(), readNullableString(in));
    }
    return Collections.unmodifiableMap(map);
  }

  private static void doubles(DataOutputStream out, Map<String, Double> map) throws IOException {
    out.writeInt(map.size());
    for (Map.Entry<String, Double> e : new TreeMap<>(map).entrySet()) {
      out.writeUTF(e.getKey());
      out.writeDouble(e.getValue());
    }
  }

  private static Map<String, Double> readDoubles(DataInputStream in) throws IOException {
    int n = in.readInt();
    Map<String, Double> map = new TreeMap<>();
    for (int i = 0; i < n; i++) {
      map.put(in.readUTF(), in.readDouble());
    }
    return Collections.unmodifiableMap(map);
  }

  // writeUTF is limited to 64 KiB; config values and URIs may be longer, so these use a length prefix.
  private static void nullableString(DataOutputStream out, String s) throws IOException {
    if (s == null) {
      out.writeInt(-1);
      return;
    }
    byte[] b = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    out.writeInt(b.length);
    out.write(b);
  }

  private static String readNullableString(DataInputStream in) throws IOException {
    int n = in.readInt();
    return n < 0 ? null : new String(in.readNBytes(n), java.nio.charset.StandardCharsets.UTF_8);
  }

  private static void nullableDouble(DataOutputStream out, Double d) throws IOException {
    out.writeBoolean(d != null);
    if (d != null) {
      out.writeDouble(d);
    }
  }

  private static Double readNullableDouble(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readDouble() : null;
  }

  private static void nullableLong(DataOutputStream out, Long l) throws IOException {
    out.writeBoolean(l != null);
    if (l != null) {
      out.writeLong(l);
    }
  }

  private static Long readNullableLong(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readLong() : null;
  }

  private static void instant(DataOutputStream out, Instant t) throws IOException {
    out.writeBoolean(t != null);
    if (t != null) {
      out.writeLong(t.getEpochSecond());
      out.writeInt(t.getNano());
    }
  }

  private static Instant readInstant(DataInputStream in) throws IOException {
    return in.readBoolean() ? Instant.ofEpochSecond(in.readLong(), in.readInt()) : null;
  }
}
