package io.lineageledger.service.api;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.producers.ndjson.NdjsonProtocol;
import io.lineageledger.service.query.RunHistory;
import io.lineageledger.service.query.RunStateJson;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.avro.specific.SpecificRecord;

/**
 * {@code GET /api/v1/events?subject=S[&limit=N]}: a subject's events as the log holds them, in
 * order, as JSON (the payload under its protocol type name); read from the log, so any instance
 * answers, and duplicates that the projections skip are shown as they were written.
 */
public final class EventHistoryResource implements LedgerHttpApi.Resource {
  public static final int DEFAULT_LIMIT = 10_000;
  public static final int MAX_LIMIT = 100_000;
  private final RunHistory history;

  public EventHistoryResource(RunHistory history) {
    this.history = history;
  }

  @Override
  public void routes(Javalin app) {
    app.get("/api/v1/events", this::events);
  }

  private void events(Context ctx) {
    String subject = ctx.queryParam("subject");
    if (subject == null || subject.isBlank()) {
      throw new IllegalArgumentException("?subject= is required, for example ?subject=run:R or ?subject=dataset:corpus");
    }
    String limitParam = ctx.queryParam("limit");
    int limit = DEFAULT_LIMIT;
    if (limitParam != null) {
      try {
        limit = Integer.parseInt(limitParam);
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > MAX_LIMIT) {
        throw new IllegalArgumentException("?limit= must be 1 to " + MAX_LIMIT + ", got '" + limitParam + "'");
      }
    }
    List<EventEnvelope> events = history.events(subject);
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("subject", subject);
    body.put("count", Math.min(limit, events.size()));
    body.put("truncated", events.size() > limit);
    body.put("events", events.stream().limit(limit).map(EventHistoryResource::json).toList());
    ctx.json(body);
  }

  static Map<String, Object> json(EventEnvelope e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("event_id", e.getEventId());
    m.put("occurred_at", e.getOccurredAt().toString());
    m.put("subject", e.getSubject());
    m.put("producer", RunStateJson.avro(e.getProducer()));
    Object payload = e.getPayload();
    String type = payload.getClass().getSimpleName();
    if (payload instanceof SpecificRecord r) {
      for (NdjsonProtocol.EventType t : NdjsonProtocol.EventType.values()) {
        if (t.schema().getFullName().equals(r.getSchema().getFullName())) {
          type = t.wireName();
        }
      }
    }
    m.put("type", type);
    m.put("payload", RunStateJson.avro(payload));
    return m;
  }
}
