package io.lineageledger.projections.lineage;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Walks the lineage graph from a node: breadth first, each node once (so cycles end), up to a
 * depth and a node count. Answers are deterministic: nodes in the order they were reached, ties
 * by id; edges de-duplicated by relation and sorted.
 */
public final class LineageGraph {
  /** Which way to walk: toward what a node came from, toward what came from it, or both. */
  public enum Direction { UPSTREAM, DOWNSTREAM, BOTH }

  /** Where edges come from: a store, or {@link InMemoryEdges}. */
  public interface EdgeSource {
    /** Edges whose {@code from} is {@code node}: what it came from. */
    List<LineageEdge> upstreamOf(String node);

    /** Edges whose {@code to} is {@code node}: what came from it. */
    List<LineageEdge> downstreamOf(String node);
  }

  /** A node reached, with its distance from the start. */
  public record Node(String id, String kind, int depth) {}

  /** What a walk reached; {@code truncated} when the depth or node limit left something out. */
  public record Result(String start, Direction direction, int maxDepth, List<Node> nodes, List<LineageEdge> edges, boolean truncated) {}

  private LineageGraph() {}

  public static Result traverse(EdgeSource source, String start, Direction direction, int maxDepth, int maxNodes) {
    if (maxDepth < 0 || maxNodes < 1) {
      throw new IllegalArgumentException("depth must be 0 or more and the node limit at least 1");
    }
    Map<String, Node> nodes = new LinkedHashMap<>();
    Map<String, LineageEdge> edges = new HashMap<>(); // by relation, computed once per edge seen
    nodes.put(start, new Node(start, NodeId.kind(start), 0));
    Deque<String> frontier = new ArrayDeque<>(List.of(start));
    boolean truncated = false;
    List<Map.Entry<String, LineageEdge>> around = new ArrayList<>();
    for (int depth = 1; !frontier.isEmpty(); depth++) {
      List<String> next = new ArrayList<>();
      for (String node : frontier) {
        around.clear();
        if (direction != Direction.DOWNSTREAM) {
          for (LineageEdge e : source.upstreamOf(node)) {
            around.add(Map.entry(e.relation(), e));
          }
        }
        if (direction != Direction.UPSTREAM) {
          for (LineageEdge e : source.downstreamOf(node)) {
            around.add(Map.entry(e.relation(), e));
          }
        }
        if (around.size() > 1) {
          around.sort(Map.Entry.comparingByKey());
        }
        for (Map.Entry<String, LineageEdge> entry : around) {
          LineageEdge e = entry.getValue();
          String other = e.from().equals(node) ? e.to() : e.from();
          if (depth > maxDepth) {
            truncated |= !nodes.containsKey(other);
            continue;
          }
          if (!nodes.containsKey(other)) {
            if (nodes.size() >= maxNodes) {
              truncated = true;
              continue;
            }
            nodes.put(other, new Node(other, NodeId.kind(other), depth));
            next.add(other);
          }
          edges.merge(entry.getKey(), e, LineageEdge::first);
        }
      }
      if (depth > maxDepth) {
        break;
      }
      next.sort(null);
      frontier = new ArrayDeque<>(next);
    }
    List<LineageEdge> byRelation = List.copyOf(new TreeMap<>(edges).values());
    return new Result(start, direction, maxDepth, List.copyOf(nodes.values()), byRelation, truncated);
  }
}
