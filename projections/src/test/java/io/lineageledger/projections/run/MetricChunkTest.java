package io.lineageledger.projections.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MetricChunkTest {
  @Test
  void stepsAppendInOrderAndAMetricReadsBackAlone() {
    byte[] chunk = null;
    for (long s = 64; s < 64 + MetricChunk.STEPS; s++) {
      chunk = MetricChunk.with(chunk, s, Map.of("loss", s / 10.0, "lr", 0.001, "grad_norm", (double) s));
    }
    List<Long> steps = new ArrayList<>();
    List<Double> values = new ArrayList<>();
    MetricChunk.read(chunk, "grad_norm", steps, values);
    assertThat(steps).hasSize(MetricChunk.STEPS).isSorted().startsWith(64L);
    assertThat(values.get(3)).isEqualTo(67.0);
    List<Long> none = new ArrayList<>();
    MetricChunk.read(chunk, "grad", none, new ArrayList<>());
    assertThat(none).as("a name that is a prefix of another is not it").isEmpty();
  }

  @Test
  void aLateOrRepeatedStepReplacesItsValuesAndKeepsStepOrder() {
    byte[] chunk = MetricChunk.with(null, 5, Map.of("loss", 5.0));
    chunk = MetricChunk.with(chunk, 9, Map.of("loss", 9.0));
    chunk = MetricChunk.with(chunk, 7, Map.of("loss", 7.0)); // late
    chunk = MetricChunk.with(chunk, 9, Map.of("loss", 9.5)); // again
    assertThat(MetricChunk.decode(chunk).keySet()).containsExactly(5L, 7L, 9L);
    assertThat(MetricChunk.decode(chunk).get(9L)).containsEntry("loss", 9.5);
  }

  @Test
  void keysSortByRunThenStepAndChunksGroupConsecutiveSteps() {
    assertThat(MetricChunk.key("run:a", 0)).isEqualTo(MetricChunk.key("run:a", MetricChunk.STEPS - 1));
    assertThat(MetricChunk.key("run:a", MetricChunk.STEPS).compareTo(MetricChunk.key("run:a", MetricChunk.STEPS - 1))).isPositive();
    assertThat(MetricChunk.key("run:a", 1_000_000).compareTo(MetricChunk.last("run:a"))).isNegative();
    assertThat(MetricChunk.key("run:ab", 0).compareTo(MetricChunk.last("run:a"))).as("length prefix keeps runs apart").isPositive();
  }
}
