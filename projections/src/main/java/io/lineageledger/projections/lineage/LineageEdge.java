package io.lineageledger.projections.lineage;

import java.time.Instant;

/**
 * One W3C PROV relation between two lineage nodes, from the event that stated it. {@code from}
 * is the later thing and {@code to} what it came from ("run USED dataset", "checkpoint
 * WAS_GENERATED_BY run"), so upstream follows from → to and downstream to → from.
 */
public record LineageEdge(String from, Kind kind, String to, String eventId, Instant at) {
  /** PROV edge kinds, as DESIGN.md "Lineage vocabulary" uses them. */
  public enum Kind { USED, WAS_GENERATED_BY, WAS_DERIVED_FROM, WAS_INFORMED_BY }

  /** The relation alone, without the event that stated it: two statements of it are one edge. */
  public String relation() {
    return from + " " + kind + " " + to;
  }

  /** Of two statements of one relation, the one kept: the earliest, then the smallest event id (deterministic). */
  public static LineageEdge first(LineageEdge a, LineageEdge b) {
    int c = a.at().compareTo(b.at());
    return c < 0 || (c == 0 && a.eventId().compareTo(b.eventId()) <= 0) ? a : b;
  }
}
