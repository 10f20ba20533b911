package io.lineageledger.projections.repro;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.util.SplittableRandom;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.inference.TTest;
import org.junit.jupiter.api.Test;

/** The report statistics against commons-math3, an implementation of its own. */
class StatsTest {
  @Test
  void welchMatchesAnIndependentImplementationOverManyShapes() {
    SplittableRandom rng = new SplittableRandom(7);
    for (int trial = 0; trial < 200; trial++) {
      int na = 2 + rng.nextInt(30);
      int nb = 2 + rng.nextInt(30);
      double[] a = new double[na];
      double[] b = new double[nb];
      double shift = rng.nextDouble() * 2;
      double scale = 0.1 + rng.nextDouble() * 5;
      for (int i = 0; i < na; i++) {
        a[i] = rng.nextDouble() * 3;
      }
      for (int i = 0; i < nb; i++) {
        b[i] = shift + rng.nextDouble() * scale;
      }
      Stats.Welch w = Stats.welch(a, b);
      assertThat(w.p()).as("trial %d", trial).isCloseTo(new TTest().tTest(a, b), within(1e-9));
      assertThat(-w.t()).isCloseTo(new TTest().t(a, b), within(1e-9));
    }
  }

  @Test
  void theConfidenceIntervalUsesStudentsQuantile() {
    for (int df : new int[] {1, 2, 4, 9, 29, 200}) {
      assertThat(Stats.tQuantile(0.975, df)).as("df %d", df).isCloseTo(new TDistribution(df).inverseCumulativeProbability(0.975), within(1e-8));
    }
    Stats.Summary s = Stats.summary(new double[] {1, 2, 3, 4, 5});
    double half = new TDistribution(4).inverseCumulativeProbability(0.975) * Math.sqrt(2.5) / Math.sqrt(5);
    assertThat(s.mean()).isEqualTo(3.0);
    assertThat(s.ciLow()).isCloseTo(3 - half, within(1e-9));
    assertThat(s.ciHigh()).isCloseTo(3 + half, within(1e-9));
    assertThat(Stats.summary(new double[] {2.5}).ciLow()).as("one value has no interval").isNull();
  }

  @Test
  void edgeCasesAreStatedNotGuessed() {
    assertThat(Stats.welch(new double[] {1, 1}, new double[] {1, 1}).p()).isEqualTo(1.0);
    assertThat(Stats.welch(new double[] {1, 1}, new double[] {2, 2}).p()).isEqualTo(0.0);
    assertThatThrownBy(() -> Stats.welch(new double[] {1}, new double[] {1, 2})).hasMessageContaining("at least two values");
    assertThatThrownBy(() -> Stats.summary(new double[0])).hasMessageContaining("no values");
  }

  @Test
  void theBootstrapIntervalIsSeededAndCoversTheDifference() {
    double[] a = {1.0, 1.2, 0.9, 1.1, 1.05, 0.95};
    double[] b = {2.0, 2.1, 1.9, 2.2, 1.8, 2.05};
    Stats.Interval i = Stats.bootstrapMeanDifference(a, b, 2000, 1);
    assertThat(i).isEqualTo(Stats.bootstrapMeanDifference(a, b, 2000, 1));
    double diff = Stats.mean(b) - Stats.mean(a);
    assertThat(i.low()).isLessThan(diff).isGreaterThan(0.7);
    assertThat(i.high()).isGreaterThan(diff).isLessThan(1.3);
  }
}
