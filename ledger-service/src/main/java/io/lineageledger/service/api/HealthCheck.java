package io.lineageledger.service.api;

import java.util.Map;
import java.util.function.Supplier;

/** One component's part of {@code GET /api/v1/health}. Implementations answer within a few seconds. */
public interface HealthCheck {
  String name();

  Result check();

  /** A health check from a name and a function; a thrown exception reads as DOWN with its message. */
  static HealthCheck of(String name, Supplier<Map<String, Object>> probe) {
    return new HealthCheck() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Result check() {
        try {
          return new Result(true, probe.get());
        } catch (RuntimeException e) {
          return new Result(false, Map.of("error", String.valueOf(e.getMessage())));
        }
      }
    };
  }

  /** Whether the component is up, and what a person needs to know about it. */
  record Result(boolean up, Map<String, Object> details) {}
}
