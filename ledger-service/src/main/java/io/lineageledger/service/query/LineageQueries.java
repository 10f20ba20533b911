package io.lineageledger.service.query;

import io.lineageledger.projections.lineage.LineageEdge;
import io.lineageledger.projections.lineage.LineageGraph;
import io.lineageledger.projections.lineage.LineageProjection;
import io.lineageledger.projections.lineage.NodeId;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lineage walks over the global edges store, which every instance holds whole: any instance
 * answers any node, with no forwarding.
 *
 * <p>Thread-safe.
 */
public final class LineageQueries {
  public static final int MAX_DEPTH = 100;
  public static final int MAX_NODES = 10_000;
  private final Projections projections;

  public LineageQueries(Projections projections) {
    this.projections = projections;
  }

  public LineageGraph.Result walk(String node, LineageGraph.Direction direction, int depth) {
    String id = NodeId.parse(node);
    if (depth < 0 || depth > MAX_DEPTH) {
      throw new IllegalArgumentException("depth must be between 0 and " + MAX_DEPTH + ", got " + depth);
    }
    LineageGraph.EdgeSource edges = LineageProjection.edges(projections.current().store(LineageProjection.STORE));
    if (edges.upstreamOf(id).isEmpty() && edges.downstreamOf(id).isEmpty()) {
      throw new NotFoundException("no lineage of '" + id + "': no event names it");
    }
    return LineageGraph.traverse(edges, id, direction, depth, MAX_NODES);
  }

  public static Map<String, Object> json(LineageGraph.Result r) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("start", r.start());
    m.put("direction", r.direction().name().toLowerCase());
    m.put("depth", r.maxDepth());
    m.put("truncated", r.truncated());
    m.put("nodes", r.nodes().stream().map(n -> {
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("id", n.id());
      node.put("kind", n.kind());
      node.put("depth", n.depth());
      return node;
    }).toList());
    List<Map<String, Object>> edges = r.edges().stream().map(LineageQueries::edge).toList();
    m.put("edges", edges);
    return m;
  }

  private static Map<String, Object> edge(LineageEdge e) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("from", e.from());
    m.put("kind", e.kind().name());
    m.put("to", e.to());
    m.put("event_id", e.eventId());
    m.put("at", e.at().toString());
    return m;
  }
}
