package io.lineageledger.producers.ndjson;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;

/**
 * Append-only file of the lines that could not be published, one JSON object per line:
 * {@code {"source", "line", "reason", "rejected_at", "text"}} where {@code text} is the line
 * exactly as it was read, so that a fixed copy can be re-emitted. Lives next to the spool.
 *
 * <p>Thread-safe: publish failures are recorded from Kafka's I/O thread while the reader
 * records parse errors.
 */
public final class RejectsFile {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final Path path;

  public RejectsFile(Path path) {
    this.path = path;
  }

  public Path path() {
    return path;
  }

  /** Appends one rejected line and forces it to disk. */
  public synchronized void append(String source, long lineNumber, String reason, String text) {
    ObjectNode o = JSON.createObjectNode();
    o.put("source", source);
    o.put("line", lineNumber);
    o.put("reason", reason);
    o.put("rejected_at", Instant.now().toString());
    o.put("text", text);
    try {
      if (path.getParent() != null) {
        Files.createDirectories(path.getParent());
      }
      Files.write(path, (JSON.writeValueAsString(o) + "\n").getBytes(StandardCharsets.UTF_8),
          StandardOpenOption.CREATE, StandardOpenOption.APPEND, StandardOpenOption.WRITE, StandardOpenOption.SYNC);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot append to the rejects file " + path + ": " + e.getMessage(), e);
    }
  }
}
