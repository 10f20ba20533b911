package io.lineageledger.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The projections benchmark rebuilds from a topic it fills, reads it raw, and measures latency at a fixed rate. */
@Timeout(300)
class ProjectionsBenchmarkIT {

  @Test
  void projectionsBenchmarkReportsRebuildAgainstRawReadsAndLatency() throws Exception {
    JsonNode r = BenchRun.json("bench", "projections", "--events", "5000", "--runs", "10", "--rounds", "2",
        "--latency-rate", "500", "--latency-seconds", "2", "--latency-warmup-seconds", "1", "--output", "json");
    assertThat(r.get("events").asLong()).isEqualTo(5000);
    assertThat(r.get("raw_read_events_per_s")).hasSize(2);
    assertThat(r.get("rebuild_events_per_s")).hasSize(2);
    double raw = r.get("raw_read_median_events_per_s").asDouble();
    assertThat(raw).isPositive();
    assertThat(r.get("rebuild_ratio").asDouble()).isEqualTo(r.get("rebuild_median_events_per_s").asDouble() / raw);
    assertThat(r.get("rebuild_after_first_tenth_events_per_s")).hasSize(2);
    assertThat(r.get("rebuild_after_first_tenth_median_events_per_s").asDouble()).isPositive();
    assertThat(r.get("raw_read_cpu_us_per_event").asDouble()).isPositive();
    assertThat(r.get("rebuild_cpu_us_per_event").asDouble()).isPositive();
    assertThat(r.get("latency_events").asInt()).isEqualTo(1000);
    assertThat(r.get("latency_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(r.get("latency_p99_ms").asDouble());
    assertThat(r.get("latency_p99_ms").asDouble()).isLessThanOrEqualTo(r.get("latency_max_ms").asDouble());
  }

  @Test
  void historyBenchmarkTimesTheStoreAgainstReadingTheRunFromTheLog() throws Exception {
    JsonNode r = BenchRun.json("bench", "history", "--steps", "3000", "--points", "50", "--queries", "5", "--log-reads", "2", "--output", "json");
    assertThat(r.get("steps").asInt()).isEqualTo(3000);
    double log = r.get("log_read_median_ms").asDouble();
    assertThat(log).isPositive();
    assertThat(r.get("store_whole_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(r.get("store_whole_max_ms").asDouble());
    assertThat(r.get("store_downsampled_over_log").asDouble()).isEqualTo(r.get("store_downsampled_p50_ms").asDouble() / log);
  }

  @Test
  void reportBenchmarkTimesTheReportOfARunWithItsReproductionAgainstTheLogRebuild() throws Exception {
    JsonNode r = BenchRun.json("bench", "report", "--steps", "3000", "--queries", "3", "--log-reads", "2", "--output", "json");
    assertThat(r.get("steps_per_run").asInt()).isEqualTo(3000);
    double log = r.get("log_rebuild_median_ms").asDouble();
    assertThat(log).isPositive();
    assertThat(r.get("report_json_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(r.get("report_json_max_ms").asDouble());
    assertThat(r.get("report_html_bytes").asInt()).isGreaterThan(1000);
    assertThat(r.get("report_json_over_log_rebuild").asDouble()).isEqualTo(r.get("report_json_p50_ms").asDouble() / log);
  }

  @Test
  void lineageBenchmarkWalksTheStoreAndMemoryAlikeAndReportsRatios() throws Exception {
    JsonNode r = BenchRun.json("bench", "lineage", "--nodes", "20000", "--generations", "25", "--queries", "200", "--output", "json");
    assertThat(r.get("nodes").asLong()).isEqualTo(20000);
    assertThat(r.get("edges").asLong()).isGreaterThan(24 * 800).isLessThan(2 * 24 * 800);
    assertThat(r.get("queries").asInt()).isEqualTo(200);
    // Depth 20 from the last of 25 generations reaches at least the 21 nodes of its own column.
    assertThat(r.get("mean_nodes_reached").asDouble()).isGreaterThanOrEqualTo(21);
    assertThat(r.get("store_p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(r.get("store_p99_ms").asDouble());
    assertThat(r.get("store_over_memory_p99").asDouble()).isEqualTo(r.get("store_p99_ms").asDouble() / r.get("memory_p99_ms").asDouble());
  }
}
