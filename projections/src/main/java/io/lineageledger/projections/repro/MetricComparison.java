package io.lineageledger.projections.repro;

import io.lineageledger.projections.run.RunState;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * One metric of two sides (a run, or several runs such as the seeds of a variant), compared:
 * each side's mean with its 95% CI and n, the difference {@code b - a}, whether it is within
 * tolerance, which side is better given the metric's direction, and, when both sides have two
 * values or more, Welch's t-test and a bootstrap interval of the difference.
 *
 * <p>Where a side's values come from ({@code aKind}, {@code bKind}):
 * <ul>
 *   <li>one run whose evaluation gave per-seed or per-sample values: those ({@code per_seed},
 *       {@code per_sample});</li>
 *   <li>one run otherwise: its single value ({@code value});</li>
 *   <li>several runs: one value per run ({@code per_run}).</li>
 * </ul>
 * A run's metrics are those of its latest evaluation, then the final metrics of its
 * {@code RunFinished}, then {@code loss}, its latest training loss.
 */
public record MetricComparison(String metric, String direction, Stats.Summary a, String aKind, Stats.Summary b, String bKind,
                               double delta, Double relativeDelta, boolean withinTolerance, String better, Stats.Welch welch,
                               Stats.Interval bootstrapCi) {
  /** A difference is within tolerance when it is at most this fraction of |a| ... */
  public static final double RELATIVE_TOLERANCE = 0.01;
  /** ... or when Welch's test does not find it significant at this level. */
  public static final double SIGNIFICANCE = 0.05;
  static final int BOOTSTRAP_RESAMPLES = 2000;
  static final long BOOTSTRAP_SEED = 20261122L;

  /** The values of one metric on one side. */
  record Values(String kind, double[] values) {}

  /** Every metric that both sides have, compared, by name. */
  public static List<MetricComparison> compare(List<RunState> a, List<RunState> b) {
    Map<String, Values> va = values(a);
    Map<String, Values> vb = values(b);
    List<MetricComparison> out = new ArrayList<>();
    for (Map.Entry<String, Values> e : va.entrySet()) {
      Values other = vb.get(e.getKey());
      if (other != null) {
        out.add(of(e.getKey(), e.getValue(), other));
      }
    }
    return out;
  }

  /**
   * One metric of two sides given as values: each side's per-seed or per-sample values
   * ({@code kind} says which), or a single value.
   */
  public static MetricComparison of(String metric, String aKind, double[] a, String bKind, double[] b) {
    return of(metric, new Values(aKind, a), new Values(bKind, b));
  }

  static MetricComparison of(String metric, Values a, Values b) {
    Stats.Summary sa = Stats.summary(a.values());
    Stats.Summary sb = Stats.summary(b.values());
    double delta = sb.mean() - sa.mean();
    Double relative = sa.mean() == 0 ? null : delta / Math.abs(sa.mean());
    Stats.Welch welch = null;
    Stats.Interval boot = null;
    if (a.values().length >= 2 && b.values().length >= 2) {
      welch = Stats.welch(a.values(), b.values());
      boot = Stats.bootstrapMeanDifference(a.values(), b.values(), BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED);
    }
    boolean small = Math.abs(delta) <= Math.max(RELATIVE_TOLERANCE * Math.abs(sa.mean()), 1e-12) || delta == 0;
    boolean within = small || (welch != null && welch.p() >= SIGNIFICANCE);
    boolean lower = lowerIsBetter(metric);
    String better = within || Double.isNaN(delta) ? "neither" : (delta < 0) == lower ? "b" : "a";
    return new MetricComparison(metric, lower ? "lower_is_better" : "higher_is_better", sa, a.kind(), sb, b.kind(), delta, relative,
        within, better, welch, boot);
  }

  /** Losses, perplexities, error rates and latencies are better lower; everything else higher. */
  public static boolean lowerIsBetter(String metric) {
    String m = metric.toLowerCase(Locale.ROOT);
    for (String word : List.of("loss", "perplexity", "ppl", "error", "err", "wer", "cer", "latency", "time", "nll")) {
      if (m.contains(word)) {
        return true;
      }
    }
    return false;
  }

  static Map<String, Values> values(List<RunState> side) {
    if (side.size() == 1) {
      return valuesOfOne(side.get(0));
    }
    Map<String, List<Double>> perRun = new TreeMap<>();
    for (RunState run : side) {
      pointValues(run).forEach((k, v) -> perRun.computeIfAbsent(k, x -> new ArrayList<>()).add(v));
    }
    Map<String, Values> out = new TreeMap<>();
    perRun.forEach((k, v) -> {
      if (v.size() == side.size()) { // a metric some runs lack would compare unlike groups
        out.put(k, new Values("per_run", v.stream().mapToDouble(Double::doubleValue).toArray()));
      }
    });
    return out;
  }

  private static Map<String, Values> valuesOfOne(RunState run) {
    Map<String, Values> out = new TreeMap<>();
    RunState.Evaluation eval = run.evaluations().isEmpty() ? null : run.evaluations().get(run.evaluations().size() - 1);
    pointValues(run).forEach((k, v) -> {
      List<Double> samples = eval == null ? null : eval.samples().get(k);
      if (samples != null && samples.size() >= 2 && eval.metrics().containsKey(k)) {
        String kind = eval.sampleKind() == null ? "per_sample" : eval.sampleKind();
        out.put(k, new Values(kind, samples.stream().mapToDouble(Double::doubleValue).toArray()));
      } else {
        out.put(k, new Values("value", new double[] {v}));
      }
    });
    return out;
  }

  /** A run's metrics, one value each: latest evaluation, then final metrics, then the latest training loss. */
  static Map<String, Double> pointValues(RunState run) {
    Map<String, Double> out = new TreeMap<>();
    if (!run.evaluations().isEmpty()) {
      out.putAll(run.evaluations().get(run.evaluations().size() - 1).metrics());
    }
    if (run.finished() != null) {
      run.finished().getFinalMetrics().forEach(out::putIfAbsent);
    }
    if (run.latestLoss() != null) {
      out.putIfAbsent("loss", run.latestLoss());
    }
    return out;
  }
}
