package io.lineageledger.producers.ndjson;

import io.lineageledger.events.EventEnvelope;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.Receipt;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * Publishes NDJSON lines through a {@link LedgerClient}: each valid line becomes one event;
 * each bad one is reported on the error stream as {@code source:line: reason} and appended to
 * the {@link RejectsFile}, and the next line goes on. A valid line the client could neither
 * publish nor spool is kept in the rejects file too, so that no line is ever lost.
 *
 * <p>One thread feeds lines; counters may be read from any thread.
 */
public final class NdjsonPublisher {
  private final LedgerClient client;
  private final NdjsonProtocol protocol;
  private final RejectsFile rejects;
  private final PrintStream errors;
  private final String source;
  private final AtomicLong lines = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final AtomicLong spooled = new AtomicLong();
  private final AtomicLong rejected = new AtomicLong();
  private CompletableFuture<?> all = CompletableFuture.completedFuture(null);
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

  /** Reads every line of {@code in} and publishes it; returns when the stream ends (not when delivery completes: see {@link #finish()}). */
  public void readAll(BufferedReader in) throws IOException {
    long n = 0;
    for (String line = in.readLine(); line != null; line = in.readLine()) {
      line(++n, line);
    }
  }

  /** Handles line number {@code lineNumber}; blank lines are skipped. */
  public void line(long lineNumber, String text) {
    if (text.isBlank()) {
      return;
    }
    lines.incrementAndGet();
    text = lineFilter.apply(text);
    if (!text.isEmpty() && text.charAt(0) == '\uFEFF') {
      text = text.substring(1);
    }
    NdjsonProtocol.ParsedEvent parsed;
    EventEnvelope event;
    try {
      parsed = protocol.parse(text);
      event = client.envelope(parsed.subject(), parsed.payload(), parsed.eventId(), parsed.occurredAt());
      listener.accept(parsed);
    } catch (InvalidLineException e) {
      reject(lineNumber, e.getMessage(), text);
      return;
    }
    String original = text;
    CompletableFuture<Receipt> receipt = client.publish(event).whenComplete((r, e) -> {
      if (e != null) {
        reject(lineNumber, "valid, but could not be published or spooled: " + rootMessage(e), original);
      } else if (r.outcome() == Receipt.Outcome.SPOOLED) {
        spooled.incrementAndGet();
      } else {
        published.incrementAndGet();
      }
    });
    synchronized (this) {
      all = CompletableFuture.allOf(all, receipt.handle((r, e) -> null));
    }
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
    CompletableFuture<?> f;
    synchronized (this) {
      f = all;
    }
    f.join();
    return summary();
  }

  public Summary summary() {
    return new Summary(source, lines.get(), published.get(), spooled.get(), rejected.get(), rejects.path().toString());
  }

  /** What happened to the lines of one source. */
  public record Summary(String source, long lines, long published, long spooled, long rejected, String rejectsFile) {}
}
