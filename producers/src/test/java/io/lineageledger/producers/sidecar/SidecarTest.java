package io.lineageledger.producers.sidecar;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SidecarTest {
  @TempDir
  Path dir;

  @Test
  void seedFlagsOfTheCommandAreRecorded() {
    assertThat(Sidecar.seedsFromCommandLine(List.of("train", "--seed", "42", "--data-seed=7", "--seed-file", "x", "--eval-seed", "abc")))
        .isEqualTo(Map.of("seed", 42L, "data_seed", 7L));
  }

  @Test
  void lockFilesAreFoundAndDigestedBuildOutputsAreNot() throws Exception {
    Files.writeString(dir.resolve("requirements.txt"), "torch==2.5.1\n");
    Files.createDirectories(dir.resolve("sub"));
    Files.writeString(dir.resolve("sub/poetry.lock"), "lock");
    Files.createDirectories(dir.resolve("node_modules/x"));
    Files.writeString(dir.resolve("node_modules/x/package-lock.json"), "{}");
    Files.writeString(dir.resolve("notes.txt"), "not a lock file");
    Map<String, String> locks = new RunEnvironmentProbe(dir).lockFiles();
    assertThat(locks).containsOnlyKeys("requirements.txt", "sub/poetry.lock");
    assertThat(locks.get("requirements.txt"))
        .isEqualTo("sha256:" + java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
            .digest("torch==2.5.1\n".getBytes(java.nio.charset.StandardCharsets.UTF_8))));
  }

  @Test
  void credentialsInARemoteUrlAreDropped() {
    assertThat(RunEnvironmentProbe.stripCredentials("https://user:ghp_secret@github.com/org/repo.git"))
        .isEqualTo("https://github.com/org/repo.git");
    assertThat(RunEnvironmentProbe.stripCredentials("git@github.com:org/repo.git")).isEqualTo("git@github.com:org/repo.git");
  }

  @Test
  void gitStateOfTheWorkingDirectoryIsRecorded() throws Exception {
    git("init", "-q", "-b", "main");
    Files.writeString(dir.resolve("train.py"), "print(1)\n");
    git("add", "train.py");
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "first");
    var clean = new RunEnvironmentProbe(dir).code();
    assertThat(clean.getCommit()).hasSize(40);
    assertThat(clean.getBranch()).isEqualTo("main");
    assertThat(clean.getDirty()).isFalse();
    assertThat(clean.getDiffDigest()).isNull();

    Files.writeString(dir.resolve("train.py"), "print(2)\n");
    var dirty = new RunEnvironmentProbe(dir).code();
    assertThat(dirty.getDirty()).isTrue();
    assertThat(dirty.getDiffDigest()).startsWith("sha256:");
    Files.writeString(dir.resolve("train.py"), "print(3)\n");
    assertThat(new RunEnvironmentProbe(dir).code().getDiffDigest()).as("another diff, another digest").isNotEqualTo(dirty.getDiffDigest());
  }

  private void git(String... args) throws Exception {
    List<String> cmd = new java.util.ArrayList<>(List.of("git"));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor()).as(out).isZero();
  }
}
