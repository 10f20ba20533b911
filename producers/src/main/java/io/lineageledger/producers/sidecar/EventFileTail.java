package io.lineageledger.producers.sidecar;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Follows a file a command appends NDJSON to, handing each complete line to a sink with its
 * line number (counted from where following began). A line still being written stays
 * buffered until its newline arrives, or until {@link #finish()} once the writer has exited.
 * The writer is never slowed: it appends to a plain file and the tail reads behind it.
 *
 * <p>One thread polls a tail.
 */
final class EventFileTail implements AutoCloseable {
  /** Receives one line. */
  interface Sink {
    void line(long number, String text);
  }

  private final FileChannel channel;
  private final Sink sink;
  private final ByteBuffer buffer = ByteBuffer.allocate(1 << 16);
  private final ByteArrayOutputStream partial = new ByteArrayOutputStream();
  private long position;
  private long lineNumber;

  /** Follows {@code file} from {@code startOffset}, creating it when it does not exist. */
  EventFileTail(Path file, long startOffset, Sink sink) throws IOException {
    if (file.getParent() != null) {
      Files.createDirectories(file.getParent());
    }
    this.channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    this.sink = sink;
    this.position = startOffset;
  }

  /** Reads what was appended since the last call; returns the number of complete lines handed over. */
  int poll() throws IOException {
    int lines = 0;
    while (true) {
      buffer.clear();
      int n = channel.read(buffer, position);
      if (n <= 0) {
        return lines;
      }
      position += n;
      byte[] bytes = buffer.array();
      int start = 0;
      for (int i = 0; i < n; i++) {
        if (bytes[i] == '\n') {
          partial.write(bytes, start, i - start);
          emit();
          lines++;
          start = i + 1;
        }
      }
      partial.write(bytes, start, n - start);
    }
  }

  /** Reads to the end, handing over a last line that has no newline. */
  void finish() throws IOException {
    poll();
    if (partial.size() > 0) {
      emit();
    }
  }

  private void emit() {
    byte[] raw = partial.toByteArray();
    partial.reset();
    int len = raw.length;
    if (len > 0 && raw[len - 1] == '\r') {
      len--;
    }
    sink.line(++lineNumber, new String(raw, 0, len, StandardCharsets.UTF_8));
  }

  @Override
  public void close() throws IOException {
    channel.close();
  }
}
