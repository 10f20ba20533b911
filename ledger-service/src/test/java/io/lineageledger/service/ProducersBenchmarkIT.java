package io.lineageledger.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The producers benchmark runs all three sides on an embedded broker and reports each against raw Kafka. */
@Timeout(240)
class ProducersBenchmarkIT {

  @Test
  void producersBenchmarkReportsClientAndEmitAgainstRaw() throws Exception {
    JsonNode r = BenchRun.json("bench", "producers", "--records", "3000", "--warmup-records", "2000", "--rounds", "2",
        "--warmup-max-seconds", "3", "--output", "json");
    assertThat(r.get("raw_records_per_s")).hasSize(2);
    assertThat(r.get("client_records_per_s")).hasSize(2);
    assertThat(r.get("emit_records_per_s")).hasSize(2);
    double raw = r.get("raw_median_records_per_s").asDouble();
    assertThat(raw).isPositive();
    assertThat(r.get("client_ratio").asDouble()).isEqualTo(r.get("client_median_records_per_s").asDouble() / raw);
    assertThat(r.get("emit_ratio").asDouble()).isEqualTo(r.get("emit_median_records_per_s").asDouble() / raw);
    assertThat(r.get("mean_record_bytes").asDouble()).isGreaterThan(100);
    assertThat(r.get("warmup_rounds").asInt()).isPositive();
    assertThat(r.get("warmup_seconds").asDouble()).isLessThan(60); // bounded by --warmup-max-seconds plus one round
    for (String side : new String[] {"raw", "client", "emit"}) {
      assertThat(r.get(side + "_cpu_us_per_event").asDouble()).as(side + " CPU per event").isPositive();
    }
  }
}
