package io.lineageledger.producers.ndjson;

/**
 * An NDJSON line that is not a valid ledger event. The message names the field path (for
 * example {@code step_summary.metrics['lr']}) or the envelope key and says what was expected;
 * the reader reports it with the line number and keeps the line in the rejects file.
 */
public final class InvalidLineException extends RuntimeException {
  public InvalidLineException(String message) {
    super(message, null, false, false);
  }
}
