package io.lineageledger.service.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import io.lineageledger.service.query.NotFoundException;
import io.lineageledger.service.query.StoreUnavailableException;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Sends a query on to the instance that can answer it. A forwarded request carries
 * {@value #HEADER} and is never forwarded again, so instances that disagree for a moment about
 * who owns what (a rebalance) answer 503 instead of passing a request around.
 *
 * <p>Thread-safe.
 */
final class Forwarder {
  static final String HEADER = "X-Ledger-Forwarded-By";
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final String self;

  Forwarder(String self) {
    this.self = self;
  }

  static boolean wasForwarded(Context ctx) {
    return ctx.header(HEADER) != null;
  }

  /** Answers {@code ctx} with what {@code owner} answers to the same request. */
  void proxy(Context ctx, String owner) {
    String query = ctx.queryString();
    HttpResponse<byte[]> r;
    try {
      String accept = ctx.header("Accept");
      r = http.send(request(owner, ctx.path() + (query == null ? "" : "?" + query), accept), HttpResponse.BodyHandlers.ofByteArray());
    } catch (IOException e) {
      throw new StoreUnavailableException("instance " + owner + ", which holds this key, did not answer (" + e.getMessage()
          + "); its partitions move to another instance after the rebalance", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StoreUnavailableException("interrupted while asking " + owner, e);
    }
    r.headers().firstValue("Retry-After").ifPresent(v -> ctx.header("Retry-After", v));
    ctx.status(r.statusCode()).contentType(r.headers().firstValue("Content-Type").orElse("application/json"))
        .header("X-Ledger-Answered-By", owner).result(r.body());
  }

  /** GET {@code path} from another instance, as a forwarded request accepting {@code accept}; the body's bytes. */
  CompletableFuture<byte[]> getBytes(String instance, String path, String accept) {
    return http.sendAsync(request(instance, path, accept), HttpResponse.BodyHandlers.ofByteArray()).thenApply(r -> {
      String body = new String(r.body(), java.nio.charset.StandardCharsets.UTF_8);
      if (r.statusCode() == 404) {
        throw new NotFoundException(message(body));
      }
      if (r.statusCode() != 200) {
        throw new IllegalStateException(instance + " answered " + r.statusCode() + ": " + body);
      }
      return r.body();
    });
  }

  /** GET {@code path} from another instance, as a forwarded request; the body as JSON. */
  CompletableFuture<JsonNode> get(String instance, String path) {
    return http.sendAsync(request(instance, path, null), HttpResponse.BodyHandlers.ofString()).thenApply(r -> {
      if (r.statusCode() != 200) {
        throw new IllegalStateException(instance + " answered " + r.statusCode() + ": " + r.body());
      }
      try {
        return LedgerHttpApi.JSON.readTree(r.body());
      } catch (IOException e) {
        throw new IllegalStateException(instance + " answered with a body that is not JSON", e);
      }
    });
  }

  /** The {@code message} of an API error body, or the body itself. */
  private static String message(String body) {
    try {
      return LedgerHttpApi.JSON.readTree(body).path("message").asText(body);
    } catch (IOException e) {
      return body;
    }
  }

  private HttpRequest request(String instance, String pathAndQuery, String accept) {
    HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://" + instance + pathAndQuery)).timeout(Duration.ofSeconds(30))
        .header(HEADER, self == null ? "unknown" : self);
    if (accept != null) {
      b.header("Accept", accept);
    }
    return b.GET().build();
  }
}
