package io.lineageledger.producers.sidecar;

import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.Hardware;
import io.lineageledger.events.RunEnvironment;
import io.lineageledger.producers.Digests;
import io.lineageledger.producers.LedgerClient;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Finds out where a run comes from: the git commit, branch, dirty flag and the digest of the
 * uncommitted diff of the working directory; the OS, host, runtimes and hardware (including
 * {@code nvidia-smi} output where there is one); and the digests of the lock files under the
 * working directory. Every probe is best effort with a short timeout: a missing tool leaves
 * its fields empty, it never fails the run.
 *
 * <p>Stateless; each call runs the probes anew.
 */
public final class RunEnvironmentProbe {
  /** File names recorded as lock files: the pins of a run's software. */
  static final Pattern LOCK_FILE = Pattern.compile(
      "requirements[\\w.-]*\\.txt|constraints[\\w.-]*\\.txt|poetry\\.lock|Pipfile\\.lock|uv\\.lock|pdm\\.lock|pyproject\\.toml"
          + "|environment\\.ya?ml|conda-lock\\.ya?ml|package-lock\\.json|yarn\\.lock|pnpm-lock\\.yaml|pom\\.xml"
          + "|build\\.gradle(\\.kts)?|gradle\\.lockfile|Cargo\\.lock|go\\.sum|Gemfile\\.lock|CMakeLists\\.txt");
  private static final Set<String> SKIPPED_DIRS = Set.of(".git", "node_modules", "target", "build", ".ledger", ".venv", "venv",
      "__pycache__", ".tox", ".mypy_cache", "dist");
  private static final int LOCK_FILE_DEPTH = 3;
  private static final long PROBE_TIMEOUT_MS = 5_000;

  private final Path workDir;

  public RunEnvironmentProbe(Path workDir) {
    this.workDir = workDir.toAbsolutePath().normalize();
  }

  public CodeVersion code() {
    CodeVersion.Builder b = CodeVersion.newBuilder();
    String top = run("git", "rev-parse", "--show-toplevel");
    if (top == null) {
      return b.build();
    }
    b.setCommit(run("git", "rev-parse", "HEAD"));
    String branch = run("git", "rev-parse", "--abbrev-ref", "HEAD");
    b.setBranch("HEAD".equals(branch) ? null : branch);
    String remote = run("git", "remote", "get-url", "origin");
    b.setRepo(remote != null ? stripCredentials(remote) : top);
    String status = run("git", "status", "--porcelain", "--untracked-files=no");
    boolean dirty = status != null && !status.isEmpty();
    b.setDirty(dirty);
    if (dirty) {
      String diff = runRaw("git", "diff", "HEAD", "--binary");
      b.setDiffDigest(diff == null ? null : Digests.sha256(diff.getBytes(StandardCharsets.UTF_8)));
    }
    return b.build();
  }

  /** Drops {@code user:password@} from a remote URL: credentials must never reach the ledger. */
  static String stripCredentials(String url) {
    return url.replaceFirst("^([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@]*@", "$1");
  }

  public RunEnvironment environment() {
    Map<String, String> runtimes = new TreeMap<>();
    runtimes.put("java", System.getProperty("java.version"));
    String python = run("python3", "--version");
    if (python != null) {
      runtimes.put("python", python.replaceFirst("^Python ", ""));
    }
    String nvcc = run("nvcc", "--version");
    if (nvcc != null) {
      var m = Pattern.compile("release ([0-9.]+)").matcher(nvcc);
      if (m.find()) {
        runtimes.put("nvcc", m.group(1));
      }
    }
    Map<String, String> locks = lockFiles();
    String combined = null;
    if (!locks.isEmpty()) {
      StringBuilder sb = new StringBuilder();
      locks.forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
      combined = Digests.sha256(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
    return RunEnvironment.newBuilder()
        .setOs(System.getProperty("os.name") + " " + System.getProperty("os.version") + " (" + System.getProperty("os.arch") + ")")
        .setHost(LedgerClient.localHostName())
        .setRuntimes(runtimes)
        .setLockFiles(locks)
        .setPackageLockDigest(combined)
        .setHardware(hardware())
        .build();
  }

  public Hardware hardware() {
    Hardware.Builder b = Hardware.newBuilder().setCpu(cpuModel()).setCpuCount(Runtime.getRuntime().availableProcessors())
        .setMemoryBytes(memoryBytes());
    String gpus = run("nvidia-smi", "--query-gpu=name,driver_version", "--format=csv,noheader");
    if (gpus != null && !gpus.isBlank()) {
      List<String> lines = gpus.lines().filter(l -> !l.isBlank()).toList();
      String[] first = lines.get(0).split(",\\s*");
      b.setGpuModel(first[0].trim()).setGpuCount(lines.size()).setDriver(first.length > 1 ? first[1].trim() : null);
      String full = run("nvidia-smi");
      if (full != null) {
        var m = Pattern.compile("CUDA Version:\\s*([0-9.]+)").matcher(full);
        if (m.find()) {
          b.setCuda(m.group(1));
        }
        b.setDetails(full);
      }
    }
    return b.build();
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).trim();
        }
      }
    } catch (IOException | UncheckedIOException e) {
      // not Linux: fall back to the architecture
    }
    return System.getProperty("os.arch");
  }

  private static Long memoryBytes() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
        }
      }
    } catch (IOException | RuntimeException e) {
      // unknown
    }
    return null;
  }

  /** Lock file path (relative to the working directory, '/'-separated) to its digest, sorted. */
  public Map<String, String> lockFiles() {
    Map<String, String> found = new TreeMap<>();
    try {
      Files.walkFileTree(workDir, EnumSet.noneOf(java.nio.file.FileVisitOption.class), LOCK_FILE_DEPTH, new SimpleFileVisitor<>() {
        @Override
        public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
          return !dir.equals(workDir) && SKIPPED_DIRS.contains(dir.getFileName().toString())
              ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
          if (attrs.isRegularFile() && LOCK_FILE.matcher(file.getFileName().toString()).matches()) {
            found.put(workDir.relativize(file).toString().replace('\\', '/'), Digests.sha256(Files.readAllBytes(file)));
          }
          return FileVisitResult.CONTINUE;
        }

        @Override
        public FileVisitResult visitFileFailed(Path file, IOException exc) {
          return FileVisitResult.CONTINUE;
        }
      });
    } catch (IOException e) {
      // an unreadable tree just records fewer lock files
    }
    return found;
  }

  /** Runs a probe command in the working directory; its trimmed stdout, or null when it is missing, fails or hangs. */
  private String run(String... command) {
    String out = runRaw(command);
    return out == null ? null : out.trim();
  }

  private String runRaw(String... command) {
    try {
      Process p = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(false)
          .redirectError(ProcessBuilder.Redirect.DISCARD).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
          .start();
      byte[] out;
      try (InputStream in = p.getInputStream()) {
        out = in.readAllBytes();
      }
      if (!p.waitFor(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        return null;
      }
      return p.exitValue() == 0 ? new String(out, StandardCharsets.UTF_8) : null;
    } catch (IOException e) {
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }



}
