package io.lineageledger.service.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lineageledger.service.alerts.AlertLog;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** What users type for baselines, silences and alert cursors, and what they get back when it is wrong. */
class AlertsCliTest {
  @Test
  void aThresholdIsAnAbsoluteOrRelativeDropWithAnOptionalDirection() {
    assertThat(BaselineCommand.Threshold.parse("accuracy:0.02")).isEqualTo(new BaselineCommand.Threshold("accuracy", 0.02, null, null));
    assertThat(BaselineCommand.Threshold.parse("val_loss:5%")).isEqualTo(new BaselineCommand.Threshold("val_loss", null, 0.05, null));
    assertThat(BaselineCommand.Threshold.parse("score:1:higher")).isEqualTo(new BaselineCommand.Threshold("score", 1.0, null, "higher_is_better"));
    assertThat(BaselineCommand.Threshold.parse("latency:10%:lower").direction()).isEqualTo("lower_is_better");
  }

  @Test
  void aBadThresholdNamesWhatIsWrong() {
    assertThatThrownBy(() -> BaselineCommand.Threshold.parse("accuracy")).hasMessageContaining("METRIC:DROP");
    assertThatThrownBy(() -> BaselineCommand.Threshold.parse("accuracy:two")).hasMessageContaining("'two' is not a number");
    assertThatThrownBy(() -> BaselineCommand.Threshold.parse("accuracy:-1")).hasMessageContaining("cannot be negative");
    assertThatThrownBy(() -> BaselineCommand.Threshold.parse("accuracy:1:sideways")).hasMessageContaining("'higher' or 'lower'");
  }

  @Test
  void silencesAreWrittenInUnitsOrIso8601() {
    assertThat(UpCommand.duration("90s")).isEqualTo(Duration.ofSeconds(90));
    assertThat(UpCommand.duration("10m")).isEqualTo(Duration.ofMinutes(10));
    assertThat(UpCommand.duration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(UpCommand.duration("PT15M")).isEqualTo(Duration.ofMinutes(15));
    assertThatThrownBy(() -> UpCommand.duration("ten minutes")).hasMessageContaining("not a duration");
    assertThatThrownBy(() -> UpCommand.duration("0s")).hasMessageContaining("longer than zero");
  }

  @Test
  void anAlertCursorIsOneOffsetPerPartitionAndGoesOnlyForward() {
    AlertLog.Cursor c = AlertLog.Cursor.parse("12.4.7", 3);
    assertThat(c).hasToString("12.4.7");
    assertThat(AlertLog.Cursor.parse(null, 3)).hasToString("0.0.0");
    assertThat(c.max(AlertLog.Cursor.parse("3.9.7", 3))).hasToString("12.9.7");
    assertThatThrownBy(() -> AlertLog.Cursor.parse("12.4", 3)).hasMessageContaining("3 parts");
    assertThatThrownBy(() -> AlertLog.Cursor.parse("a.b.c", 3)).hasMessageContaining("offsets separated by dots");
  }
}
