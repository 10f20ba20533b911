package io.lineageledger.service.alerts;

import io.lineageledger.events.Alert;
import java.net.URI;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A webhook: where alerts matching its filters are POSTed, and the secret their signatures are
 * made with. Only alerts raised from {@code createdAt} on are delivered.
 */
public record Subscription(String id, String url, String secret, String run, String model, List<String> kinds, Instant createdAt) {
  public Subscription {
    if (url == null || url.isBlank()) {
      throw new IllegalArgumentException("'url' is required: where to POST alerts, an http:// or https:// URL");
    }
    URI uri;
    try {
      uri = URI.create(url);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("'url' is not a URL: " + url);
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme())) || uri.getHost() == null) {
      throw new IllegalArgumentException("'url' must be an http:// or https:// URL with a host, not '" + url + "'");
    }
    if (secret == null || secret.length() < 16) {
      throw new IllegalArgumentException("'secret' is required and must have at least 16 characters: deliveries are signed with it");
    }
    kinds = kinds == null ? List.of() : List.copyOf(kinds);
  }

  public AlertLog.Filter filter() {
    return new AlertLog.Filter(run, model, Set.copyOf(kinds), null);
  }

  /** Whether {@code a} is delivered to this subscription. */
  public boolean wants(Alert a) {
    return filter().matches(a) && !a.getRaisedAt().isBefore(createdAt);
  }

  /** As the API shows it: everything but the secret. */
  public Map<String, Object> json() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", id);
    m.put("url", url);
    Map<String, Object> filters = new LinkedHashMap<>();
    filters.put("run", run);
    filters.put("model", model);
    filters.put("kind", kinds);
    m.put("filters", filters);
    m.put("created_at", createdAt.toString());
    return m;
  }
}
