package io.lineageledger.producers;

/**
 * What became of one published event: acknowledged by the broker, or durably spooled to disk
 * to be published when the broker is reachable again.
 *
 * @param eventId the event's id
 * @param outcome PUBLISHED or SPOOLED
 * @param topic topic written (PUBLISHED)
 * @param partition partition written (PUBLISHED), else -1
 * @param offset offset written (PUBLISHED), else -1
 * @param spoolSeq sequence number in the spool (SPOOLED), else -1
 */
public record Receipt(String eventId, Outcome outcome, String topic, int partition, long offset, long spoolSeq) {
  /** Where an event went. */
  public enum Outcome { PUBLISHED, SPOOLED }
}
