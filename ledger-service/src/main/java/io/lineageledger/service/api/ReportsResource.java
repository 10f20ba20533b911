package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.projections.repro.Fingerprint;
import io.lineageledger.projections.repro.ReproReport;
import io.lineageledger.projections.repro.RunComparison;
import io.lineageledger.projections.run.RunState;
import io.lineageledger.projections.run.RunStateCodec;
import io.lineageledger.service.query.NotFoundException;
import io.lineageledger.service.query.Routing;
import io.lineageledger.service.query.RunQueries;
import io.lineageledger.service.report.ReportRenderer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /api/v1/runs/{id}/report} (a run's reproducibility report) and
 * {@code GET /api/v1/compare?a=&b=} (two runs, or two comma-separated groups of runs, side by
 * side), as JSON, Markdown or HTML by {@code Accept} ({@code application/json},
 * {@code text/markdown}, {@code text/html}) or {@code ?format=json|md|html}.
 *
 * <p>A report is answered by the instance that owns the run. It asks every other instance for its
 * runs and fetches the states of those that share the run's fingerprint or declare a reproduction
 * relation with it; an instance that does not answer is named under {@code missing_instances}
 * and {@code complete} is false.
 */
public final class ReportsResource implements LedgerHttpApi.Resource {
  /** Record components in snake case, as the rest of the API. */
  static final ObjectMapper SNAKE = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);
  static final int CURVE_POINTS = 300;
  static final int MAX_RUNS_PER_SIDE = 200;

  private final RunQueries runs;
  private final Routing routing;
  private final Forwarder forwarder;

  public ReportsResource(RunQueries runs, Routing routing) {
    this.runs = runs;
    this.routing = routing;
    this.forwarder = new Forwarder(routing.self());
  }

  @Override
  public void routes(Javalin app) {
    app.get("/api/v1/runs/{id}/report", ctx -> {
      if (!RunsResource.forwarded(ctx, routing, forwarder)) {
        report(ctx);
      }
    });
    app.get("/api/v1/compare", this::compare);
  }

  private void report(Context ctx) throws Exception {
    String format = format(ctx);
    RunState run = runs.state(ctx.pathParam("id"));
    List<Map<String, String>> missing = new ArrayList<>();
    List<RunState> others = candidates(run, missing);
    ObjectNode body = SNAKE.valueToTree(ReproReport.of(run, others));
    complete(body, missing);
    switch (format) {
      case "md" -> ctx.contentType("text/markdown; charset=utf-8").result(ReportRenderer.reportMarkdown(body));
      case "html" -> {
        List<String> ids = new ArrayList<>();
        ids.add(run.runId());
        body.path("reproductions").forEach(r -> ids.add(r.path("run_id").asText()));
        ctx.contentType("text/html; charset=utf-8").result(ReportRenderer.reportHtml(body, curves(ids)));
      }
      default -> ctx.contentType("application/json").result(SNAKE.writeValueAsString(body));
    }
  }

  private void compare(Context ctx) throws Exception {
    String format = format(ctx);
    List<String> a = ids(ctx, "a");
    List<String> b = ids(ctx, "b");
    List<RunState> sa = new ArrayList<>();
    for (String id : a) {
      sa.add(stateAnywhere(id));
    }
    List<RunState> sb = new ArrayList<>();
    for (String id : b) {
      sb.add(stateAnywhere(id));
    }
    ObjectNode body = SNAKE.valueToTree(RunComparison.of(sa, sb));
    switch (format) {
      case "md" -> ctx.contentType("text/markdown; charset=utf-8").result(ReportRenderer.compareMarkdown(body));
      case "html" -> {
        List<String> all = new ArrayList<>(new LinkedHashSet<>(concat(a, b)));
        ctx.contentType("text/html; charset=utf-8").result(ReportRenderer.compareHtml(body, curves(all)));
      }
      default -> ctx.contentType("application/json").result(SNAKE.writeValueAsString(body));
    }
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return out;
  }

  private static List<String> ids(Context ctx, String param) {
    String v = ctx.queryParam(param);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException("?" + param + "= is required: a run id, or several separated by commas (for example the seeds of a variant)");
    }
    List<String> ids = new ArrayList<>();
    for (String id : v.split(",")) {
      if (id.isBlank()) {
        throw new IllegalArgumentException("?" + param + "= has an empty run id in '" + v + "'");
      }
      ids.add(id.trim());
    }
    if (ids.size() > MAX_RUNS_PER_SIDE) {
      throw new IllegalArgumentException("?" + param + "= names " + ids.size() + " runs; at most " + MAX_RUNS_PER_SIDE + " per side");
    }
    return ids;
  }

  /** json, md or html: {@code ?format=} first, then {@code Accept}; JSON when neither asks for something else. */
  static String format(Context ctx) {
    String f = ctx.queryParam("format");
    if (f != null) {
      return switch (f.toLowerCase(Locale.ROOT)) {
        case "json" -> "json";
        case "md", "markdown" -> "md";
        case "html" -> "html";
        default -> throw new IllegalArgumentException("?format= must be json, md or html, got '" + f + "'");
      };
    }
    String accept = ctx.header("Accept") == null ? "" : ctx.header("Accept").toLowerCase(Locale.ROOT);
    if (accept.contains("text/html")) {
      return "html";
    }
    if (accept.contains("text/markdown")) {
      return "md";
    }
    return "json";
  }

  /**
   * Every run this instance holds, and from the other instances those that share the run's
   * fingerprint or declare a reproduction relation with it; {@link ReproReport#of} picks among them.
   */
  private List<RunState> candidates(RunState run, List<Map<String, String>> missing) {
    List<RunState> out = new ArrayList<>(runs.runs());
    String fingerprint = Fingerprint.of(run).digest();
    String original = run.started() == null ? null : run.started().getReproductionOf();
    for (String other : routing.parts().others()) {
      try {
        JsonNode list = forwarder.get(other, "/api/v1/runs").get(30, TimeUnit.SECONDS);
        for (JsonNode summary : list.path("runs")) {
          String id = summary.path("run_id").asText();
          if (fingerprint.equals(summary.path("fingerprint").asText()) || id.equals(original)
              || run.runId().equals(summary.path("reproduction_of").asText(null))) {
            out.add(RunStateCodec.decode(forwarder.getBytes(other, "/api/v1/runs/" + encode(id), RunsResource.RUN_STATE_MEDIA_TYPE)
                .get(30, TimeUnit.SECONDS)));
          }
        }
      } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
        missing.add(Map.of("instance", other, "reason", String.valueOf(e.getCause() == null ? e : e.getCause())));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while asking " + other, e);
      }
    }
    return out;
  }

  private static void complete(ObjectNode body, List<Map<String, String>> missing) {
    body.put("complete", missing.isEmpty());
    if (!missing.isEmpty()) {
      body.set("missing_instances", SNAKE.valueToTree(missing));
    }
  }

  /** A run's live state from whichever instance owns it. */
  private RunState stateAnywhere(String runId) throws InterruptedException {
    Optional<String> owner = routing.ownerOfRun(runId);
    if (owner.isEmpty()) {
      return runs.state(runId);
    }
    try {
      return RunStateCodec.decode(forwarder.getBytes(owner.get(), "/api/v1/runs/" + encode(runId), RunsResource.RUN_STATE_MEDIA_TYPE)
          .get(30, TimeUnit.SECONDS));
    } catch (ExecutionException e) {
      if (e.getCause() instanceof NotFoundException notFound) { // the owner's own 404 and message
        throw notFound;
      }
      throw unavailable(owner.get(), runId, String.valueOf(e.getCause()), e);
    } catch (java.util.concurrent.TimeoutException e) {
      throw unavailable(owner.get(), runId, "no answer within 30 s", e);
    }
  }

  private static io.lineageledger.service.query.StoreUnavailableException unavailable(String owner, String runId, String why, Exception e) {
    return new io.lineageledger.service.query.StoreUnavailableException("instance " + owner + ", which holds run '" + runId
        + "', did not answer: " + why, e);
  }

  /** Each run's loss history, downsampled, from whichever instance owns it; runs without one are left out. */
  private Map<String, List<double[]>> curves(List<String> ids) throws InterruptedException {
    Map<String, List<double[]>> out = new LinkedHashMap<>();
    for (String id : ids) {
      List<double[]> points = new ArrayList<>();
      try {
        Optional<String> owner = routing.ownerOfRun(id);
        if (owner.isEmpty()) {
          runs.metric(id, "loss", CURVE_POINTS).forEach(p -> points.add(new double[] {p.step(), p.value()}));
        } else {
          JsonNode m = forwarder.get(owner.get(), "/api/v1/runs/" + encode(id) + "/metrics?name=loss&points=" + CURVE_POINTS)
              .get(30, TimeUnit.SECONDS);
          m.path("points").forEach(p -> points.add(new double[] {p.path("step").asDouble(), p.path("value").asDouble(Double.NaN)}));
        }
      } catch (NotFoundException | ExecutionException | java.util.concurrent.TimeoutException e) {
        continue; // no loss recorded, or its owner is away: the page says which curves it shows
      }
      out.put(id, points);
    }
    return out;
  }

  private static String encode(String id) {
    return java.net.URLEncoder.encode(id, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
  }
}
