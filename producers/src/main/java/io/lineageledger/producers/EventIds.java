package io.lineageledger.producers;

import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;

/**
 * UUIDv7 event ids (RFC 9562): 48 bits of Unix milliseconds, then a 12-bit counter that keeps
 * ids from one generator strictly increasing within a millisecond, then 62 random bits. Ids
 * sort by creation time, which keeps the dedupe stores of projections compact.
 *
 * <p>Thread-safe.
 */
public final class EventIds {
  // The last id's 48-bit millisecond and 12-bit counter, packed as millis << 12 | counter: one
  // compare-and-set claims the next id, and a counter that runs out carries into the next
  // millisecond by itself, keeping order.
  private final AtomicLong last = new AtomicLong();

  /** A new id. */
  public String next() {
    return next(System.currentTimeMillis());
  }

  /** A new id for an event that occurred at {@code now} (Unix milliseconds). */
  public String next(long now) {
    // 62 random bits (ThreadLocalRandom: seeded from the OS, no lock; SecureRandom per id would
    // cost more than the rest of publishing an event); 10 of the others pick where a new
    // millisecond's counter starts, low in the 12-bit space, leaving room to count up.
    long random = ThreadLocalRandom.current().nextLong();
    long claimed;
    while (true) {
      long prev = last.get();
      claimed = now > (prev >>> 12) ? now << 12 | (random >>> 54) : prev + 1;
      if (last.compareAndSet(prev, claimed)) {
        break;
      }
    }
    long msb = (claimed >>> 12) << 16 | 0x7L << 12 | (claimed & 0xFFF);
    long lsb = (random & 0x3FFFFFFFFFFFFFFFL) | 0x8000000000000000L;
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
