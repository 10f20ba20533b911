package io.lineageledger.producers.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SecretRedactorTest {
  final SecretRedactor redactor = new SecretRedactor(Map.of(
      "WANDB_API_KEY", "wandb-0123456789", "HF_TOKEN", "hf_abcdefgh", "AWS_SECRET_ACCESS_KEY", "aws/secret+key",
      "HOME", "/home/trainer", "SHORT_TOKEN", "ab"));

  @Test
  void namesOfKeysTokensSecretsAndPasswordsLookSecret() {
    assertThat(List.of("WANDB_API_KEY", "HF_TOKEN", "AWS_SECRET_ACCESS_KEY", "db-password", "GITHUB_PAT_TOKEN", "api_key", "Private_Key_File"))
        .allMatch(SecretRedactor::looksSecret);
    assertThat(List.of("HOME", "PATH", "CUDA_VISIBLE_DEVICES", "steps", "seed")).noneMatch(SecretRedactor::looksSecret);
  }

  @Test
  void secretValuesAreScrubbedWhereverTheyAppear() {
    assertThat(redactor.scrub("{\"params\":{\"wandb\":\"wandb-0123456789\",\"hf\":\"hf_abcdefgh\"},\"p\":\"/home/trainer\"}"))
        .isEqualTo("{\"params\":{\"wandb\":\"[REDACTED]\",\"hf\":\"[REDACTED]\"},\"p\":\"/home/trainer\"}");
    assertThat(redactor.scrub("Traceback: auth failed for aws/secret+key")).isEqualTo("Traceback: auth failed for [REDACTED]");
    assertThat(redactor.scrub("ab is too short to scrub")).isEqualTo("ab is too short to scrub");
  }

  @Test
  void theCommandLineKeepsItsShapeWithSecretFlagValuesRedacted() {
    assertThat(redactor.commandLine(List.of("train.py", "--api-key", "k-123", "--hf-token=x", "--steps", "300", "--note", "hf_abcdefgh")))
        .containsExactly("train.py", "--api-key", "[REDACTED]", "--hf-token=[REDACTED]", "--steps", "300", "--note", "[REDACTED]");
  }

  @Test
  void recordedVariablesAreRedactedByName() {
    assertThat(redactor.value("HF_TOKEN", "anything")).isEqualTo("[REDACTED]");
    assertThat(redactor.value("HOME", "/home/trainer")).isEqualTo("/home/trainer");
  }
}
