package io.lineageledger.service.api;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.projections.lineage.LineageGraph;
import io.lineageledger.service.query.LineageQueries;

/** {@code GET /api/v1/lineage/{node}?direction=upstream|downstream|both&depth=N}: the graph around a node. */
public final class LineageResource implements LedgerHttpApi.Resource {
  private final LineageQueries lineage;

  public LineageResource(LineageQueries lineage) {
    this.lineage = lineage;
  }

  @Override
  public void routes(Javalin app) {
    // <node> takes slashes: model:NAME/VERSION.
    app.get("/api/v1/lineage/<node>", this::walk);
  }

  private void walk(Context ctx) {
    String direction = ctx.queryParam("direction") == null ? "upstream" : ctx.queryParam("direction");
    LineageGraph.Direction d = switch (direction) {
      case "upstream" -> LineageGraph.Direction.UPSTREAM;
      case "downstream" -> LineageGraph.Direction.DOWNSTREAM;
      case "both" -> LineageGraph.Direction.BOTH;
      default -> throw new IllegalArgumentException("?direction= must be upstream, downstream or both, got '" + direction + "'");
    };
    String depthParam = ctx.queryParam("depth") == null ? "20" : ctx.queryParam("depth");
    int depth;
    try {
      depth = Integer.parseInt(depthParam);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("?depth= must be a number, got '" + depthParam + "'");
    }
    ctx.json(LineageQueries.json(lineage.walk(ctx.pathParam("node"), d, depth)));
  }
}
