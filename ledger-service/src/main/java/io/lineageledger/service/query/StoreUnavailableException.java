package io.lineageledger.service.query;

/**
 * A projection store cannot answer right now (the application is starting, rebalancing or
 * restoring the store); retrying shortly will work. The HTTP API answers 503 with Retry-After.
 */
public final class StoreUnavailableException extends RuntimeException {
  public StoreUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
