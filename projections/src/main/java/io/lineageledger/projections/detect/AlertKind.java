package io.lineageledger.projections.detect;

import io.lineageledger.events.Severity;

/** The conditions the detectors raise, each with the severity its alerts carry. */
public enum AlertKind {
  METRIC_REGRESSION(Severity.CRITICAL),
  NON_FINITE_LOSS(Severity.CRITICAL),
  LOSS_SPIKE(Severity.WARNING),
  LOSS_CLIFF_AFTER_RESUME(Severity.CRITICAL),
  RESUME_CODE_MISMATCH(Severity.WARNING),
  DATASET_DIGEST_CONFLICT(Severity.CRITICAL),
  REPRODUCTION_DIVERGED(Severity.WARNING),
  RUN_SILENT(Severity.WARNING),
  THROUGHPUT_DROP(Severity.INFO);

  private final Severity severity;

  AlertKind(Severity severity) {
    this.severity = severity;
  }

  public Severity severity() {
    return severity;
  }
}
