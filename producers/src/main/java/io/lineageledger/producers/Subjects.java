package io.lineageledger.producers;

import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.DataTransformApplied;
import io.lineageledger.events.ModelVersionRegistered;

/**
 * Subjects, the Kafka keys of ledger events: {@code run:<id>}, {@code dataset:<name>},
 * {@code model:<name>}, {@code experiment:<name>}. One subject's events share a partition and
 * so keep their order.
 */
public final class Subjects {
  private Subjects() {}

  public static String run(String runId) {
    return "run:" + requireName("run id", runId);
  }

  public static String dataset(String name) {
    return "dataset:" + requireName("dataset name", name);
  }

  public static String model(String name) {
    return "model:" + requireName("model name", name);
  }

  /** The subject of a data transform: the dataset it produced (its first output). */
  public static String of(DataTransformApplied transform) {
    if (transform.getOutputs().isEmpty()) {
      throw new IllegalArgumentException("data transform '" + transform.getTransformName() + "' (" + transform.getTransformId()
          + ") has no outputs: a transform event needs at least one output dataset");
    }
    return dataset(transform.getOutputs().get(0).getName());
  }

  public static String of(ModelVersionRegistered registered) {
    return model(registered.getModelName());
  }

  public static String of(BaselineDesignated baseline) {
    String kind = baseline.getTargetKind();
    if (!"model".equals(kind) && !"experiment".equals(kind)) {
      throw new IllegalArgumentException("baseline target_kind must be 'model' or 'experiment', not '" + kind + "'");
    }
    return kind + ":" + requireName("baseline target", baseline.getTarget());
  }

  private static String requireName(String what, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(what + " is empty");
    }
    return value;
  }
}
