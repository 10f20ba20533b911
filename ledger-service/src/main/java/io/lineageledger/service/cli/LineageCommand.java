package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger lineage NODE}: what a node came from, or what came from it. */
@Command(name = "lineage", mixinStandardHelpOptions = true,
    description = {"Walk the lineage graph from a node, e.g. model:charlm/3, run:R, dataset:corpus@v1, checkpoint:sha256:…",
        "Upstream: what it came from. Downstream: what came from it (impact)."})
public final class LineageCommand implements Callable<Integer> {
  /** Formats of {@code ledger lineage --output}: the graph formats besides table and json. */
  public enum Format { table, json, dot, mermaid }

  @Spec
  CommandSpec spec;

  @Mixin
  ApiOptions api = new ApiOptions();

  @Parameters(index = "0", paramLabel = "NODE", description = "A node id, KIND:ID (kinds: run, config, code, dataset, transform, checkpoint, model, eval, env).")
  String node;

  @ArgGroup(exclusive = true)
  Way way;

  static final class Way {
    @Option(names = "--upstream", description = "What the node came from (default).")
    boolean upstream;

    @Option(names = "--downstream", description = "What came from the node: runs, checkpoints and models it fed.")
    boolean downstream;

    @Option(names = "--both", description = "Both ways.")
    boolean both;
  }

  @Option(names = "--depth", defaultValue = "20", paramLabel = "N", description = "How many edges away to go (default: ${DEFAULT-VALUE}, at most 100).")
  int depth;

  @Option(names = "--output", defaultValue = "table", description = "table, json, dot or mermaid (default: ${DEFAULT-VALUE}).")
  Format output;

  @Override
  public Integer call() {
    String direction = way == null || way.upstream ? "upstream" : way.downstream ? "downstream" : "both";
    JsonNode g = api.client().get("/api/v1/lineage/" + URLEncoder.encode(node, StandardCharsets.UTF_8).replace("%2F", "/").replace("+", "%20")
        + "?direction=" + direction + "&depth=" + depth);
    PrintWriter out = spec.commandLine().getOut();
    switch (output) {
      case json -> out.println(ApiClient.pretty(g));
      case dot -> dot(g, out);
      case mermaid -> mermaid(g, out);
      case table -> table(g, out);
    }
    out.flush();
    return 0;
  }

  private static void table(JsonNode g, PrintWriter out) {
    boolean up = !"downstream".equals(g.path("direction").asText());
    // For each node, the edge by which the walk first reached it.
    Map<String, JsonNode> via = new HashMap<>();
    Map<String, Integer> depthOf = new HashMap<>();
    for (JsonNode n : g.path("nodes")) {
      depthOf.put(n.path("id").asText(), n.path("depth").asInt());
    }
    for (JsonNode e : g.path("edges")) {
      String from = e.path("from").asText();
      String to = e.path("to").asText();
      Integer df = depthOf.get(from);
      Integer dt = depthOf.get(to);
      if (df == null || dt == null || df.equals(dt)) {
        continue;
      }
      String reached = df > dt ? from : to;
      via.putIfAbsent(reached, e);
    }
    Table t = new Table("DEPTH", "KIND", "NODE", "VIA");
    for (JsonNode n : g.path("nodes")) {
      String id = n.path("id").asText();
      JsonNode e = via.get(id);
      String how = e == null ? null
          : e.path("from").asText().equals(id) ? e.path("kind").asText() + " " + e.path("to").asText()
          : e.path("from").asText() + " " + e.path("kind").asText();
      t.row(n.path("depth").asInt(), n.path("kind").asText(), id, how);
    }
    t.print(out);
    if (g.path("truncated").asBoolean()) {
      out.println("(truncated at depth " + g.path("depth").asInt() + " or " + g.path("nodes").size() + " nodes; raise --depth to see more)");
    }
    if (!up && g.path("nodes").size() == 1) {
      out.println("(nothing was derived from " + g.path("start").asText() + ")");
    }
  }

  private static void dot(JsonNode g, PrintWriter out) {
    out.println("digraph lineage {");
    out.println("  rankdir=BT;");
    out.println("  node [shape=box];");
    for (JsonNode n : g.path("nodes")) {
      String id = n.path("id").asText();
      out.println("  " + quote(id) + " [label=" + quote(id) + (id.equals(g.path("start").asText()) ? ", style=bold" : "") + "];");
    }
    for (JsonNode e : g.path("edges")) {
      out.println("  " + quote(e.path("from").asText()) + " -> " + quote(e.path("to").asText()) + " [label=" + quote(e.path("kind").asText()) + "];");
    }
    out.println("}");
  }

  private static void mermaid(JsonNode g, PrintWriter out) {
    out.println("graph BT");
    Map<String, String> ids = new HashMap<>();
    for (JsonNode n : g.path("nodes")) {
      String id = n.path("id").asText();
      String key = "n" + ids.size();
      ids.put(id, key);
      out.println("  " + key + "[\"" + id.replace("\"", "#quot;") + "\"]");
    }
    for (JsonNode e : g.path("edges")) {
      out.println("  " + ids.get(e.path("from").asText()) + " -->|" + e.path("kind").asText() + "| " + ids.get(e.path("to").asText()));
    }
  }

  private static String quote(String s) {
    return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
  }
}
