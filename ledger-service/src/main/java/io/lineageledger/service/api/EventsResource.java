package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.producers.Receipt;
import io.lineageledger.producers.ndjson.InvalidLineException;
import io.lineageledger.producers.ndjson.NdjsonProtocol;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code POST /api/v1/events}: events as the NDJSON protocol writes them, in a JSON array or as
 * NDJSON (one per line), for producers that speak HTTP. Every item is answered on its own: a
 * bad item is reported with its index and reason and never holds back the valid ones, which are
 * published in the order given. 200 when all were published, 207 when some were not, 400 when
 * none was valid.
 */
public final class EventsResource implements LedgerHttpApi.Resource {
  public static final int MAX_ITEMS = 10_000;
  private final LedgerClient client;

  public EventsResource(LedgerClient client) {
    this.client = client;
  }

  @Override
  public void routes(Javalin app) {
    app.post("/api/v1/events", this::ingest);
  }

  private void ingest(Context ctx) throws InterruptedException {
    List<String> items = items(ctx.body());
    if (items.isEmpty()) {
      throw new IllegalArgumentException("the body holds no events: send a JSON array of events or NDJSON, one event per line");
    }
    if (items.size() > MAX_ITEMS) {
      throw new IllegalArgumentException("the body holds " + items.size() + " events; send at most " + MAX_ITEMS + " per request");
    }
    NdjsonProtocol protocol = new NdjsonProtocol();
    List<Map<String, Object>> results = new ArrayList<>(items.size());
    List<CompletableFuture<Receipt>> sends = new ArrayList<>(items.size());
    for (int i = 0; i < items.size(); i++) {
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("index", i);
      results.add(r);
      try {
        NdjsonProtocol.ParsedEvent e = protocol.parse(items.get(i));
        EventEnvelope envelope = client.envelope(e.subject(), e.payload(), e.eventId(), e.occurredAt());
        r.put("event_id", envelope.getEventId());
        sends.add(client.publish(envelope));
      } catch (InvalidLineException e) {
        r.put("status", "rejected");
        r.put("error", e.getMessage());
        sends.add(null);
      }
    }
    client.flush();
    int published = 0;
    for (int i = 0; i < items.size(); i++) {
      CompletableFuture<Receipt> send = sends.get(i);
      if (send == null) {
        continue;
      }
      Map<String, Object> r = results.get(i);
      try {
        Receipt receipt = send.get(60, TimeUnit.SECONDS);
        r.put("status", "published");
        r.put("partition", receipt.partition());
        r.put("offset", receipt.offset());
        published++;
      } catch (ExecutionException | TimeoutException e) {
        r.put("status", "failed");
        r.put("error", "valid, but not published: " + (e.getCause() == null ? e : e.getCause()).getMessage());
      }
    }
    Map<String, Object> body = new LinkedHashMap<>();
    body.put("published", published);
    body.put("rejected", items.size() - published);
    body.put("items", results);
    ctx.status(published == items.size() ? 200 : published == 0 ? 400 : 207).json(body);
  }

  /** The events of a body: the elements of a JSON array, or the non-blank lines of NDJSON. */
  static List<String> items(String body) {
    String text = body == null ? "" : body.strip();
    List<String> items = new ArrayList<>();
    if (text.startsWith("[")) {
      JsonNode array;
      try {
        array = LedgerHttpApi.JSON.readTree(text);
      } catch (IOException e) {
        throw new IllegalArgumentException("the body starts with '[' but is not a JSON array: " + e.getMessage());
      }
      array.forEach(n -> items.add(n.toString()));
      return items;
    }
    for (String line : text.split("\r?\n")) {
      if (!line.isBlank()) {
        items.add(line);
      }
    }
    return items;
  }
}
