package io.lineageledger.service.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.lineageledger.events.EventEnvelope;
import io.lineageledger.infra.FreePorts;
import io.lineageledger.producers.LedgerClient;
import io.lineageledger.service.LedgerNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two service instances against one broker share the projections: each answers every run
 * (forwarding to the owner of its partition), both list every run, and with one stopped the
 * other answers every run the same after the rebalance.
 */
@Timeout(300)
class TwoInstancesIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final int RUNS = 12;

  @TempDir
  Path dir;

  final HttpClient http = HttpClient.newHttpClient();

  @Test
  void bothInstancesAnswerEveryRunAndTheSurvivorAnswersAllAfterTheOtherStops() throws Exception {
    try (LedgerNode a = LedgerNode.start(new LedgerNode.Settings(dir.resolve("a"), "localhost", FreePorts.next(), FreePorts.next(), 0,
        FreePorts.next(), null, null))) {
      LedgerNode b = LedgerNode.start(new LedgerNode.Settings(dir.resolve("b"), "localhost", 0, 0, 0, FreePorts.next(),
          a.bootstrapServers(), a.schemaRegistryUrl()));
      try {
        List<Integer> eventsPerRun = new ArrayList<>();
        try (LedgerClient client = LedgerClient.builder().bootstrapServers(a.bootstrapServers()).schemaRegistryUrl(a.schemaRegistryUrl())
            .producerIdentity("two-instances-it", "it", "1").build()) {
          for (int r = 0; r < RUNS; r++) {
            List<Object[]> events = RunsApiIT.scenario("two-" + r, 30 + r);
            for (Object[] e : events) {
              EventEnvelope envelope = client.envelope((String) e[0], e[1], null, null);
              client.publish(envelope);
            }
            eventsPerRun.add(events.size());
          }
          client.flush();
        }
        // Both instances list every run, each fully projected, from both parts.
        for (LedgerNode n : List.of(a, b)) {
          await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
            JsonNode list = get(n, "/api/v1/runs").body;
            assertThat(list.get("complete").asBoolean()).as(list.toString()).isTrue();
            assertThat(list.get("instances")).hasSize(2);
            assertThat(list.get("runs")).hasSize(RUNS);
            for (JsonNode run : list.get("runs")) {
              int r = Integer.parseInt(run.get("run_id").asText().substring("two-".length()));
              assertThat(run.get("events").asInt()).as(run.toString()).isEqualTo(eventsPerRun.get(r));
            }
          });
        }
        assertThat(get(a, "/api/v1/runs").body.get("runs")).isEqualTo(get(b, "/api/v1/runs").body.get("runs"));

        Map<String, JsonNode> fromA = answers(a);
        Map<String, JsonNode> fromB = answers(b);
        assertThat(fromB).isEqualTo(fromA);
        for (int r = 0; r < RUNS; r++) {
          JsonNode report = fromA.get("/api/v1/runs/two-" + r + "/report");
          assertThat(report.get("complete").asBoolean()).isTrue();
          assertThat(report.get("reproductions")).as("run two-%d's reproductions, from both instances", r).hasSize(RUNS - 1);
          assertThat(report.get("level").get("level").asText()).isEqualTo("L1");
        }
        // Lineage needs no forwarding: each instance holds the whole graph in its global store.
        LedgerNode second = b;
        for (int r = 0; r < RUNS; r++) {
          String path = "/api/v1/lineage/run:two-" + r + "?direction=both&depth=3";
          await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() ->
              assertThat(get(a, path).body.get("nodes").size()).isGreaterThan(5));
          await().atMost(Duration.ofSeconds(60)).ignoreExceptions().untilAsserted(() -> {
            Response fromEither = get(second, path);
            assertThat(fromEither.forwarded).isFalse();
            assertThat(fromEither.body).isEqualTo(get(a, path).body);
          });
        }
        // Each instance owns some runs and forwarded the others to the one that holds them.
        int forwardedByA = 0;
        int forwardedByB = 0;
        for (int r = 0; r < RUNS; r++) {
          forwardedByA += get(a, "/api/v1/runs/two-" + r).forwarded ? 1 : 0;
          forwardedByB += get(b, "/api/v1/runs/two-" + r).forwarded ? 1 : 0;
        }
        assertThat(forwardedByA).isBetween(1, RUNS - 1);
        assertThat(forwardedByA + forwardedByB).isEqualTo(RUNS);
        // A forwarded request is never forwarded again: the receiving instance answers or says 503.
        Response loop = get(a, "/api/v1/runs/two-0", Map.of("X-Ledger-Forwarded-By", "localhost:1"));
        assertThat(loop.status).isIn(200, 503);
        assertThat(loop.forwarded).isFalse();

        // A rebuild would retire the shared application under the other instance: refused, saying why.
        HttpResponse<String> rebuild = http.send(HttpRequest.newBuilder(URI.create(a.apiUrl() + "/api/v1/rebuild"))
            .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(rebuild.statusCode()).isEqualTo(409);
        assertThat(rebuild.body()).contains("Stop them first", b.apiUrl().substring("http://".length()));

        b.close();
        b = null;
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250)).ignoreExceptions().untilAsserted(() -> {
          JsonNode list = get(a, "/api/v1/runs").body;
          assertThat(list.get("complete").asBoolean()).as(list.toString()).isTrue();
          assertThat(list.get("instances")).hasSize(1);
          assertThat(answers(a)).isEqualTo(fromA);
        });
      } finally {
        if (b != null) {
          b.close();
        }
      }
    }
  }

  record Response(int status, JsonNode body, boolean forwarded) {}

  Map<String, JsonNode> answers(LedgerNode n) throws Exception {
    Map<String, JsonNode> all = new TreeMap<>();
    for (int r = 0; r < RUNS; r++) {
      // Every scenario run has the same fingerprint, so each report gathers the other runs from both instances.
      for (String path : List.of("/api/v1/runs/two-" + r, "/api/v1/runs/two-" + r + "/metrics?name=loss&points=10",
          "/api/v1/runs/two-" + r + "/report", "/api/v1/compare?a=two-" + r + "&b=two-" + ((r + 1) % RUNS))) {
        Response resp = get(n, path);
        assertThat(resp.status).as("%s on %s: %s", path, n.apiUrl(), resp.body).isEqualTo(200);
        all.put(path, resp.body);
      }
    }
    return all;
  }

  Response get(LedgerNode n, String path) throws Exception {
    return get(n, path, Map.of());
  }

  Response get(LedgerNode n, String path, Map<String, String> headers) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(n.apiUrl() + path)).timeout(Duration.ofSeconds(30));
    headers.forEach(req::header);
    HttpResponse<String> r = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
    return new Response(r.statusCode(), JSON.readTree(r.body()), r.headers().firstValue("X-Ledger-Answered-By").isPresent());
  }
}
