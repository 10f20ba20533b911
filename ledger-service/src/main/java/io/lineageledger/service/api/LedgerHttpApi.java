package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.service.query.ConflictException;
import io.lineageledger.service.query.NotFoundException;
import io.lineageledger.service.query.StoreUnavailableException;
import org.apache.kafka.streams.errors.InvalidStateStoreException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's HTTP API under {@code /api/v1}. Resources are thin: they call the query and
 * ingest components and map results to JSON DTOs. Errors are JSON bodies
 * {@code {"error": ..., "message": ...}}; retriable conditions answer 503 with {@code Retry-After}.
 */
public final class LedgerHttpApi implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(LedgerHttpApi.class);
  static final ObjectMapper JSON = new ObjectMapper();

  private final Javalin app;
  private final List<HealthCheck> checks;

  /** A group of routes, registered when the API is built. */
  public interface Resource {
    void routes(Javalin app);
  }

  public LedgerHttpApi(List<HealthCheck> checks) {
    this(checks, List.of());
  }

  public LedgerHttpApi(List<HealthCheck> checks, List<Resource> resources) {
    this.checks = List.copyOf(checks);
    this.app = Javalin.create(config -> {
      config.showJavalinBanner = false;
      config.useVirtualThreads = false;
      config.http.maxRequestSize = 32L << 20; // POST /api/v1/events takes up to 10,000 events
    });
    app.get("/api/v1/health", this::health);
    resources.forEach(r -> r.routes(app));
    app.exception(NotFoundException.class, (e, ctx) -> error(ctx, 404, "not_found", e.getMessage()));
    app.exception(IllegalArgumentException.class, (e, ctx) -> error(ctx, 400, "bad_request", e.getMessage()));
    app.exception(ConflictException.class, (e, ctx) -> error(ctx, 409, "conflict", e.getMessage()));
    app.exception(StoreUnavailableException.class, (e, ctx) -> {
      ctx.header("Retry-After", "1");
      error(ctx, 503, "unavailable", e.getMessage());
    });
    // A store read while its task migrates or restores: retriable, like StoreUnavailableException.
    app.exception(InvalidStateStoreException.class, (e, ctx) -> {
      ctx.header("Retry-After", "1");
      error(ctx, 503, "unavailable", "the projections are rebalancing or restoring: " + e.getMessage());
    });
    app.exception(Exception.class, (e, ctx) -> {
      LOG.error("{} {} failed", ctx.method(), ctx.path(), e);
      error(ctx, 500, "internal_error", e.toString());
    });
    app.error(404, ctx -> {
      if (ctx.result() == null || ctx.result().isEmpty()) {
        error(ctx, 404, "not_found", "no resource at " + ctx.method() + " " + ctx.path());
      }
    });
  }

  public LedgerHttpApi start(String host, int port) {
    app.start(host, port);
    return this;
  }

  public int port() {
    return app.port();
  }

  private void health(Context ctx) {
    Map<String, Object> components = new LinkedHashMap<>();
    boolean up = true;
    for (HealthCheck check : checks) {
      HealthCheck.Result result = check.check();
      up &= result.up();
      Map<String, Object> c = new LinkedHashMap<>();
      c.put("status", result.up() ? "UP" : "DOWN");
      c.putAll(result.details());
      components.put(check.name(), c);
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("status", up ? "UP" : "DOWN");
    body.put("components", components);
    if (!up) {
      ctx.header("Retry-After", "5");
    }
    ctx.status(up ? 200 : 503).json(body);
  }

  static void error(Context ctx, int status, String error, String message) {
    ctx.status(status).json(Map.of("error", error, "message", message == null ? "" : message));
  }

  @Override
  public void close() {
    app.stop();
  }
}
