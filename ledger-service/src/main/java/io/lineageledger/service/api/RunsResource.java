package io.lineageledger.service.api;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.projections.run.RunState;
import io.lineageledger.service.query.RunQueries;
import io.lineageledger.service.query.RunStateJson;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /api/v1/runs}: the runs, a run's live state, its state rebuilt from the log as of a
 * step or a time, and its metric history (downsampled with {@code ?points=}).
 */
public final class RunsResource implements LedgerHttpApi.Resource {
  private final RunQueries runs;

  public RunsResource(RunQueries runs) {
    this.runs = runs;
  }

  @Override
  public void routes(Javalin app) {
    app.get("/api/v1/runs", this::list);
    app.get("/api/v1/runs/{id}", ctx -> ctx.json(RunStateJson.of(runs.state(ctx.pathParam("id")))));
    app.get("/api/v1/runs/{id}/state", this::state);
    app.get("/api/v1/runs/{id}/metrics", this::metrics);
  }

  private void list(Context ctx) {
    List<Map<String, Object>> list = runs.runs().stream().map(RunStateJson::summary).toList();
    ctx.json(Map.of("runs", list));
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
