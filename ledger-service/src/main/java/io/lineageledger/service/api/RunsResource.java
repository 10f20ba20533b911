package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.projections.run.RunState;
import io.lineageledger.service.query.Routing;
import io.lineageledger.service.query.RunQueries;
import io.lineageledger.service.query.RunStateJson;
import io.lineageledger.service.query.StoreUnavailableException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code /api/v1/runs}: the runs, a run's live state, its state rebuilt from the log as of a
 * step or a time, and its metric history (downsampled with {@code ?points=}).
 *
 * <p>With several instances, a run's live state and metrics are answered by the instance that
 * owns its partition (others forward the request there); the list asks every instance for its
 * part and says which parts are missing. Replays read the log and are answered anywhere.
 */
public final class RunsResource implements LedgerHttpApi.Resource {
  /** The stored bytes of a run state ({@code RunStateCodec}), which instances ask each other for with {@code Accept}. */
  static final String RUN_STATE_MEDIA_TYPE = "application/vnd.lineage-ledger.run-state";
  private final RunQueries runs;
  private final Routing routing;
  private final Forwarder forwarder;

  public RunsResource(RunQueries runs, Routing routing) {
    this.runs = runs;
    this.routing = routing;
    this.forwarder = new Forwarder(routing.self());
  }

  @Override
  public void routes(Javalin app) {
    app.get("/api/v1/runs", this::list);
    app.get("/api/v1/runs/{id}", ctx -> {
      if (!forwarded(ctx)) {
        RunState state = runs.state(ctx.pathParam("id"));
        if (RUN_STATE_MEDIA_TYPE.equals(ctx.header("Accept"))) { // another instance assembling a report
          ctx.contentType(RUN_STATE_MEDIA_TYPE).result(io.lineageledger.projections.run.RunStateCodec.encode(state));
        } else {
          ctx.json(RunStateJson.of(state));
        }
      }
    });
    app.get("/api/v1/runs/{id}/state", this::state);
    app.get("/api/v1/runs/{id}/manifest", ctx -> {
      String step = ctx.queryParam("step");
      if (step == null) {
        throw new IllegalArgumentException("?step= is required: the step to resume at (the last complete checkpoint at or before it is used)");
      }
      ctx.json(runs.resumeManifest(ctx.pathParam("id"), parseStep(step)));
    });
    app.get("/api/v1/runs/{id}/metrics", ctx -> {
      if (!forwarded(ctx)) {
        metrics(ctx);
      }
    });
  }

  /** True when another instance owns the run and has answered {@code ctx}. */
  static boolean forwarded(Context ctx, Routing routing, Forwarder forwarder) {
    Optional<String> owner = routing.ownerOfRun(ctx.pathParam("id"));
    if (owner.isEmpty()) {
      return false;
    }
    if (Forwarder.wasForwarded(ctx)) {
      throw new StoreUnavailableException("instance " + ctx.header(Forwarder.HEADER) + " sent run '" + ctx.pathParam("id")
          + "' here, but " + owner.get() + " owns it: the instances are rebalancing", null);
    }
    forwarder.proxy(ctx, owner.get());
    return true;
  }

  private boolean forwarded(Context ctx) {
    return forwarded(ctx, routing, forwarder);
  }

  private void list(Context ctx) throws Exception {
    List<Map<String, Object>> local = runs.runs().stream().map(RunStateJson::summary).toList();
    if (Forwarder.wasForwarded(ctx)) {
      ctx.json(Map.of("runs", local));
      return;
    }
    Routing.Parts parts = routing.parts();
    Map<String, CompletableFuture<JsonNode>> asked = new LinkedHashMap<>();
    for (String other : parts.others()) {
      asked.put(other, forwarder.get(other, "/api/v1/runs"));
    }
    List<JsonNode> all = new ArrayList<>();
    local.forEach(summary -> all.add(LedgerHttpApi.JSON.valueToTree(summary)));
    List<String> answered = new ArrayList<>();
    List<Map<String, String>> missing = new ArrayList<>();
    if (routing.self() != null) {
      answered.add(routing.self());
    }
    for (Map.Entry<String, CompletableFuture<JsonNode>> e : asked.entrySet()) {
      try {
        e.getValue().get(30, TimeUnit.SECONDS).get("runs").forEach(all::add);
        answered.add(e.getKey());
      } catch (Exception x) {
        missing.add(Map.of("instance", e.getKey(), "reason", String.valueOf(x.getCause() == null ? x : x.getCause())));
      }
    }
    all.sort(Comparator.comparing(summary -> summary.path("run_id").asText()));
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("runs", all);
    body.put("complete", missing.isEmpty() && parts.unowned().isEmpty());
    body.put("instances", answered);
    if (!missing.isEmpty()) {
      body.put("missing_instances", missing);
    }
    if (!parts.unowned().isEmpty()) {
      body.put("unowned_partitions", parts.unowned());
    }
    ctx.json(body);
  }

  private void state(Context ctx) {
    String step = ctx.queryParam("step");
    String at = ctx.queryParam("at");
    if (step != null && at != null) {
      throw new IllegalArgumentException("give either ?step= or ?at=, not both");
    }
    RunState state = runs.replay(ctx.pathParam("id"), step == null ? null : parseStep(step), at == null ? null : parseTime(at));
    ctx.json(RunStateJson.of(state));
  }

  private void metrics(Context ctx) {
    String name = ctx.queryParam("name");
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("?name= is required, for example ?name=loss");
    }
    String pointsParam = ctx.queryParam("points");
    int points = 0;
    if (pointsParam != null) {
      try {
        points = Integer.parseInt(pointsParam);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("?points= must be a positive integer, got '" + pointsParam + "'");
      }
      if (points <= 0) {
        throw new IllegalArgumentException("?points= must be a positive integer, got '" + pointsParam + "'");
      }
    }
    List<RunQueries.MetricPoint> history = runs.metric(ctx.pathParam("id"), name, points);
    boolean downsampled = history.stream().anyMatch(p -> p.count() > 1);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("run_id", ctx.pathParam("id"));
    body.put("metric", name);
    body.put("downsampled", downsampled);
    body.put("points", history.stream().map(p -> RunQueries.json(p, downsampled)).toList());
    ctx.json(body);
  }

  private static long parseStep(String s) {
    try {
      long step = Long.parseLong(s);
      if (step < 0) {
        throw new NumberFormatException();
      }
      return step;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("?step= must be a step number (0 or more), got '" + s + "'");
    }
  }

  private static Instant parseTime(String s) {
    try {
      return Instant.parse(s);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("?at= must be an ISO-8601 UTC time such as 2026-11-22T10:15:30Z, got '" + s + "'");
    }
  }
}
