package io.lineageledger.projections.repro;

import java.util.SplittableRandom;

/**
 * The statistics reports and comparisons state: a mean with its 95% confidence interval
 * (Student's t), Welch's unequal-variance t-test, and a percentile bootstrap interval of a
 * difference of means. Pure and deterministic (the bootstrap takes its seed).
 */
public final class Stats {
  private Stats() {}

  /** n values: their mean, sample standard deviation and 95% CI of the mean (sd and CI null below two values). */
  public record Summary(int n, double mean, Double sd, Double ciLow, Double ciHigh) {}

  /** Welch's t statistic, its Welch-Satterthwaite degrees of freedom and the two-sided p-value. */
  public record Welch(double t, double df, double p) {}

  /** A closed interval. */
  public record Interval(double low, double high) {}

  public static Summary summary(double[] xs) {
    if (xs.length == 0) {
      throw new IllegalArgumentException("no values to summarize");
    }
    double mean = mean(xs);
    if (xs.length < 2) {
      return new Summary(1, mean, null, null, null);
    }
    double sd = Math.sqrt(variance(xs, mean));
    double half = tQuantile(0.975, xs.length - 1) * sd / Math.sqrt(xs.length);
    return new Summary(xs.length, mean, sd, mean - half, mean + half);
  }

  /**
   * Welch's t-test of equal means of {@code a} and {@code b} (two-sided). Both need two values or
   * more. With no variance on either side the p-value is 1 when the means are equal, else 0.
   */
  public static Welch welch(double[] a, double[] b) {
    if (a.length < 2 || b.length < 2) {
      throw new IllegalArgumentException("Welch's t-test needs at least two values on each side, got " + a.length + " and " + b.length);
    }
    double ma = mean(a);
    double mb = mean(b);
    double va = variance(a, ma) / a.length;
    double vb = variance(b, mb) / b.length;
    if (va + vb == 0) {
      boolean equal = ma == mb;
      return new Welch(equal ? 0 : Math.copySign(Double.POSITIVE_INFINITY, mb - ma), Double.NaN, equal ? 1 : 0);
    }
    double t = (mb - ma) / Math.sqrt(va + vb);
    double df = (va + vb) * (va + vb) / (va * va / (a.length - 1) + vb * vb / (b.length - 1));
    return new Welch(t, df, twoSidedP(t, df));
  }

  /**
   * A 95% percentile bootstrap interval of {@code mean(b) - mean(a)}: {@code resamples} times,
   * each side is resampled with replacement, from a generator seeded with {@code seed}.
   */
  public static Interval bootstrapMeanDifference(double[] a, double[] b, int resamples, long seed) {
    if (a.length == 0 || b.length == 0) {
      throw new IllegalArgumentException("a bootstrap needs values on both sides");
    }
    SplittableRandom rng = new SplittableRandom(seed);
    double[] diffs = new double[resamples];
    for (int r = 0; r < resamples; r++) {
      diffs[r] = resampledMean(b, rng) - resampledMean(a, rng);
    }
    java.util.Arrays.sort(diffs);
    return new Interval(percentile(diffs, 0.025), percentile(diffs, 0.975));
  }

  private static double resampledMean(double[] xs, SplittableRandom rng) {
    double sum = 0;
    for (int i = 0; i < xs.length; i++) {
      sum += xs[rng.nextInt(xs.length)];
    }
    return sum / xs.length;
  }

  /** Linear interpolation between order statistics of sorted values. */
  private static double percentile(double[] sorted, double q) {
    double pos = q * (sorted.length - 1);
    int lo = (int) Math.floor(pos);
    int hi = Math.min(lo + 1, sorted.length - 1);
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
  }

  public static double mean(double[] xs) {
    double sum = 0;
    for (double x : xs) {
      sum += x;
    }
    return sum / xs.length;
  }

  /** The sample variance (n - 1 in the denominator). */
  static double variance(double[] xs, double mean) {
    double ss = 0;
    for (double x : xs) {
      ss += (x - mean) * (x - mean);
    }
    return ss / (xs.length - 1);
  }

  /** P(|T| >= |t|) for Student's t with {@code df} degrees of freedom. */
  static double twoSidedP(double t, double df) {
    if (Double.isInfinite(t)) {
      return 0;
    }
    return regularizedIncompleteBeta(df / (df + t * t), df / 2, 0.5);
  }

  /** The {@code p} quantile of Student's t with {@code df} degrees of freedom (p in (0.5, 1)), by bisection on the CDF. */
  static double tQuantile(double p, double df) {
    double target = 2 * (1 - p); // two-sided tail mass at the quantile
    double lo = 0;
    double hi = 1;
    while (twoSidedP(hi, df) > target) {
      hi *= 2;
    }
    for (int i = 0; i < 200 && hi - lo > 1e-12 * hi; i++) {
      double mid = (lo + hi) / 2;
      if (twoSidedP(mid, df) > target) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    return (lo + hi) / 2;
  }

  /** I_x(a, b), by the continued fraction of Numerical Recipes (modified Lentz), using the symmetry for large x. */
  static double regularizedIncompleteBeta(double x, double a, double b) {
    if (x <= 0) {
      return 0;
    }
    if (x >= 1) {
      return 1;
    }
    double front = Math.exp(logGamma(a + b) - logGamma(a) - logGamma(b) + a * Math.log(x) + b * Math.log1p(-x));
    if (x < (a + 1) / (a + b + 2)) {
      return front * betaContinuedFraction(x, a, b) / a;
    }
    return 1 - front * betaContinuedFraction(1 - x, b, a) / b;
  }

  private static double betaContinuedFraction(double x, double a, double b) {
    final double tiny = 1e-300;
    double c = 1;
    double d = 1 - (a + b) * x / (a + 1);
    d = Math.abs(d) < tiny ? tiny : d;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 10_000; m++) {
      int m2 = 2 * m;
      double aa = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
      d = 1 + aa * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      h *= d * c;
      aa = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
      d = 1 + aa * d;
      d = Math.abs(d) < tiny ? tiny : d;
      c = 1 + aa / c;
      c = Math.abs(c) < tiny ? tiny : c;
      d = 1 / d;
      double del = d * c;
      h *= del;
      if (Math.abs(del - 1) < 1e-15) {
        break;
      }
    }
    return h;
  }

  /** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9; about 15 significant digits). */
  static double logGamma(double x) {
    if (x < 0.5) {
      return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * x))) - logGamma(1 - x);
    }
    double[] g = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
        12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7};
    x -= 1;
    double sum = g[0];
    double t = x + 7.5;
    for (int i = 1; i < 9; i++) {
      sum += g[i] / (x + i);
    }
    return 0.5 * Math.log(2 * Math.PI) + (x + 0.5) * Math.log(t) - t + Math.log(sum);
  }
}
