package io.lineageledger.producers;

import java.security.SecureRandom;
import java.util.SplittableRandom;
import java.util.UUID;

/**
 * UUIDv7 event ids (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps
 * ids from one generator strictly increasing within a millisecond, then 62 random bits. Ids
 * sort by creation time, which keeps the dedupe stores of projections compact.
 *
 * <p>Thread-safe.
 */
public final class EventIds {
  // Seeded from the OS once: SecureRandom per id would cost more than the rest of publishing an event.
  private final SplittableRandom random = new SplittableRandom(new SecureRandom().nextLong());
  private long lastMillis = -1;
  private int counter;

  /** A new id. */
  public synchronized String next() {
    long now = System.currentTimeMillis();
    if (now > lastMillis) {
      lastMillis = now;
      counter = random.nextInt(1 << 10); // start low in the 12-bit space, leaving room to count up
    } else if (++counter >= (1 << 12)) {
      lastMillis++; // counter exhausted: borrow the next millisecond, keeping order
      counter = 0;
    }
    long msb = (lastMillis << 16) | (0x7L << 12) | counter;
    long lsb = (random.nextLong() & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
    return new UUID(msb, lsb).toString();
  }

  /** Whether {@code id} is a well-formed UUID of version 7. */
  public static boolean isUuidV7(String id) {
    try {
      UUID uuid = UUID.fromString(id);
      return uuid.version() == 7 && uuid.variant() == 2 && uuid.toString().equalsIgnoreCase(id);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
