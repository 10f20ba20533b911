package io.lineageledger.service.api;

import io.javalin.Javalin;
import io.javalin.http.Context;
import io.lineageledger.service.query.NotFoundException;
import io.lineageledger.service.query.Projections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code /api/v1/rebuild}: {@code POST} starts rebuilding every projection from offset 0 under
 * a new application id (202, or the running rebuild's status if one is under way); {@code GET}
 * says how far it got. Queries keep being answered while it runs, and switch to the rebuilt
 * stores when it is done.
 */
public final class RebuildResource implements LedgerHttpApi.Resource {
  private final Projections projections;

  public RebuildResource(Projections projections) {
    this.projections = projections;
  }

  @Override
  public void routes(Javalin app) {
    app.post("/api/v1/rebuild", ctx -> ctx.status(202).json(json(projections.rebuild())));
    app.get("/api/v1/rebuild", this::status);
  }

  private void status(Context ctx) {
    Projections.RebuildStatus s = projections.rebuildStatus();
    if (s == null) {
      throw new NotFoundException("no rebuild has run since this instance started; serving from "
          + projections.current().applicationId());
    }
    ctx.json(json(s));
  }

  static Map<String, Object> json(Projections.RebuildStatus s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("state", s.state());
    m.put("application_id", s.applicationId());
    m.put("replacing", s.replacing());
    m.put("consumed", s.consumed());
    m.put("total", s.total());
    m.put("fraction", s.fraction());
    m.put("started_at", s.startedAt().toString());
    m.put("finished_at", s.finishedAt() == null ? null : s.finishedAt().toString());
    m.put("error", s.error());
    return m;
  }
}
