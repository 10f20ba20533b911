package io.lineageledger.projections.detect;

import io.lineageledger.events.Alert;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStarted;
import io.lineageledger.events.StepSummary;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The health of one run as its own events show it: a fold over the run's events that raises
 * {@link AlertKind#NON_FINITE_LOSS}, {@link AlertKind#LOSS_SPIKE} and
 * {@link AlertKind#THROUGHPUT_DROP} from its step summaries, and, checked against the wall clock,
 * {@link AlertKind#RUN_SILENT}. Each condition is raised once: a flag per run, or an episode
 * that has to end before another can begin.
 *
 * <p>Mutable, owned by the thread of the task that holds the run; {@link #encode} and
 * {@link #decode} move it through a store.
 */
public final class RunHealth {
  private static final byte FORMAT = 1;

  final String runId;
  boolean finished;
  String resumedFrom;
  int resumedSummaries;
  int summariesSinceCheckpoint = Integer.MAX_VALUE;
  long lastHeardMicros = Long.MIN_VALUE;
  // When this detector last folded an event of the run (wall clock): a backlog being caught up on is not a silence.
  long lastProcessedMicros = Long.MIN_VALUE;
  String lastEventId;
  boolean silentRaised;
  boolean nonFiniteRaised;
  double[] losses = new double[0];
  int lossPos;
  boolean spiking;
  int calmSummaries = Integer.MAX_VALUE;
  double[] rates = new double[0];
  int ratePos;
  int lowStreak;
  boolean throughputLow;
  double lastLoss = Double.NaN;

  RunHealth(String runId) {
    this.runId = runId;
  }

  public static RunHealth empty(String runId) {
    return new RunHealth(runId);
  }

  public String runId() {
    return runId;
  }

  public boolean finished() {
    return finished;
  }

  /** The checkpoint digest the run resumed from, or null. */
  public String resumedFrom() {
    return resumedFrom;
  }

  /** The mean loss of the latest finite summary, or NaN. */
  public double lastLoss() {
    return lastLoss;
  }

  /** How many summaries right after a resume, and right after each checkpoint, the cross-run detectors compare. */
  public static final int SUMMARIES_AROUND_RESUME = 3;

  /**
   * What one event changed: alerts raised, and whether it is a step summary that the resume
   * detector needs (one of the first summaries of a resumed run, or of any run after a checkpoint).
   */
  public record Outcome(List<Alert> alerts, boolean summaryNearCheckpoint) {}

  /** Folds {@code event} of this run; {@code now} stamps the alerts. */
  public Outcome apply(EventEnvelope event, DetectorSettings s, Instant now) {
    List<Alert> alerts = new ArrayList<>();
    long at = micros(event.getOccurredAt());
    lastProcessedMicros = Math.max(lastProcessedMicros, micros(now));
    if (at > lastHeardMicros) {
      lastHeardMicros = at;
      lastEventId = event.getEventId();
      silentRaised = false; // a run heard again may go silent again later, which is another condition
    }
    boolean nearCheckpoint = false;
    Object p = event.getPayload();
    if (p instanceof RunStarted r) {
      resumedFrom = r.getResumedFrom();
    } else if (p instanceof io.lineageledger.events.CheckpointSaved) {
      summariesSinceCheckpoint = 0;
    } else if (p instanceof RunFinished) {
      finished = true;
      losses = new double[0];
      rates = new double[0];
    } else if (p instanceof StepSummary sum && !finished) {
      nearCheckpoint = (resumedFrom != null && resumedSummaries < SUMMARIES_AROUND_RESUME)
          || summariesSinceCheckpoint < SUMMARIES_AROUND_RESUME;
      if (resumedSummaries < SUMMARIES_AROUND_RESUME) {
        resumedSummaries++;
      }
      if (summariesSinceCheckpoint < SUMMARIES_AROUND_RESUME) {
        summariesSinceCheckpoint++;
      }
      summary(event, sum, s, now, alerts);
    }
    return new Outcome(alerts, nearCheckpoint);
  }

  private void summary(EventEnvelope event, StepSummary sum, DetectorSettings s, Instant now, List<Alert> alerts) {
    double loss = sum.getLoss();
    boolean finite = Double.isFinite(loss);
    if ((!finite || sum.getNonFiniteCount() > 0) && !nonFiniteRaised) {
      nonFiniteRaised = true;
      alerts.add(Alerts.of(AlertKind.NON_FINITE_LOSS, "NON_FINITE_LOSS|run:" + runId, "run:" + runId, runId, null,
          "Run " + runId + " produced a non-finite loss at step " + sum.getStep() + " (loss " + loss + ", "
              + sum.getNonFiniteCount() + " non-finite step(s) in the summary); its updates may be corrupt.",
          List.of(event.getEventId()), Alerts.details("step", sum.getStep(), "loss", loss, "non_finite_count", sum.getNonFiniteCount()),
          now));
    }
    if (finite) {
      spike(event, sum, loss, s, now, alerts);
      lastLoss = loss;
    }
    Double rate = sum.getMetrics().get("tokens_per_s");
    if (rate != null && Double.isFinite(rate) && rate > 0) {
      throughput(event, sum, rate, s, now, alerts);
    }
  }

  private void spike(EventEnvelope event, StepSummary sum, double loss, DetectorSettings s, Instant now, List<Alert> alerts) {
    boolean isSpike = false;
    double median = Double.NaN;
    double z = Double.NaN;
    if (losses.length >= s.window() / 2) {
      double[] sorted = losses.clone();
      Arrays.sort(sorted);
      median = median(sorted);
      double mad = mad(sorted, median);
      z = mad > 0 ? 0.6745 * (loss - median) / mad : (loss > median ? Double.POSITIVE_INFINITY : 0);
      isSpike = z > s.spikeZ() && loss >= median * s.spikeRatio() && loss - median > 1e-9;
    }
    if (isSpike) {
      if (!spiking && calmSummaries >= s.window() / 2) {
        alerts.add(Alerts.of(AlertKind.LOSS_SPIKE, "LOSS_SPIKE|run:" + runId + "|step:" + sum.getStep(), "run:" + runId, runId, null,
            "Run " + runId + "'s loss spiked to " + Alerts.fmt(loss) + " at step " + sum.getStep() + ", "
                + Alerts.fmt(loss / median) + "x the median " + Alerts.fmt(median) + " of its last " + losses.length
                + " summaries (robust z " + Alerts.fmt(z) + ").",
            List.of(event.getEventId()), Alerts.details("step", sum.getStep(), "loss", loss, "window_median", median, "robust_z", z,
                "window", losses.length), now));
      }
      spiking = true;
      calmSummaries = 0;
      return; // a spike does not enter the window it is judged against
    }
    spiking = false;
    if (calmSummaries != Integer.MAX_VALUE) {
      calmSummaries++;
    }
    losses = push(losses, loss, s.window(), lossPos);
    lossPos = (lossPos + 1) % s.window();
  }

  private void throughput(EventEnvelope event, StepSummary sum, double rate, DetectorSettings s, Instant now, List<Alert> alerts) {
    if (rates.length >= s.window() / 2) {
      double[] sorted = rates.clone();
      Arrays.sort(sorted);
      double median = median(sorted);
      if (rate < median * s.throughputRatio()) {
        lowStreak++;
        if (lowStreak >= s.throughputStreak() && !throughputLow) {
          throughputLow = true;
          alerts.add(Alerts.of(AlertKind.THROUGHPUT_DROP, "THROUGHPUT_DROP|run:" + runId + "|step:" + sum.getStep(), "run:" + runId,
              runId, null,
              "Run " + runId + "'s throughput fell to " + Alerts.fmt(rate) + " tokens/s at step " + sum.getStep() + ", "
                  + Alerts.fmt(rate / median) + "x its recent median of " + Alerts.fmt(median) + " tokens/s, for " + lowStreak
                  + " summaries in a row.",
              List.of(event.getEventId()), Alerts.details("step", sum.getStep(), "tokens_per_s", rate, "window_median", median,
                  "summaries_low", lowStreak), now));
        }
        return; // low rates stay out of the window, which keeps the run's normal pace
      }
    }
    lowStreak = 0;
    throughputLow = false;
    rates = push(rates, rate, s.window(), ratePos);
    ratePos = (ratePos + 1) % s.window();
  }

  /**
   * The alert when this unfinished run was last heard from longer than {@code silentAfter}
   * before {@code now}, once per silence; null otherwise.
   */
  public Alert silence(DetectorSettings s, Instant now) {
    if (finished || silentRaised || lastHeardMicros == Long.MIN_VALUE) {
      return null;
    }
    long silentMicros = micros(now) - Math.max(lastHeardMicros, lastProcessedMicros);
    if (silentMicros <= s.silentAfter().toNanos() / 1000) {
      return null;
    }
    silentRaised = true;
    Instant last = Instant.ofEpochSecond(0, lastHeardMicros * 1000);
    Duration silent = Duration.ofNanos((micros(now) - lastHeardMicros) * 1000);
    return Alerts.of(AlertKind.RUN_SILENT, "RUN_SILENT|run:" + runId + "|after:" + lastEventId, "run:" + runId, runId, null,
        "Run " + runId + " has sent nothing for " + silent.toSeconds() + " s (since " + last + ") and has not finished; "
            + "it may have been killed or hung.",
        lastEventId == null ? List.of() : List.of(lastEventId),
        Alerts.details("last_heard_at", last, "silent_seconds", silent.toSeconds(), "silent_after_seconds", s.silentAfter().toSeconds()),
        now);
  }

  private static double[] push(double[] ring, double v, int capacity, int pos) {
    if (ring.length < capacity) {
      double[] grown = Arrays.copyOf(ring, ring.length + 1);
      grown[ring.length] = v;
      return grown;
    }
    ring[pos] = v;
    return ring;
  }

  private static double median(double[] sorted) {
    int n = sorted.length;
    return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  }

  private static double mad(double[] sorted, double median) {
    double[] dev = new double[sorted.length];
    for (int i = 0; i < sorted.length; i++) {
      dev[i] = Math.abs(sorted[i] - median);
    }
    Arrays.sort(dev);
    return median(dev);
  }

  static long micros(Instant t) {
    return t.getEpochSecond() * 1_000_000L + t.getNano() / 1000;
  }

  public byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 8 * (losses.length + rates.length));
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(FORMAT);
      out.writeUTF(runId);
      out.writeBoolean(finished);
      writeNullable(out, resumedFrom);
      out.writeInt(resumedSummaries);
      out.writeInt(summariesSinceCheckpoint);
      out.writeLong(lastHeardMicros);
      out.writeLong(lastProcessedMicros);
      writeNullable(out, lastEventId);
      out.writeBoolean(silentRaised);
      out.writeBoolean(nonFiniteRaised);
      writeRing(out, losses, lossPos);
      out.writeBoolean(spiking);
      out.writeInt(calmSummaries);
      writeRing(out, rates, ratePos);
      out.writeInt(lowStreak);
      out.writeBoolean(throughputLow);
      out.writeDouble(lastLoss);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  public static RunHealth decode(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      byte format = in.readByte();
      if (format != FORMAT) {
        throw new IllegalArgumentException("run health of format " + format + " is not readable (expected " + FORMAT + ")");
      }
      RunHealth h = new RunHealth(in.readUTF());
      h.finished = in.readBoolean();
      h.resumedFrom = readNullable(in);
      h.resumedSummaries = in.readInt();
      h.summariesSinceCheckpoint = in.readInt();
      h.lastHeardMicros = in.readLong();
      h.lastProcessedMicros = in.readLong();
      h.lastEventId = readNullable(in);
      h.silentRaised = in.readBoolean();
      h.nonFiniteRaised = in.readBoolean();
      h.losses = readRing(in);
      h.lossPos = in.readInt();
      h.spiking = in.readBoolean();
      h.calmSummaries = in.readInt();
      h.rates = readRing(in);
      h.ratePos = in.readInt();
      h.lowStreak = in.readInt();
      h.throughputLow = in.readBoolean();
      h.lastLoss = in.readDouble();
      return h;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void writeRing(DataOutputStream out, double[] ring, int pos) throws IOException {
    out.writeInt(ring.length);
    for (double v : ring) {
      out.writeDouble(v);
    }
    out.writeInt(pos);
  }

  private static double[] readRing(DataInputStream in) throws IOException {
    double[] ring = new double[in.readInt()];
    for (int i = 0; i < ring.length; i++) {
      ring[i] = in.readDouble();
    }
    return ring;
  }

  private static void writeNullable(DataOutputStream out, String s) throws IOException {
    out.writeBoolean(s != null);
    if (s != null) {
      out.writeUTF(s);
    }
  }

  private static String readNullable(DataInputStream in) throws IOException {
    return in.readBoolean() ? in.readUTF() : null;
  }
}
