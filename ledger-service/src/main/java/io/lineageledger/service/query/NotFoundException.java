package io.lineageledger.service.query;

/** What a query asked for does not exist (yet): the HTTP API answers 404 with a JSON body naming it. */
public final class NotFoundException extends RuntimeException {
  public NotFoundException(String message) {
    super(message);
  }
}
