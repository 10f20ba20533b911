package io.lineageledger.service.producers;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code ledger} command as a user does: the shaded jar in its own process, in a
 * working directory, with an environment of the test's choosing (secrets, LEDGER_* settings).
 * Output goes to files, so a chatty command never blocks on a full pipe.
 */
final class LedgerCliProcess {
  record Result(int exitCode, String stdout, String stderr) {}

  private LedgerCliProcess() {}

  static Process start(Path workDir, Map<String, String> env, String name, List<String> args) throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    List<String> cmd = new ArrayList<>(List.of(java, "-Xmx512m", "-XX:TieredStopAtLevel=1", "-jar",
        Path.of("target", "ledger.jar").toAbsolutePath().toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).directory(workDir.toFile())
        .redirectOutput(workDir.resolve(name + ".out").toFile())
        .redirectError(workDir.resolve(name + ".err").toFile())
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
    pb.environment().putAll(env);
    return pb.start();
  }

  static Result run(Path workDir, Map<String, String> env, String name, String... args) throws Exception {
    Process p = start(workDir, env, name, List.of(args));
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new AssertionError("ledger " + String.join(" ", args) + " did not finish within 180 s; stderr:\n"
          + Files.readString(workDir.resolve(name + ".err")));
    }
    return new Result(p.exitValue(), Files.readString(workDir.resolve(name + ".out")), Files.readString(workDir.resolve(name + ".err")));
  }
}
