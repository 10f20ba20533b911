package io.lineageledger.projections.detect;

import io.lineageledger.events.Alert;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds {@link Alert} records. An alert's id is a digest of its condition key, so the same
 * condition raised again (by a detector that rebuilt its state from the log) has the same id,
 * and whoever delivers alerts can drop the repeat.
 */
public final class Alerts {
  private Alerts() {}

  /** The id of the alert of {@code conditionKey}: {@code alert-} and 24 hex digits of its SHA-256. */
  public static String idOf(String conditionKey) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(conditionKey.getBytes(StandardCharsets.UTF_8));
      return "alert-" + HexFormat.of().formatHex(d, 0, 12);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Figures behind an alert, in the order given, as strings. */
  public static Map<String, String> details(Object... keyValues) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i + 1 < keyValues.length; i += 2) {
      if (keyValues[i + 1] != null) {
        out.put(String.valueOf(keyValues[i]), String.valueOf(keyValues[i + 1]));
      }
    }
    return out;
  }

  public static Alert of(AlertKind kind, String conditionKey, String subject, String runId, String model, String message,
                         List<String> evidence, Map<String, String> details, Instant raisedAt) {
    return Alert.newBuilder()
        .setAlertId(idOf(conditionKey))
        .setConditionKey(conditionKey)
        .setRaisedAt(raisedAt)
        .setSubject(subject)
        .setKind(kind.name())
        .setSeverity(kind.severity())
        .setMessage(message)
        .setRunId(runId)
        .setModel(model)
        .setEvidenceEventIds(List.copyOf(evidence))
        .setDetails(new LinkedHashMap<>(details))
        .build();
  }

  /** A number as a person reads it in a message: 4 significant digits. */
  static String fmt(double v) {
    if (Double.isNaN(v) || Double.isInfinite(v)) {
      return String.valueOf(v);
    }
    return String.format(java.util.Locale.ROOT, "%.4g", v);
  }
}
