package io.lineageledger.producers;

/** Moves a spool's events into the log; {@link SpoolShipper} is the real one. */
public interface SpoolDrain {

  /**
   * Publishes every event of {@code spool} that has not been published yet.
   *
   * @throws RuntimeException when the broker cannot be reached; nothing is lost and the next call resumes
   */
  Result ship(Spool spool);

  /**
   * @param spoolId the spool shipped
   * @param alreadyShipped the last sequence number committed before this run (-1 for none)
   * @param published events published by this run
   * @param lastShipped the last sequence number committed after this run
   */
  record Result(String spoolId, long alreadyShipped, long published, long lastShipped) {}
}
