package io.lineageledger.service.query;

/** A request that the ledger's current state does not allow (HTTP 409), with what to do instead. */
public final class ConflictException extends RuntimeException {
  public ConflictException(String message) {
    super(message);
  }
}
