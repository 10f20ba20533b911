package io.lineageledger.producers.ndjson;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lineageledger.events.ConfigSnapshot;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.ModelVersionRegistered;
import io.lineageledger.events.RunFinished;
import io.lineageledger.events.RunStatus;
import io.lineageledger.events.StepSummary;
import io.lineageledger.producers.ndjson.NdjsonProtocol.EventType;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class NdjsonProtocolTest {
  private final NdjsonProtocol protocol = new NdjsonProtocol();

  private static List<String> fixture(String name) throws IOException {
    try (InputStream in = NdjsonProtocolTest.class.getResourceAsStream("/ndjson/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8).lines().toList();
    }
  }

  @Test
  void everyEventTypeParsesFromItsDocumentedForm() throws IOException {
    List<String> lines = fixture("every-type.ndjson");
    List<EventType> types = lines.stream().map(l -> protocol.parse(l).type()).toList();
    assertThat(types).containsExactly(EventType.values());
    assertThat(protocol.parse(lines.get(2)).subject()).isEqualTo("dataset:corpus.deduped");
    assertThat(protocol.parse(lines.get(8)).subject()).isEqualTo("model:charlm");
    assertThat(protocol.parse(lines.get(9)).subject()).isEqualTo("model:charlm");
    assertThat(protocol.parse(lines.get(4)).subject()).isEqualTo("run:r1");
  }

  @Test
  void jsonValuedMapsKeepTheJsonTextOfEachValue() throws IOException {
    var t = (DataTransformApplied) protocol.parse(fixture("every-type.ndjson").get(2)).payload();
    assertThat(t.getParams()).containsEntry("keep", "\"first\"").containsEntry("case_sensitive", "true");
    assertThat(t.getEndedAt()).isEqualTo(Instant.parse("2026-11-22T10:15:31.500Z"));
    assertThat(t.getOutputs().get(0).getRecordCount()).isEqualTo(900L);
  }

  @Test
  void configIsFlattenedAndItsDigestAndChangedKeysComputed() {
    var first = (ConfigSnapshot) protocol.parse(
        "{\"type\":\"config_snapshot\",\"run_id\":\"r\",\"params\":{\"optimizer\":{\"lr\":0.001,\"name\":\"adamw\"},\"steps\":10}}").payload();
    assertThat(first.getParams()).isEqualTo(Map.of("optimizer.lr", "0.001", "optimizer.name", "\"adamw\"", "steps", "10"));
    assertThat(first.getDigest()).isEqualTo(NdjsonProtocol.configDigest(first.getParams())).startsWith("sha256:").hasSize(71);
    assertThat(first.getChangedKeys()).containsExactly("optimizer.lr", "optimizer.name", "steps");

    var second = (ConfigSnapshot) protocol.parse(
        "{\"type\":\"config_snapshot\",\"run_id\":\"r\",\"params\":{\"optimizer.lr\":0.002,\"optimizer.name\":\"adamw\",\"warmup\":5}}").payload();
    assertThat(second.getChangedKeys()).containsExactly("optimizer.lr", "steps", "warmup");
  }

  @Test
  void aConfigDigestThatDoesNotMatchItsParamsIsRefused() {
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"config_snapshot\",\"run_id\":\"r\",\"params\":{\"a\":1},\"digest\":\"sha256:00\"}"))
        .isInstanceOf(InvalidLineException.class).hasMessageContaining("config_snapshot.digest").hasMessageContaining("hash to sha256:");
  }

  @Test
  void nonFiniteNumbersAreAcceptedAsStringsOrBareTokens() {
    var a = (StepSummary) protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":\"NaN\",\"non_finite_count\":1}").payload();
    var b = (StepSummary) protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":NaN,\"metrics\":{\"g\":Infinity}}").payload();
    assertThat(a.getLoss()).isNaN();
    assertThat(a.getNonFiniteCount()).isEqualTo(1);
    assertThat(b.getLoss()).isNaN();
    assertThat(b.getMetrics().get("g")).isInfinite();
  }

  @Test
  void errorsNameTheFieldAndWhatWasExpected() {
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":\"ten\",\"loss\":1}"))
        .hasMessage("step_summary.step: expected an integer, got string \"ten\"");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1}"))
        .hasMessage("step_summary.loss: missing required field (double)");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"lr\":0.1}"))
        .hasMessageStartingWith("step_summary: unknown field 'lr'");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"metrics\":{\"lr\":\"fast\"}}"))
        .hasMessage("step_summary.metrics['lr']: expected a number, got string \"fast\"");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":\"ten\",\"lr\":0.1}"))
        .as("an unknown field is reported before a bad or missing one")
        .hasMessageStartingWith("step_summary: unknown field 'lr'");
    String transform = "{\"type\":\"data_transform_applied\",\"transform_id\":\"t\",\"transform_name\":\"dedupe\","
        + "\"inputs\":[{\"name\":\"raw\",\"version\":\"1\",\"digest\":\"sha256:aa\"},{\"name\":\"raw\",\"version\":\"2\"}],"
        + "\"outputs\":[{\"name\":\"clean\",\"version\":\"1\",\"digest\":\"sha256:bb\"}],"
        + "\"started_at\":\"2026-11-20T10:00:00Z\",\"ended_at\":%s}";
    assertThatThrownBy(() -> protocol.parse(String.format(transform, "\"2026-11-20T10:00:01Z\"")))
        .hasMessage("data_transform_applied.inputs[1].digest: missing required field (string)");
    assertThatThrownBy(() -> protocol.parse(String.format(transform, "\"yesterday\"").replace("\"version\":\"2\"}", "\"version\":\"2\",\"digest\":\"sha256:cc\"}")))
        .hasMessageStartingWith("data_transform_applied.ended_at: expected an ISO-8601 UTC time");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"run_finished\",\"run_id\":\"r\",\"status\":\"DONE\"}"))
        .hasMessageContaining("run_finished.status: expected one of [COMPLETED, FAILED, KILLED]");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"stepsummary\",\"run_id\":\"r\"}"))
        .hasMessageStartingWith("unknown type 'stepsummary' (one of [run_started, config_snapshot");
    assertThatThrownBy(() -> protocol.parse("{\"step\":1}")).hasMessageStartingWith("missing 'type'");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"step\":1,\"loss\":1}"))
        .hasMessage("missing 'run_id': a step_summary event belongs to a run");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\", \"step\": 1")).hasMessageStartingWith("not valid JSON:");
    assertThatThrownBy(() -> protocol.parse("[1,2]")).hasMessage("expected a JSON object, got array [1,2]");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"dataset_bound\",\"run_id\":\"r\",\"role\":\"train\",\"dataset\":{\"name\":\"d\",\"version\":\"1\"}}"))
        .hasMessage("dataset_bound.dataset.digest: missing required field (string)");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"occurred_at\":\"yesterday\"}"))
        .hasMessageContaining("occurred_at: expected an ISO-8601 UTC time");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"loss\":1,\"occurred_at\":9223372036854775808}"))
        .isInstanceOf(InvalidLineException.class)
        .hasMessage("occurred_at: microseconds since the epoch out of range (a signed 64-bit integer), got number 9223372036854775808");
    assertThatThrownBy(() -> protocol.parse(String.format(transform, "\"+300000-01-01T00:00:00Z\"")
        .replace("\"version\":\"2\"}", "\"version\":\"2\",\"digest\":\"sha256:cc\"}")))
        .isInstanceOf(InvalidLineException.class)
        .hasMessage("data_transform_applied.ended_at: time out of range: microseconds since the epoch must fit a signed 64-bit integer,"
            + " got string \"+300000-01-01T00:00:00Z\"");
    assertThatThrownBy(() -> protocol.parse("{\"type\":\"step_summary\",\"run_id\":\"r\",\"step\":1,\"step\":2,\"loss\":1}"))
        .hasMessageContaining("Duplicate field 'step'");
  }

  @Test
  void aSidecarStreamFillsItsRunIdAndRefusesOtherRunsAndItsOwnEvents() {
    var sidecar = new NdjsonProtocol("run-7", Set.of(EventType.RUN_STARTED, EventType.RUN_FINISHED), "the sidecar records them itself");
    var parsed = sidecar.parse("{\"type\":\"step_summary\",\"step\":1,\"loss\":1}");
    assertThat(parsed.subject()).isEqualTo("run:run-7");
    var model = (ModelVersionRegistered) sidecar.parse(
        "{\"type\":\"model_version_registered\",\"model_name\":\"m\",\"version\":\"v1\",\"checkpoint_digest\":\"sha256:aa\"}").payload();
    assertThat(model.getRunId()).isEqualTo("run-7");
    assertThatThrownBy(() -> sidecar.parse("{\"type\":\"step_summary\",\"run_id\":\"other\",\"step\":1,\"loss\":1}"))
        .hasMessage("'run_id' is 'other' but this stream belongs to run 'run-7'");
    assertThatThrownBy(() -> sidecar.parse("{\"type\":\"run_finished\",\"status\":\"COMPLETED\"}"))
        .hasMessage("type 'run_finished' is not accepted here: the sidecar records them itself");
  }

  @Test
  void envelopeKeysAreTakenFromTheLine() {
    var p = protocol.parse("{\"type\":\"run_finished\",\"run_id\":\"r\",\"event_id\":\"e-1\",\"occurred_at\":1700000000000001,\"status\":\"FAILED\",\"error\":\"oom\"}");
    assertThat(p.eventId()).isEqualTo("e-1");
    assertThat(p.occurredAt()).isEqualTo(Instant.ofEpochSecond(1_700_000_000L, 1_000));
    assertThat(((RunFinished) p.payload()).getStatus()).isEqualTo(RunStatus.FAILED);
  }
}
