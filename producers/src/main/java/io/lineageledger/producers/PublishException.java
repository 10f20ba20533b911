package io.lineageledger.producers;

/** An event could not be published and was not spooled; the message names the event and why. */
public final class PublishException extends RuntimeException {
  private final String eventId;

  PublishException(String eventId, String reason, Throwable cause) {
    super("event " + eventId + " was not published: " + reason + (cause == null ? "" : " (" + cause + ")"), cause);
    this.eventId = eventId;
  }

  public String eventId() {
    return eventId;
  }
}
