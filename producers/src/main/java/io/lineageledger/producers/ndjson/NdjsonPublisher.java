package io.lineageledger.producers.ndjson;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.Receipt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Publishes NDJSON lines through a {@link LedgerClient}: each valid line becomes one event;
 * each bad one is reported on the error stream as {@code source:line: reason} and appended to
 * the {@link RejectsFile}, and the next line goes on. A valid line the client could neither
 * publish nor spool is kept in the rejects file too, so that no line is ever lost.
 *
 * <p>One thread feeds lines and calls {@link #finish()} ({@link #readAll} decodes on a helper
 * thread of its own); counters may be read from any thread.
 */
public final class NdjsonPublisher {
  private final LedgerClient client;
  private final NdjsonProtocol protocol;
  private static final int CHUNK_LINES = 512;
  private static final int MAX_CHUNKS_IN_FLIGHT = 4;
  private final RejectsFile rejects;
  private final PrintStream errors;
  private final String source;
  private final AtomicLong lines = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong spooled = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  // Lines handed to the client (the feeding thread's own count) and those of them settled:
  // published, spooled or rejected (counted where receipts complete). Each side writes only its
  // own counter, so the feeding thread and Kafka's I/O thread do not write shared memory per line.
  private long handed;
  private final AtomicLong settled = new AtomicLong();
  private volatile long awaited = Long.MAX_VALUE; // the settled count finish() waits for
  private UnaryOperator<String> lineFilter = UnaryOperator.identity();
  private Consumer<NdjsonProtocol.ParsedEvent> listener = e -> { };

  public NdjsonPublisher(LedgerClient client, NdjsonProtocol protocol, RejectsFile rejects, PrintStream errors, String source) {
    this.client = client;
    this.protocol = protocol;
    this.rejects = rejects;
    this.errors = errors;
    this.source = source;
  }

  /** Rewrites every line before it is parsed or kept in the rejects file (the sidecar scrubs secrets here). */
  public NdjsonPublisher lineFilter(UnaryOperator<String> filter) {
    this.lineFilter = filter;
    return this;
  }

  /** Called with every valid event, on the thread that feeds lines, before it is published. */
  public NdjsonPublisher listener(Consumer<NdjsonProtocol.ParsedEvent> listener) {
    this.listener = listener;
    return this;
  }

  /**
   * Reads every line of {@code in} and publishes it; returns when the stream ends (not when
   * delivery completes: see {@link #finish()}). Lines are decoded (parsed, validated,
   * converted) on a worker thread in chunks while this thread publishes the chunk before, in
   * order, so a large file keeps both the parser and the producer busy.
   */
  public void readAll(BufferedReader in) throws IOException {
    ExecutorService decoder = Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "ledger-ndjson-decoder");
      t.setDaemon(true);
      return t;
    });
    try {
      ArrayDeque<Future<Chunk>> inFlight = new ArrayDeque<>();
      long n = 0;
      boolean eof = false;
      while (!eof || !inFlight.isEmpty()) {
        while (!eof && inFlight.size() < MAX_CHUNKS_IN_FLIGHT) {
          List<String> texts = new ArrayList<>(CHUNK_LINES);
          for (String line = in.readLine(); line != null; line = texts.size() < CHUNK_LINES ? in.readLine() : null) {
            texts.add(line);
            if (texts.size() == CHUNK_LINES) {
              break;
            }
          }
          if (texts.isEmpty()) {
            eof = true;
            break;
          }
          long first = n + 1;
          n += texts.size();
          inFlight.add(decoder.submit(() -> decode(first, texts)));
        }
        if (!inFlight.isEmpty()) {
          Chunk chunk;
          try {
            chunk = inFlight.poll().get();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while reading " + source, e);
          } catch (ExecutionException e) {
            throw new IllegalStateException("decoding " + source + " failed: " + e.getCause(), e.getCause());
          }
          for (int i = 0; i < chunk.texts.size(); i++) {
            publish(chunk.first + i, chunk.texts.get(i), chunk.decoded[i]);
          }
        }
      }
    } finally {
      decoder.shutdownNow();
    }
  }

  private record Chunk(long first, List<String> texts, Object[] decoded) {}

  private Chunk decode(long first, List<String> texts) {
    Object[] decoded = new Object[texts.size()];
    for (int i = 0; i < texts.size(); i++) {
      String text = filtered(texts.get(i));
      texts.set(i, text);
      decoded[i] = text.isBlank() ? null : decodeOrError(text);
    }
    return new Chunk(first, texts, decoded);
  }

  private String filtered(String text) {
    text = lineFilter.apply(text);
    return !text.isEmpty() && text.charAt(0) == '\uFEFF' ? text.substring(1) : text;
  }

  private Object decodeOrError(String text) {
    try {
      return protocol.decode(text);
    } catch (InvalidLineException e) {
      return e;
    } catch (RuntimeException e) {
      // A line the converter could not handle is still just one bad line: report it, go on.
      return new InvalidLineException("cannot be converted: " + e);
    }
  }

  /** Handles line number {@code lineNumber}; blank lines are skipped. */
  public void line(long lineNumber, String text) {
    text = filtered(text);
    publish(lineNumber, text, text.isBlank() ? null : decodeOrError(text));
  }

  /** Publishes one decoded line (or reports its error) in stream order; {@code decoded} is null for a blank line. */
  private void publish(long lineNumber, String text, Object decoded) {
    if (decoded == null) {
      return;
    }
    lines.incrementAndGet();
    EventEnvelope event;
    try {
      if (decoded instanceof InvalidLineException e) {
        throw e;
      }
      NdjsonProtocol.ParsedEvent parsed = protocol.complete((NdjsonProtocol.Decoded) decoded);
      event = client.envelope(parsed.subject(), parsed.payload(), parsed.eventId(), parsed.occurredAt());
      listener.accept(parsed);
    } catch (InvalidLineException e) {
      reject(lineNumber, e.getMessage(), text);
      return;
    }
    String original = text;
    handed++;
    client.publish(event).whenComplete((r, e) -> {
      if (e != null) {
        reject(lineNumber, "valid, but could not be published or spooled: " + rootMessage(e), original);
      } else if (r.outcome() == Receipt.Outcome.SPOOLED) {
        spooled.incrementAndGet();
      } else {
        published.incrementAndGet();
      }
      if (settled.incrementAndGet() >= awaited) {
        synchronized (settled) {
          settled.notifyAll();
        }
      }
    });
  }

  private void reject(long lineNumber, String reason, String text) {
    rejected.incrementAndGet();
    errors.println(source + ":" + lineNumber + ": " + reason);
    rejects.append(source, lineNumber, reason, text);
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return e.getMessage() + (t == e ? "" : " (" + t + ")");
  }

  /** Flushes the client and waits until every line handed over is published, spooled or rejected. */
  public Summary finish() {
    client.flush();
    awaited = handed;
    synchronized (settled) {
      while (settled.get() < handed) {
        try {
          settled.wait(100);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    awaited = Long.MAX_VALUE;
    return summary();
  }

  public Summary summary() {
    return new Summary(source, lines.get(), published.get(), spooled.get(), rejected.get(), rejects.path().toString());
  }

  /** What happened to the lines of one source. */
  public record Summary(String source, long lines, long published, long spooled, long rejected, String rejectsFile) {}
}
