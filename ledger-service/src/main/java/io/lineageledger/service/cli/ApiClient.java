package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/**
 * The CLI's way to the ledger API: GETs a path and returns its JSON, waiting out 503 answers
 * (projections starting or rebalancing) for up to 60 s as their Retry-After asks. Any other
 * error becomes a {@link CliException} with the API's own message.
 */
final class ApiClient {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final String baseUrl;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  ApiClient(String baseUrl) {
    this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
  }

  JsonNode get(String path) {
    return send(path, HttpRequest.BodyPublishers.noBody(), "GET");
  }

  /** GET {@code path} and return its body as text (a Markdown or HTML report); errors as {@link #get}. */
  String getText(String path) {
    return exchange(path, HttpRequest.BodyPublishers.noBody(), "GET").body();
  }

  JsonNode post(String path) {
    return send(path, HttpRequest.BodyPublishers.noBody(), "POST");
  }

  /** POST {@code json} to {@code path}; the answer's JSON. */
  JsonNode postJson(String path, String json) {
    return send(path, HttpRequest.BodyPublishers.ofString(json), "POST", "application/json");
  }

  String baseUrl() {
    return baseUrl;
  }

  private JsonNode send(String path, HttpRequest.BodyPublisher body, String method) {
    return send(path, body, method, null);
  }

  private JsonNode send(String path, HttpRequest.BodyPublisher body, String method, String contentType) {
    HttpResponse<String> r = exchange(path, body, method, contentType);
    try {
      return JSON.readTree(r.body());
    } catch (IOException e) {
      throw new CliException(baseUrl + path + " answered " + r.statusCode() + " with a body that is not JSON");
    }
  }

  private HttpResponse<String> exchange(String path, HttpRequest.BodyPublisher body, String method) {
    return exchange(path, body, method, null);
  }

  private HttpResponse<String> exchange(String path, HttpRequest.BodyPublisher body, String method, String contentType) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    while (true) {
      HttpResponse<String> r;
      try {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(baseUrl + path)).timeout(Duration.ofSeconds(120)).method(method, body);
        if (contentType != null) {
          b.header("Content-Type", contentType);
        }
        r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      } catch (ConnectException e) {
        throw new CliException("cannot reach the ledger API at " + baseUrl + " (is `ledger up` running? --api-url or LEDGER_API_URL points elsewhere)");
      } catch (IOException e) {
        throw new CliException("the ledger API at " + baseUrl + " failed: " + e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CliException("interrupted");
      }
      if (r.statusCode() == 503 && System.nanoTime() < deadline) {
        sleep(r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L));
        continue;
      }
      if (r.statusCode() / 100 != 2) {
        String message;
        try {
          message = JSON.readTree(r.body()).path("message").asText(r.body());
        } catch (IOException e) {
          message = baseUrl + path + " answered " + r.statusCode() + ": " + r.body();
        }
        throw new CliException(message);
      }
      return r;
    }
  }

  private static void sleep(long seconds) {
    try {
      Thread.sleep(Math.max(1, Math.min(seconds, 5)) * 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static String pretty(JsonNode node) {
    try {
      return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    } catch (IOException e) {
      return node.toString();
    }
  }
}
