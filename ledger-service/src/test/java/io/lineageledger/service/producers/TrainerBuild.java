package io.lineageledger.service.producers;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the reference trainer ({@code producers/trainer}, CPU backend) with CMake into
 * {@code target/trainer-build} once per JVM and returns the binary, so tests run the trainer a
 * user builds.
 */
final class TrainerBuild {
  private static Path binary;

  private TrainerBuild() {}

  static synchronized Path binary() throws IOException, InterruptedException {
    if (binary != null) {
      return binary;
    }
    Path source = Path.of("..", "producers", "trainer").toAbsolutePath().normalize();
    Path build = Path.of("target", "trainer-build").toAbsolutePath();
    Path log = Files.createDirectories(build).resolve("build.log");
    run(List.of("cmake", "-S", source.toString(), "-B", build.toString(), "-DCMAKE_BUILD_TYPE=Release"), log);
    run(List.of("cmake", "--build", build.toString(), "-j", "2"), log);
    binary = build.resolve("lineage-trainer");
    if (!Files.isExecutable(binary)) {
      throw new IllegalStateException("the trainer build produced no " + binary + "; see " + log);
    }
    return binary;
  }

  private static void run(List<String> cmd, Path log) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    if (!p.waitFor(600, TimeUnit.SECONDS) || p.exitValue() != 0) {
      p.destroyForcibly();
      throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + Files.readString(log));
    }
  }
}
