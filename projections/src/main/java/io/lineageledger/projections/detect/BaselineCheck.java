package io.lineageledger.projections.detect;

import io.lineageledger.events.BaselineRule;
import io.lineageledger.events.MetricDirection;
import io.lineageledger.projections.repro.Stats;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One metric of one evaluation checked against its baseline under one {@link BaselineRule}:
 * the figures, the verdict and the reason in words. {@code delta} is the worsening (positive
 * when the evaluation is worse than the baseline, whichever the metric's direction).
 *
 * <p>Verdicts: {@code OK} (no worsening beyond the rule), {@code REGRESSED} (beyond the rule, and
 * significant where both sides have samples), {@code NOT_SIGNIFICANT} (beyond the rule but
 * Welch's t-test does not find it significant at the rule's level), {@code MISSING} (a side lacks
 * the metric).
 */
public record BaselineCheck(String evalId, String eventId, String target, String metric, String direction, Double observed,
                            Double baseline, Double delta, Double relativeDelta, Double pValue, int nObserved, int nBaseline,
                            String rule, String verdict, String reason, String baselineRunId, String baselineEvalId,
                            String baselineEventId) {
  public static final String OK = "OK";
  public static final String REGRESSED = "REGRESSED";
  public static final String NOT_SIGNIFICANT = "NOT_SIGNIFICANT";
  public static final String MISSING = "MISSING";

  /** An evaluation's values of a metric: the point value and, where given, its per-seed or per-sample values. */
  public record Side(String evalId, String eventId, String runId, Double value, double[] samples) {}

  public boolean regressed() {
    return REGRESSED.equals(verdict);
  }

  /** Checks {@code observed} against {@code base} under {@code rule}; {@code target} names what the baseline is for. */
  public static BaselineCheck of(String target, BaselineRule rule, Side observed, Side base) {
    String metric = rule.getMetric();
    boolean higher = rule.getDirection() == MetricDirection.HIGHER_IS_BETTER;
    String direction = higher ? "higher_is_better" : "lower_is_better";
    String ruleText = describe(rule);
    if (observed.value() == null || base.value() == null) {
      String side = observed.value() == null ? "evaluation " + observed.evalId() : "baseline evaluation " + base.evalId();
      return new BaselineCheck(observed.evalId(), observed.eventId(), target, metric, direction, observed.value(), base.value(), null,
          null, null, 0, 0, ruleText, MISSING, "the " + side + " has no metric '" + metric + "'", base.runId(), base.evalId(),
          base.eventId());
    }
    double obs = observed.value();
    double b = base.value();
    double worse = higher ? b - obs : obs - b;
    Double relative = b == 0 ? null : worse / Math.abs(b);
    List<String> exceeded = new ArrayList<>();
    if (rule.getMaxAbsoluteDrop() != null && worse > rule.getMaxAbsoluteDrop()) {
      exceeded.add("worsened by " + Alerts.fmt(worse) + " > allowed " + Alerts.fmt(rule.getMaxAbsoluteDrop()));
    }
    if (rule.getMaxRelativeDrop() != null && relative != null && relative > rule.getMaxRelativeDrop()) {
      exceeded.add("worsened by " + pct(relative) + " > allowed " + pct(rule.getMaxRelativeDrop()));
    }
    int nObs = observed.samples() == null ? 1 : observed.samples().length;
    int nBase = base.samples() == null ? 1 : base.samples().length;
    Double p = null;
    if (observed.samples() != null && base.samples() != null && nObs >= 2 && nBase >= 2) {
      p = Stats.welch(observed.samples(), base.samples()).p();
    }
    String verdict;
    String reason;
    String figures = metric + " " + Alerts.fmt(obs) + " against baseline " + Alerts.fmt(b);
    if (exceeded.isEmpty()) {
      verdict = OK;
      reason = figures + ": " + (worse <= 0 ? "no worse than the baseline" : "worsened by " + Alerts.fmt(worse)
          + (relative == null ? "" : " (" + pct(relative) + ")") + ", within " + ruleText);
    } else if (rule.getSignificanceLevel() != null && p != null && !(p < rule.getSignificanceLevel())) {
      verdict = NOT_SIGNIFICANT;
      reason = figures + ": " + String.join(" and ", exceeded) + ", but Welch's t-test gives p = " + Alerts.fmt(p) + " >= "
          + rule.getSignificanceLevel() + " over " + nObs + " against " + nBase + " samples: not significant";
    } else {
      verdict = REGRESSED;
      reason = figures + ": " + String.join(" and ", exceeded)
          + (p == null ? (rule.getSignificanceLevel() == null ? "" : " (no samples on both sides to test significance)")
              : ", significant (Welch p = " + Alerts.fmt(p) + " < " + rule.getSignificanceLevel() + ")");
    }
    return new BaselineCheck(observed.evalId(), observed.eventId(), target, metric, direction, obs, b, worse, relative, p, nObs, nBase,
        ruleText, verdict, reason, base.runId(), base.evalId(), base.eventId());
  }

  /** A rule in words, for example {@code accuracy higher_is_better, max drop 0.02 or 5%, p < 0.05}. */
  public static String describe(BaselineRule rule) {
    StringBuilder sb = new StringBuilder(rule.getMetric()).append(' ')
        .append(rule.getDirection() == MetricDirection.HIGHER_IS_BETTER ? "higher_is_better" : "lower_is_better").append(", max drop ");
    List<String> limits = new ArrayList<>();
    if (rule.getMaxAbsoluteDrop() != null) {
      limits.add(Alerts.fmt(rule.getMaxAbsoluteDrop()));
    }
    if (rule.getMaxRelativeDrop() != null) {
      limits.add(pct(rule.getMaxRelativeDrop()));
    }
    sb.append(limits.isEmpty() ? "none" : String.join(" or ", limits));
    if (rule.getSignificanceLevel() != null) {
      sb.append(", p < ").append(rule.getSignificanceLevel());
    }
    return sb.toString();
  }

  private static String pct(double fraction) {
    return String.format(Locale.ROOT, "%.3g%%", fraction * 100);
  }
}
