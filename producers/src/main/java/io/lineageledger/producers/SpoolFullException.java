package io.lineageledger.producers;

import java.nio.file.Path;

/** The spool has no room for more events: the broker has been unreachable for too long, or the limit is too low. */
public final class SpoolFullException extends RuntimeException {
  SpoolFullException(Path dir, long bytes, long maxBytes, int events) {
    super("spool " + dir + " is full: it holds " + bytes + " bytes of its " + maxBytes + "-byte limit, so " + events
        + " event(s) could not be spooled. Bring the broker back (the spool then drains), ship the spool with"
        + " 'ledger ship " + dir + "', or raise the limit.");
  }
}
