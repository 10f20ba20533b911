package io.lineageledger.projections;

/**
 * An event that deserialized but cannot be projected (its subject does not match its key, it
 * has no event id, ...). The projections hand it to Kafka Streams' processing-exception handler,
 * which writes the record to {@code ledger.events.dlq} with this message and goes on.
 */
public final class InvalidEventException extends RuntimeException {
  public InvalidEventException(String message) {
    super(message);
  }
}
