package io.lineageledger.projections.lineage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Edges held in memory, indexed both ways, each relation once (its first statement, see
 * {@link LineageEdge#first}); for replays and tests. Not thread-safe.
 */
public final class InMemoryEdges implements LineageGraph.EdgeSource {
  private final Map<String, Map<String, LineageEdge>> byFrom = new HashMap<>();
  private final Map<String, Map<String, LineageEdge>> byTo = new HashMap<>();

  public InMemoryEdges add(LineageEdge e) {
    byFrom.computeIfAbsent(e.from(), k -> new LinkedHashMap<>()).merge(e.relation(), e, LineageEdge::first);
    byTo.computeIfAbsent(e.to(), k -> new LinkedHashMap<>()).merge(e.relation(), e, LineageEdge::first);
    return this;
  }

  public InMemoryEdges addAll(List<LineageEdge> edges) {
    edges.forEach(this::add);
    return this;
  }

  @Override
  public List<LineageEdge> upstreamOf(String node) {
    return new ArrayList<>(byFrom.getOrDefault(node, Map.of()).values());
  }

  @Override
  public List<LineageEdge> downstreamOf(String node) {
    return new ArrayList<>(byTo.getOrDefault(node, Map.of()).values());
  }
}
