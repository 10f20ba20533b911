package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.sse.SseClient;
import io.javalin.http.sse.SseHandler;
import io.lineageledger.events.BaselineDesignated;
import io.lineageledger.events.BaselineRule;
import io.lineageledger.events.MetricDirection;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.Receipt;
import io.lineageledger.projections.detect.AlertKind;
import io.lineageledger.projections.detect.DetectorCatalog;
import io.lineageledger.projections.repro.MetricComparison;
import io.lineageledger.service.alerts.AlertLog;
import io.lineageledger.service.alerts.Detectors;
import io.lineageledger.service.alerts.Subscription;
import io.lineageledger.service.alerts.Subscriptions;
import io.lineageledger.service.query.NotFoundException;
import io.lineageledger.service.query.StoreUnavailableException;
import java.io.IOException;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Alerts and what raises and delivers them:
 * <ul>
 *   <li>{@code GET /api/v1/alerts} (filters {@code run}, {@code model}, {@code kind}, {@code since};
 *       {@code after} a cursor) and {@code GET /api/v1/alerts/stream}, the same as server-sent
 *       events whose ids are cursors, resumed from {@code Last-Event-ID};</li>
 *   <li>{@code POST /api/v1/baselines} publishes a {@code BaselineDesignated};
 *       {@code GET /api/v1/baselines/{target}} the baseline in force;
 *       {@code GET /api/v1/runs/{id}/checks} every baseline check of a run's evaluations, passed or not;</li>
 *   <li>{@code POST|GET /api/v1/subscriptions}, {@code GET|DELETE /api/v1/subscriptions/{id}}: webhooks.</li>
 * </ul>
 * Every instance reads every alert and subscription; the detectors' catalog lives on one
 * instance, which other instances forward its queries to.
 */
