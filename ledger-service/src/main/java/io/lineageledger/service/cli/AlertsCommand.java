package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code ledger alerts}: the alerts raised so far, and with {@code --follow} each new one as it
 * is raised (server-sent events, reconnecting with the last event id so that none is missed).
 */
@Command(name = "alerts", mixinStandardHelpOptions = true, description = "List regression and health alerts; --follow streams new ones.")
public final class AlertsCommand implements Callable<Integer> {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final int PAGE = 1000;

  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Option(names = "--follow", description = "After the alerts so far, print each new one as it is raised, until Ctrl-C.")
  boolean follow;

  @Option(names = "--run", description = "Only alerts about this run.")
  String run;

  @Option(names = "--model", description = "Only alerts about this model.")
  String model;

  @Option(names = "--kind", split = ",", description = "Only these kinds, for example METRIC_REGRESSION,NON_FINITE_LOSS.")
  List<String> kinds = new ArrayList<>();

  @Option(names = "--since", description = "Only alerts raised at or after this ISO-8601 UTC time.")
  String since;

  @Option(names = "--output", defaultValue = "table", description = "table or json; json prints one alert per line with --follow (default: ${DEFAULT-VALUE}).")
  OutputFormat output;

  @Override
  public Integer call() throws InterruptedException {
    PrintWriter out = spec.commandLine().getOut();
    String filters = query();
    // Every page, each going on from the cursor of the one before.
    List<JsonNode> alerts = new ArrayList<>();
    String cursor = "";
    while (true) {
      String q = filters + (filters.isEmpty() ? "" : "&") + "limit=" + PAGE + (cursor.isEmpty() ? "" : "&after=" + cursor);
      JsonNode page = api.client().get("/api/v1/alerts?" + q);
      page.path("alerts").forEach(alerts::add);
      cursor = page.path("cursor").asText();
      if (page.path("alerts").size() < PAGE) {
        break;
      }
    }
    if (output == OutputFormat.json && !follow) {
      out.println(ApiClient.pretty(JSON.createObjectNode().<com.fasterxml.jackson.databind.node.ObjectNode>set("alerts",
          JSON.valueToTree(alerts)).put("cursor", cursor)));
      out.flush();
      return 0;
    }
    if (output == OutputFormat.table) {
      Table t = new Table("RAISED AT", "KIND", "SEVERITY", "SUBJECT", "MESSAGE");
      alerts.forEach(a -> t.row(a.path("raised_at").asText(), a.path("kind").asText(), a.path("severity").asText(),
          a.path("subject").asText(), a.path("message").asText()));
      t.print(out);
    } else {
      alerts.forEach(a -> out.println(a.toString()));
    }
    out.flush();
    if (follow) {
      follow(out, cursor, filters);
    }
    return 0;
  }

  private String query() {
    List<String> q = new ArrayList<>();
    add(q, "run", run);
    add(q, "model", model);
    add(q, "since", since);
    if (!kinds.isEmpty()) {
      add(q, "kind", String.join(",", kinds));
    }
    return String.join("&", q);
  }

  private static void add(List<String> q, String name, String value) {
    if (value != null && !value.isBlank()) {
      q.add(name + "=" + URLEncoder.encode(value, StandardCharsets.UTF_8));
    }
  }

  /** Streams alerts from {@code cursor} on, reconnecting with the last event id after a dropped connection. */
  private void follow(PrintWriter out, String cursor, String filters) throws InterruptedException {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    String last = cursor;
    PrintWriter err = spec.commandLine().getErr();
    while (!Thread.currentThread().isInterrupted()) {
      HttpRequest request = HttpRequest.newBuilder(URI.create(api.client().baseUrl() + "/api/v1/alerts/stream" + (filters.isEmpty() ? "" : "?" + filters)))
          .header("Accept", "text/event-stream").header("Last-Event-ID", last).GET().build();
      try {
        HttpResponse<Stream<String>> r = http.send(request, HttpResponse.BodyHandlers.ofLines());
        if (r.statusCode() != 200) {
          String message = String.join("\n", r.body().toList());
          throw new CliException("the alert stream answered " + r.statusCode() + ": " + message);
        }
        String id = null;
        String event = "message";
        StringBuilder data = new StringBuilder();
        Iterator<String> lines = r.body().iterator();
        while (lines.hasNext()) {
          String line = lines.next();
          if (line.startsWith("id:")) {
            id = line.substring(3).trim();
          } else if (line.startsWith("event:")) {
            event = line.substring(6).trim();
          } else if (line.startsWith("data:")) {
            data.append(line.substring(5).trim());
          } else if (line.isEmpty()) {
            if (event.equals("alert") && data.length() > 0) {
              print(out, JSON.readTree(data.toString()));
            }
            if (id != null) {
              last = id;
            }
            data.setLength(0);
            event = "message";
          }
        }
      } catch (IOException e) {
        err.println("alert stream interrupted (" + e.getMessage() + "); reconnecting from " + last);
        err.flush();
      }
      Thread.sleep(1000);
    }
    return;
  }

  private void print(PrintWriter out, JsonNode a) {
    if (output == OutputFormat.json) {
      out.println(a.toString());
    } else {
      out.printf("%s  %-24s %-8s %s%n    %s%n", a.path("raised_at").asText(), a.path("kind").asText(), a.path("severity").asText(),
          a.path("subject").asText(), a.path("message").asText());
    }
    out.flush();
  }
}
