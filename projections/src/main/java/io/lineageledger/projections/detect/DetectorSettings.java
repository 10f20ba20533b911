package io.lineageledger.projections.detect;

import java.time.Duration;

/**
 * The thresholds of the health detectors.
 *
 * @param silentAfter a run that sent nothing for this long without finishing is silent
 * @param silenceCheckEvery how often (wall clock) runs are checked for silence
 * @param spikeZ a summary's loss is a spike when its robust z-score over the recent window exceeds this ...
 * @param spikeRatio ... and it is at least this multiple of the window's median
 * @param window how many recent summaries the spike and throughput detectors look at (they need half of it first)
 * @param cliffRatio the first loss after a resume is a cliff when it is at least this multiple of the loss before the checkpoint ...
 * @param resumeTolerance ... or when the resumed run's first summaries exceed, on average, those of the checkpoint's own run at
 *     the same steps by more than this fraction (the run that wrote the checkpoint went on past it, on the same data)
 * @param throughputRatio tokens/s below this fraction of the recent median counts as low ...
 * @param throughputStreak ... and this many low summaries in a row are a throughput drop
 */
public record DetectorSettings(Duration silentAfter, Duration silenceCheckEvery, double spikeZ, double spikeRatio, int window,
                               double cliffRatio, double resumeTolerance, double throughputRatio, int throughputStreak) {
  public static final DetectorSettings DEFAULTS = new DetectorSettings(Duration.ofMinutes(10), Duration.ofSeconds(5), 8.0, 1.5, 32,
      1.5, 0.03, 0.5, 5);

  public DetectorSettings {
    if (silentAfter.isNegative() || silentAfter.isZero()) {
      throw new IllegalArgumentException("silentAfter must be positive, not " + silentAfter);
    }
    if (window < 4) {
      throw new IllegalArgumentException("window must be at least 4 summaries, not " + window);
    }
  }

  public DetectorSettings withSilentAfter(Duration d) {
    Duration check = d.dividedBy(4);
    Duration every = check.compareTo(silenceCheckEvery) < 0 ? (check.isZero() ? Duration.ofMillis(100) : check) : silenceCheckEvery;
    return new DetectorSettings(d, every, spikeZ, spikeRatio, window, cliffRatio, resumeTolerance, throughputRatio, throughputStreak);
  }
}