public final class AlertsResource implements LedgerHttpApi.Resource {
  static final int DEFAULT_LIMIT = 1000;
  private static final ObjectMapper SNAKE = new ObjectMapper().setPropertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE);

  private final AlertLog log;
  private final Detectors detectors;
  private final Subscriptions subscriptions;
  private final LedgerClient client;
  private final Forwarder forwarder;
  private final Set<Thread> streams = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private volatile boolean closing;

  public AlertsResource(AlertLog log, Detectors detectors, Subscriptions subscriptions, LedgerClient client, String self) {
    this.log = log;
    this.detectors = detectors;
    this.subscriptions = subscriptions;
    this.client = client;
    this.forwarder = new Forwarder(self);
  }

  @Override
  public void routes(Javalin app) {
    app.get("/api/v1/alerts", this::list);
    app.get("/api/v1/alerts/stream", this::stream);
    app.post("/api/v1/baselines", this::designate);
    app.get("/api/v1/baselines/{target}", ctx -> {
      if (!toCatalog(ctx)) {
        DetectorCatalog.BaselineFact b = detectors.baseline(ctx.pathParam("target"));
        if (b == null) {
          throw new NotFoundException("no baseline is designated for '" + ctx.pathParam("target") + "' (targets are model:NAME or experiment:NAME)");
        }
        ctx.contentType("application/json").result(SNAKE.writeValueAsString(b));
      }
    });
    app.get("/api/v1/runs/{id}/checks", ctx -> {
      if (!toCatalog(ctx)) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("run_id", ctx.pathParam("id"));
        body.put("checks", detectors.checks(ctx.pathParam("id")));
        ctx.contentType("application/json").result(SNAKE.writeValueAsString(body));
      }
    });
    app.post("/api/v1/subscriptions", this::subscribe);
    app.get("/api/v1/subscriptions", ctx -> ctx.json(Map.of("subscriptions", subscriptions.list().stream().map(subscriptions::json).toList())));
    app.get("/api/v1/subscriptions/{id}", ctx -> ctx.json(subscriptions.json(subscription(ctx.pathParam("id")))));
    app.delete("/api/v1/subscriptions/{id}", ctx -> {
      if (!subscriptions.delete(ctx.pathParam("id"))) {
        throw new NotFoundException("no subscription '" + ctx.pathParam("id") + "'");
      }
      ctx.status(204);
    });
  }

  private Subscription subscription(String id) {
    return subscriptions.get(id).orElseThrow(() -> new NotFoundException("no subscription '" + id + "'"));
  }

  /** True when the catalog is on another instance, which answered {@code ctx}. */
  private boolean toCatalog(Context ctx) {
    Optional<String> owner = detectors.catalogOwner();
    if (owner.isEmpty()) {
      return false;
    }
    if (Forwarder.wasForwarded(ctx)) {
      throw new StoreUnavailableException("instance " + ctx.header(Forwarder.HEADER) + " sent this here, but " + owner.get()
          + " holds the detectors' catalog: the instances are rebalancing", null);
    }
    forwarder.proxy(ctx, owner.get());
    return true;
  }

  // --- alerts --------------------------------------------------------------------------------

  /** Alert kinds named in {@code values} (each may be a comma list), checked against {@link AlertKind}. */
  static List<String> kinds(List<String> values, String where) {
    Set<String> kinds = new LinkedHashSet<>();
    for (String k : values) {
      Arrays.stream(k.split(",")).map(String::trim).filter(s -> !s.isEmpty()).map(s -> s.toUpperCase(Locale.ROOT)).forEach(kinds::add);
    }
    for (String k : kinds) {
      try {
        AlertKind.valueOf(k);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(where + ": '" + k + "' is not an alert kind; the kinds are " + Arrays.toString(AlertKind.values()));
      }
    }
    return List.copyOf(kinds);
  }

  static AlertLog.Filter filter(Context ctx) {
    Set<String> kinds = new LinkedHashSet<>(kinds(ctx.queryParams("kind"), "?kind="));
    Instant since = null;
    String s = ctx.queryParam("since");
    if (s != null) {
      try {
        since = Instant.parse(s);
      } catch (DateTimeParseException e) {
        throw new IllegalArgumentException("?since= must be an ISO-8601 UTC time such as 2026-11-22T10:15:30Z, got '" + s + "'");
      }
    }
    return new AlertLog.Filter(ctx.queryParam("run"), ctx.queryParam("model"), kinds, since);
  }

  private void list(Context ctx) {
    AlertLog.Filter filter = filter(ctx);
    AlertLog.Cursor after = AlertLog.Cursor.parse(ctx.queryParam("after"), log.partitions());
    int limit = DEFAULT_LIMIT;
    String l = ctx.queryParam("limit");
    if (l != null) {
      try {
        limit = Integer.parseInt(l);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit <= 0) {
        throw new IllegalArgumentException("?limit= must be a positive integer, got '" + l + "'");
      }
    }
    AlertLog.Page page = log.page(after, filter, limit);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("alerts", page.entries().stream().map(e -> AlertLog.json(e.alert())).toList());
    // Where to go on from: after the last alert given when the limit cut the list, else the end of what was read.
    body.put("cursor", page.next().toString());
    body.put("caught_up", log.caughtUp());
    ctx.json(body);
  }

  private void stream(Context ctx) {
    AlertLog.Filter filter = filter(ctx);
    String resume = ctx.header("Last-Event-ID");
    if (resume == null) {
      resume = ctx.queryParam("after");
    }
    AlertLog.Cursor from = resume == null ? log.end() : AlertLog.Cursor.parse(resume, log.partitions());
    if (!"text/event-stream".equals(ctx.header("Accept"))) {
      LedgerHttpApi.error(ctx, 406, "not_acceptable",
          "this is a server-sent event stream: send 'Accept: text/event-stream' (GET /api/v1/alerts lists alerts as JSON)");
      return;
    }
    new SseHandler(client -> follow(client, from, filter)).handle(ctx);
  }

  /** Sends the alerts from {@code from} on to {@code sse} until it goes away or the service stops; on an async thread. */
  private void follow(SseClient sse, AlertLog.Cursor from, AlertLog.Filter filter) {
    BlockingQueue<AlertLog.Entry> queue = new LinkedBlockingQueue<>();
    Runnable cancel = log.follow(from, filter, queue::add);
    streams.add(Thread.currentThread());
    try {
      // An event that carries the starting cursor as its id: a client that drops before its first alert comes back from here.
      sse.sendEvent("cursor", "{\"cursor\":\"" + from + "\"}", from.toString());
      while (!closing && !sse.terminated()) {
        AlertLog.Entry e = queue.poll(10, TimeUnit.SECONDS);
        if (e == null) {
          sse.sendComment("keep-alive");
        } else {
          sse.sendEvent("alert", LedgerHttpApi.JSON.writeValueAsString(AlertLog.json(e.alert())), e.after().toString());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (IOException e) {
      // the alert could not be written as JSON; ends this stream
    } finally {
      cancel.run();
      streams.remove(Thread.currentThread());
      sse.close();
    }
  }

  /** Ends every open stream (their clients reconnect elsewhere with their last event id). */
  public void close() {
    closing = true;
    streams.forEach(Thread::interrupt);
  }

  // --- baselines -----------------------------------------------------------------------------

  private void designate(Context ctx) throws InterruptedException {
    JsonNode body = body(ctx);
    String model = text(body, "model");
    String experiment = text(body, "experiment");
    if ((model == null) == (experiment == null)) {
      throw new IllegalArgumentException("give exactly one of 'model' (a model name) and 'experiment' (an experiment name): what the baseline is for");
    }
    String run = text(body, "run");
    String evalId = text(body, "eval_id");
    if (run == null && evalId == null) {
      throw new IllegalArgumentException("give 'run' (whose latest evaluation is the baseline) or 'eval_id' (one evaluation)");
    }
    JsonNode rulesNode = body.get("rules");
    if (rulesNode == null || !rulesNode.isArray() || rulesNode.isEmpty()) {
      throw new IllegalArgumentException("'rules' must be a non-empty array such as [{\"metric\": \"val_loss\", \"max_absolute_drop\": 0.05}]");
    }
    List<BaselineRule> rules = new ArrayList<>();
    for (int i = 0; i < rulesNode.size(); i++) {
      rules.add(rule(rulesNode.get(i), "rules[" + i + "]"));
    }
    BaselineDesignated payload = BaselineDesignated.newBuilder().setTargetKind(model != null ? "model" : "experiment")
        .setTarget(model != null ? model : experiment).setBaselineRunId(run).setBaselineEvalId(evalId).setRules(rules).build();
    Receipt receipt;
    try {
      receipt = client.baselineDesignated(payload).get(30, TimeUnit.SECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new StoreUnavailableException("the baseline could not be published: " + (e.getCause() == null ? e : e.getCause()).getMessage(), e);
    }
    String target = payload.getTargetKind() + ":" + payload.getTarget();
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("event_id", receipt.eventId());
    out.put("target", target);
    out.put("baseline_run_id", run);
    out.put("baseline_eval_id", evalId);
    out.put("rules", rules.stream().map(r -> {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("metric", r.getMetric());
      m.put("direction", r.getDirection().name().toLowerCase(Locale.ROOT));
      m.put("max_absolute_drop", r.getMaxAbsoluteDrop());
      m.put("max_relative_drop", r.getMaxRelativeDrop());
      m.put("significance_level", r.getSignificanceLevel());
      return m;
    }).toList());
    ctx.status(201).header("Location", "/api/v1/baselines/" + target).json(out);
  }

  static BaselineRule rule(JsonNode n, String where) {
    String metric = text(n, "metric");
    if (metric == null || metric.isBlank()) {
      throw new IllegalArgumentException(where + ".metric is required: the metric's name in the evaluations, for example 'accuracy'");
    }
    String dir = text(n, "direction");
    MetricDirection direction;
    if (dir == null) {
      direction = MetricComparison.lowerIsBetter(metric) ? MetricDirection.LOWER_IS_BETTER : MetricDirection.HIGHER_IS_BETTER;
    } else {
      switch (dir.toLowerCase(Locale.ROOT)) {
        case "higher_is_better", "higher" -> direction = MetricDirection.HIGHER_IS_BETTER;
        case "lower_is_better", "lower" -> direction = MetricDirection.LOWER_IS_BETTER;
        default -> throw new IllegalArgumentException(where + ".direction must be 'higher_is_better' or 'lower_is_better', not '" + dir + "'");
      }
    }
    Double abs = number(n, "max_absolute_drop", where);
    Double rel = number(n, "max_relative_drop", where);
    Double sig = number(n, "significance_level", where);
    if (abs == null && rel == null) {
      throw new IllegalArgumentException(where + " needs 'max_absolute_drop' or 'max_relative_drop': how far " + metric + " may worsen");
    }
    if ((abs != null && abs < 0) || (rel != null && rel < 0)) {
      throw new IllegalArgumentException(where + ": a maximum drop cannot be negative");
    }
    if (sig != null && !(sig > 0 && sig < 1)) {
      throw new IllegalArgumentException(where + ".significance_level must be between 0 and 1 exclusive, not " + sig);
    }
    return BaselineRule.newBuilder().setMetric(metric).setDirection(direction).setMaxAbsoluteDrop(abs).setMaxRelativeDrop(rel)
        .setSignificanceLevel(sig).build();
  }

  // --- subscriptions -------------------------------------------------------------------------

  private void subscribe(Context ctx) {
    JsonNode body = body(ctx);
    JsonNode filters = body.path("filters");
    List<String> named = new ArrayList<>();
    JsonNode kind = filters.isMissingNode() ? body.get("kind") : filters.get("kind");
    if (kind != null && kind.isArray()) {
      kind.forEach(k -> named.add(k.asText()));
    } else if (kind != null && !kind.isNull()) {
      named.add(kind.asText());
    }
    List<String> kinds = kinds(named, "filters.kind");
    JsonNode f = filters.isMissingNode() ? body : filters;
    Subscription s = new Subscription("sub-" + UUID.randomUUID(), text(body, "url"), text(body, "secret"), text(f, "run"), text(f, "model"),
        kinds, Instant.now());
    subscriptions.put(s);
    ctx.status(201).header("Location", "/api/v1/subscriptions/" + s.id()).json(subscriptions.json(s));
  }

  // --- helpers -------------------------------------------------------------------------------

  private static JsonNode body(Context ctx) {
    try {
      JsonNode n = LedgerHttpApi.JSON.readTree(ctx.body());
      if (n == null || !n.isObject()) {
        throw new IllegalArgumentException("the body must be a JSON object");
      }
      return n;
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON: " + e.getMessage());
    }
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Double number(JsonNode n, String field, String where) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isNumber()) {
      throw new IllegalArgumentException(where + "." + field + " must be a number, not " + v);
    }
    return v.asDouble();
  }
}
