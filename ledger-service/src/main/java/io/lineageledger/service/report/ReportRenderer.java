package io.lineageledger.service.report;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Markdown and HTML of a reproducibility report or a comparison, from their JSON (what
 * {@code GET /api/v1/runs/{id}/report} and {@code GET /api/v1/compare} answer), so the server and
 * the CLI render the same thing. The HTML is one self-contained page: inline CSS and SVG, no
 * script, nothing fetched; every string that came from a producer is escaped. Loss curves are
 * given as {run id: [[step, loss], ...]}.
 */
public final class ReportRenderer {
  private ReportRenderer() {}

  // ---------------------------------------------------------------- report

  public static String reportMarkdown(JsonNode r) {
    Md md = new Md();
    JsonNode id = r.get("identity");
    md.line("# Reproducibility report: run " + id.path("run_id").asText());
    md.line("");
    md.line("- Experiment: " + text(id, "experiment") + "; status " + text(id, "status"));
    md.line("- Fingerprint: `" + text(id, "fingerprint") + "`");
    md.line("- Code: " + text(id, "repo") + " @ `" + text(id, "commit") + "`" + (id.path("dirty").asBoolean()
        ? " (dirty, diff `" + text(id, "diff_digest") + "`)" : " (clean)"));
    md.line("- Config digest: `" + text(id, "config_digest") + "`");
    for (JsonNode d : id.path("datasets")) {
      md.line("- Data (" + d.path("role").asText() + "): " + d.path("name").asText() + "@" + d.path("version").asText() + " `"
          + d.path("digest").asText() + "`");
    }
    md.line("- Seeds: " + id.path("seeds") + "; determinism flags: " + id.path("determinism_flags"));
    md.line("- Host " + text(id, "host") + ", " + text(id, "os") + "; hardware " + id.path("hardware") + "; runtimes " + id.path("runtimes"));
    md.line("");
    md.line("## Checklist" + (r.path("checklist_passed").asBoolean() ? " (all pass)" : ""));
    md.line("");
    md.line("| item | result | detail | evidence |");
    md.line("| --- | --- | --- | --- |");
    for (JsonNode c : r.path("checklist")) {
      md.line("| " + cell(c.path("title").asText()) + " | " + (c.path("passed").asBoolean() ? "pass" : "**FAIL**") + " | "
          + cell(c.path("detail").asText()) + " | " + cell(join(c.path("evidence"))) + " |");
    }
    md.line("");
    JsonNode level = r.path("level");
    md.line("## Level reached: " + level.path("level").asText());
    md.line("");
    md.line(level.path("explanation").asText());
    md.line("");
    md.line("## Reproductions");
    md.line("");
    if (r.path("reproductions").isEmpty()) {
      md.line("None: no other run shares this run's fingerprint or declares a reproduction relation with it.");
    }
    for (JsonNode rep : r.path("reproductions")) {
      md.line("### " + rep.path("run_id").asText() + ": " + rep.path("verdict").asText()
          + (rep.path("level").isNull() ? "" : " at " + rep.path("level").asText()));
      md.line("");
      md.line("- Relation: " + rep.path("relation").asText() + (rep.path("same_fingerprint").asBoolean() ? ", same fingerprint"
          : ", fingerprint differs in " + join(rep.path("fingerprint_differences"))));
      md.line("- " + rep.path("explanation").asText());
      md.line("- Environment differences: " + (rep.path("environment_differences").isEmpty() ? "none" : join(rep.path("environment_differences"))));
      for (JsonNode c : rep.path("checkpoints")) {
        md.line("- Checkpoint at step " + c.path("step").asText() + ": " + (c.path("equal").asBoolean() ? "equal" : "differs") + " (`"
            + c.path("digest").asText() + "` / `" + c.path("other_digest").asText() + "`)");
      }
      md.line("");
      metricsTable(md, rep.path("metrics"), "this run", rep.path("run_id").asText());
    }
    JsonNode repro = r.path("reproduce");
    md.line("## How to reproduce");
    md.line("");
    md.line("```sh");
    repro.path("commands").forEach(c -> md.line(c.asText()));
    md.line("```");
    md.line("");
    repro.path("notes").forEach(n -> md.line("- " + n.asText()));
    md.line("");
    md.line("Config:");
    md.line("");
    md.line("```");
    repro.path("config").fields().forEachRemaining(e -> md.line(e.getKey() + " = " + e.getValue().asText()));
    md.line("```");
    missing(md, r);
    return md.toString();
  }

  public static String reportHtml(JsonNode r, Map<String, List<double[]>> lossCurves) {
    Html h = new Html("Reproducibility report: run " + r.path("identity").path("run_id").asText());
    JsonNode id = r.get("identity");
    h.raw("<table class=kv>");
    h.kv("Experiment", text(id, "experiment"));
    h.kv("Status", text(id, "status"));
    h.kv("Fingerprint", text(id, "fingerprint"));
    h.kv("Code", text(id, "repo") + " @ " + text(id, "commit") + (id.path("dirty").asBoolean() ? " (dirty, diff " + text(id, "diff_digest") + ")" : " (clean)"));
    h.kv("Config digest", text(id, "config_digest"));
    for (JsonNode d : id.path("datasets")) {
      h.kv("Data (" + d.path("role").asText() + ")", d.path("name").asText() + "@" + d.path("version").asText() + " " + d.path("digest").asText());
    }
    h.kv("Seeds", id.path("seeds").toString());
    h.kv("Determinism flags", id.path("determinism_flags").toString());
    h.kv("Host", text(id, "host") + ", " + text(id, "os"));
    h.kv("Hardware", id.path("hardware").toString());
    h.kv("Runtimes", id.path("runtimes").toString());
    h.raw("</table>");
    h.heading("Checklist");
    h.raw("<table><tr><th>item</th><th>result</th><th>detail</th><th>evidence</th></tr>");
    for (JsonNode c : r.path("checklist")) {
      boolean ok = c.path("passed").asBoolean();
      h.raw("<tr><td>").text(c.path("title").asText()).raw("</td><td class=" + (ok ? "pass>pass" : "fail>FAIL") + "</td><td>")
          .text(c.path("detail").asText()).raw("</td><td><code>").text(join(c.path("evidence"))).raw("</code></td></tr>");
    }
    h.raw("</table>");
    h.heading("Level reached: " + r.path("level").path("level").asText());
    h.raw("<p>").text(r.path("level").path("explanation").asText()).raw("</p>");
    h.heading("Reproductions");
    if (r.path("reproductions").isEmpty()) {
      h.raw("<p>None: no other run shares this run's fingerprint or declares a reproduction relation with it.</p>");
    }
    for (JsonNode rep : r.path("reproductions")) {
      h.raw("<h3>").text(rep.path("run_id").asText() + ": " + rep.path("verdict").asText()
          + (rep.path("level").isNull() ? "" : " at " + rep.path("level").asText())).raw("</h3><ul>");
      h.raw("<li>").text("Relation: " + rep.path("relation").asText() + (rep.path("same_fingerprint").asBoolean() ? ", same fingerprint"
          : ", fingerprint differs in " + join(rep.path("fingerprint_differences")))).raw("</li>");
      h.raw("<li>").text(rep.path("explanation").asText()).raw("</li>");
      h.raw("<li>").text("Environment differences: " + (rep.path("environment_differences").isEmpty() ? "none"
          : join(rep.path("environment_differences")))).raw("</li></ul>");
      metricsTable(h, rep.path("metrics"), "this run", rep.path("run_id").asText());
    }
    h.heading("Loss curves");
    h.curves(lossCurves);
    h.heading("How to reproduce");
    h.raw("<pre>");
    r.path("reproduce").path("commands").forEach(c -> h.text(c.asText()).raw("\n"));
    h.raw("</pre><ul>");
    r.path("reproduce").path("notes").forEach(n -> h.raw("<li>").text(n.asText()).raw("</li>"));
    h.raw("</ul><h3>Config</h3><table>");
    r.path("reproduce").path("config").fields().forEachRemaining(e -> h.raw("<tr><td><code>").text(e.getKey())
        .raw("</code></td><td><code>").text(e.getValue().asText()).raw("</code></td></tr>"));
    h.raw("</table>");
    missing(h, r);
    return h.end();
  }

  // ---------------------------------------------------------------- compare

  public static String compareMarkdown(JsonNode c) {
    Md md = new Md();
    String a = join(c.path("a"));
    String b = join(c.path("b"));
    md.line("# Comparison: " + a + " (a) vs " + b + " (b)");
    md.line("");
    md.line(c.path("same_fingerprint").asBoolean() ? "Same fingerprint: b is a reproduction candidate of a."
        : "Not a reproduction: the fingerprints differ in " + join(c.path("fingerprint_differences")) + ".");
    md.line("");
    md.line("## Config");
    md.line("");
    JsonNode cfg = c.path("config");
    if (cfg.path("added").isEmpty() && cfg.path("removed").isEmpty() && cfg.path("changed").isEmpty()) {
      md.line("No difference.");
    } else {
      md.line("| key | change | a | b |");
      md.line("| --- | --- | --- | --- |");
      cfg.path("changed").fields().forEachRemaining(e -> md.line("| " + cell(e.getKey()) + " | changed | " + cell(e.getValue().get(0).asText())
          + " | " + cell(e.getValue().get(1).asText()) + " |"));
      cfg.path("added").fields().forEachRemaining(e -> md.line("| " + cell(e.getKey()) + " | added |  | " + cell(e.getValue().asText()) + " |"));
      cfg.path("removed").fields().forEachRemaining(e -> md.line("| " + cell(e.getKey()) + " | removed | " + cell(e.getValue().asText()) + " |  |"));
    }
    md.line("");
    md.line("## Data");
    md.line("");
    md.line("| role | a | b | same |");
    md.line("| --- | --- | --- | --- |");
    for (JsonNode d : c.path("data")) {
      md.line("| " + cell(d.path("role").asText()) + " | " + cell(d.path("a").asText("") + " " + d.path("a_digest").asText(""))
          + " | " + cell(d.path("b").asText("") + " " + d.path("b_digest").asText("")) + " | " + (d.path("same").asBoolean() ? "yes" : "**no**") + " |");
    }
    md.line("");
    JsonNode code = c.path("code");
    md.line("## Code");
    md.line("");
    md.line("- a: `" + code.path("a_commit").asText() + "`" + (code.path("a_dirty").asBoolean() ? " dirty (" + code.path("a_diff_digest").asText() + ")" : ""));
    md.line("- b: `" + code.path("b_commit").asText() + "`" + (code.path("b_dirty").asBoolean() ? " dirty (" + code.path("b_diff_digest").asText() + ")" : ""));
    md.line("");
    valueDiffs(md, "Seeds", c.path("seeds"));
    valueDiffs(md, "Environment", c.path("environment"));
    md.line("## Metrics");
    md.line("");
    metricsTable(md, c.path("metrics"), "a", "b");
    missing(md, c);
    return md.toString();
  }

  public static String compareHtml(JsonNode c, Map<String, List<double[]>> lossCurves) {
    String a = join(c.path("a"));
    String b = join(c.path("b"));
    Html h = new Html("Comparison: " + a + " (a) vs " + b + " (b)");
    h.raw("<p>").text(c.path("same_fingerprint").asBoolean() ? "Same fingerprint: b is a reproduction candidate of a."
        : "Not a reproduction: the fingerprints differ in " + join(c.path("fingerprint_differences")) + ".").raw("</p>");
    h.heading("Config");
    h.raw("<table><tr><th>key</th><th>change</th><th>a</th><th>b</th></tr>");
    JsonNode cfg = c.path("config");
    cfg.path("changed").fields().forEachRemaining(e -> h.raw("<tr><td>").text(e.getKey()).raw("</td><td>changed</td><td>")
        .text(e.getValue().get(0).asText()).raw("</td><td>").text(e.getValue().get(1).asText()).raw("</td></tr>"));
    cfg.path("added").fields().forEachRemaining(e -> h.raw("<tr><td>").text(e.getKey()).raw("</td><td>added</td><td></td><td>")
        .text(e.getValue().asText()).raw("</td></tr>"));
    cfg.path("removed").fields().forEachRemaining(e -> h.raw("<tr><td>").text(e.getKey()).raw("</td><td>removed</td><td>")
        .text(e.getValue().asText()).raw("</td><td></td></tr>"));
    h.raw("</table>");
    h.heading("Data");
    h.raw("<table><tr><th>role</th><th>a</th><th>b</th><th>same</th></tr>");
    for (JsonNode d : c.path("data")) {
      h.raw("<tr><td>").text(d.path("role").asText()).raw("</td><td>").text(d.path("a").asText("") + " " + d.path("a_digest").asText(""))
          .raw("</td><td>").text(d.path("b").asText("") + " " + d.path("b_digest").asText("")).raw("</td><td>")
          .text(d.path("same").asBoolean() ? "yes" : "no").raw("</td></tr>");
    }
    h.raw("</table>");
    h.heading("Code");
    JsonNode code = c.path("code");
    h.raw("<p>").text("a: " + code.path("a_commit").asText() + (code.path("a_dirty").asBoolean() ? " dirty" : "")
        + "; b: " + code.path("b_commit").asText() + (code.path("b_dirty").asBoolean() ? " dirty" : "")).raw("</p>");
    for (String section : List.of("seeds", "environment")) {
      h.heading(section.substring(0, 1).toUpperCase(Locale.ROOT) + section.substring(1));
      h.raw("<table><tr><th>name</th><th>a</th><th>b</th></tr>");
      for (JsonNode v : c.path(section)) {
        h.raw("<tr><td>").text(v.path("name").asText()).raw("</td><td>").text(v.path("a").asText("")).raw("</td><td>")
            .text(v.path("b").asText("")).raw("</td></tr>");
      }
      h.raw("</table>");
    }
    h.heading("Metrics");
    metricsTable(h, c.path("metrics"), "a", "b");
    h.heading("Loss curves");
    h.curves(lossCurves);
    missing(h, c);
    return h.end();
  }

  // ---------------------------------------------------------------- shared pieces

  private static void metricsTable(Md md, JsonNode metrics, String aName, String bName) {
    if (metrics.isEmpty()) {
      md.line("No metric in common.");
      md.line("");
      return;
    }
    md.line("| metric | direction | " + cell(aName) + " (mean ± 95% CI, n) | " + cell(bName) + " (mean ± 95% CI, n) | delta | within tolerance | better | Welch p | bootstrap 95% CI of delta |");
    md.line("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    for (JsonNode m : metrics) {
      md.line("| " + cell(m.path("metric").asText()) + " | " + m.path("direction").asText().replace('_', ' ') + " | " + summary(m.path("a"), m.path("a_kind"))
          + " | " + summary(m.path("b"), m.path("b_kind")) + " | " + num(m.path("delta")) + " | " + (m.path("within_tolerance").asBoolean() ? "yes" : "**no**")
          + " | " + m.path("better").asText() + " | " + (m.path("welch").isNull() ? "" : num(m.path("welch").path("p")))
          + " | " + interval(m.path("bootstrap_ci")) + " |");
    }
    md.line("");
  }

  private static void metricsTable(Html h, JsonNode metrics, String aName, String bName) {
    if (metrics.isEmpty()) {
      h.raw("<p>No metric in common.</p>");
      return;
    }
    h.raw("<table><tr><th>metric</th><th>direction</th><th>").text(aName).raw(" (mean ± 95% CI, n)</th><th>").text(bName)
        .raw(" (mean ± 95% CI, n)</th><th>delta</th><th>within tolerance</th><th>better</th><th>Welch p</th><th>bootstrap 95% CI of delta</th></tr>");
    for (JsonNode m : metrics) {
      h.raw("<tr><td>").text(m.path("metric").asText()).raw("</td><td>").text(m.path("direction").asText().replace('_', ' '))
          .raw("</td><td>").text(summary(m.path("a"), m.path("a_kind"))).raw("</td><td>").text(summary(m.path("b"), m.path("b_kind")))
          .raw("</td><td>").text(num(m.path("delta"))).raw("</td><td class=" + (m.path("within_tolerance").asBoolean() ? "pass>yes" : "fail>no"))
          .raw("</td><td>").text(m.path("better").asText()).raw("</td><td>").text(m.path("welch").isNull() ? "" : num(m.path("welch").path("p")))
          .raw("</td><td>").text(interval(m.path("bootstrap_ci"))).raw("</td></tr>");
    }
    h.raw("</table>");
  }

  private static void valueDiffs(Md md, String title, JsonNode diffs) {
    md.line("## " + title);
    md.line("");
    if (diffs.isEmpty()) {
      md.line("No difference.");
    } else {
      md.line("| name | a | b |");
      md.line("| --- | --- | --- |");
      diffs.forEach(v -> md.line("| " + cell(v.path("name").asText()) + " | " + cell(v.path("a").asText("")) + " | " + cell(v.path("b").asText("")) + " |"));
    }
    md.line("");
  }

  private static void missing(Md md, JsonNode r) {
    if (!r.path("complete").asBoolean(true)) {
      md.line("");
      md.line("**Incomplete:** some instances did not answer: " + r.path("missing_instances"));
    }
  }

  private static void missing(Html h, JsonNode r) {
    if (!r.path("complete").asBoolean(true)) {
      h.raw("<p class=fail>").text("Incomplete: some instances did not answer: " + r.path("missing_instances")).raw("</p>");
    }
  }

  static String summary(JsonNode s, JsonNode kind) {
    String mean = num(s.path("mean"));
    String ci = s.path("ci_low").isNull() || s.path("ci_low").isMissingNode() ? ""
        : " ± " + num(s.path("ci_high").asDouble() - s.path("mean").asDouble());
    return mean + ci + ", n=" + s.path("n").asInt() + (kind.isMissingNode() ? "" : " " + kind.asText().replace('_', ' '));
  }

  static String interval(JsonNode i) {
    return i.isNull() || i.isMissingNode() ? "" : "[" + num(i.path("low")) + ", " + num(i.path("high")) + "]";
  }

  static String num(JsonNode n) {
    return n.isNumber() ? num(n.asDouble()) : n.asText();
  }

  static String num(double d) {
    if (Double.isNaN(d) || Double.isInfinite(d)) {
      return String.valueOf(d);
    }
    if (d != 0 && (Math.abs(d) < 1e-3 || Math.abs(d) >= 1e6)) {
      return String.format(Locale.ROOT, "%.4g", d);
    }
    return String.format(Locale.ROOT, "%.5f", d).replaceAll("0+$", "").replaceAll("\\.$", "");
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.path(field);
    return v.isNull() || v.isMissingNode() ? "(not recorded)" : v.asText();
  }

  private static String join(JsonNode array) {
    List<String> out = new ArrayList<>();
    array.forEach(v -> out.add(v.asText()));
    return String.join(", ", out);
  }

  /** A Markdown table cell: pipes and line breaks would end it. */
  private static String cell(String s) {
    return s.replace("|", "\\|").replace("\n", " ");
  }

  private static final class Md {
    private final StringBuilder b = new StringBuilder();

    void line(String s) {
      b.append(s).append('\n');
    }

    @Override
    public String toString() {
      return b.toString();
    }
  }

  /** An HTML page under construction; {@link #text} escapes, {@link #raw} is for this class's own markup only. */
  static final class Html {
    private static final String[] COLORS = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf"};
    private final StringBuilder b = new StringBuilder();

    Html(String title) {
      raw("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8><title>").text(title).raw("</title><style>"
          + "body{font-family:system-ui,sans-serif;margin:2em;max-width:72em;color:#222}"
          + "table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .5em;text-align:left;vertical-align:top}"
          + "th{background:#f3f3f3}.pass{color:#176117}.fail{color:#b00020;font-weight:bold}code,pre{font-size:.9em}"
          + "pre{background:#f6f6f6;padding:.75em;overflow:auto}.kv td:first-child{font-weight:bold}"
          + "</style></head><body><h1>").text(title).raw("</h1>\n");
    }

    Html raw(String s) {
      b.append(s);
      return this;
    }

    Html text(String s) {
      b.append(escape(s));
      return this;
    }

    void heading(String s) {
      raw("\n<h2>").text(s).raw("</h2>\n");
    }

    void kv(String k, String v) {
      raw("<tr><td>").text(k).raw("</td><td>").text(v).raw("</td></tr>");
    }

    /** Each run's loss against its step, one polyline per run, on shared axes. */
    void curves(Map<String, List<double[]>> curves) {
      double minX = Double.MAX_VALUE;
      double maxX = -Double.MAX_VALUE;
      double minY = Double.MAX_VALUE;
      double maxY = -Double.MAX_VALUE;
      for (List<double[]> points : curves.values()) {
        for (double[] p : points) {
          if (Double.isFinite(p[1])) {
            minX = Math.min(minX, p[0]);
            maxX = Math.max(maxX, p[0]);
            minY = Math.min(minY, p[1]);
            maxY = Math.max(maxY, p[1]);
          }
        }
      }
      if (minX > maxX) {
        raw("<p>No loss history was recorded.</p>");
        return;
      }
      double w = 720;
      double hgt = 300;
      double pad = 50;
      double spanX = maxX > minX ? maxX - minX : 1;
      double spanY = maxY > minY ? maxY - minY : 1;
      raw("<svg xmlns='http://www.w3.org/2000/svg' width='" + (int) (w + 2 * pad) + "' height='" + (int) (hgt + 2 * pad)
          + "' role=img aria-label='loss curves'>");
      raw("<rect x='" + pad + "' y='" + pad + "' width='" + w + "' height='" + hgt + "' fill='none' stroke='#999'/>");
      raw("<text x='" + pad + "' y='" + (pad + hgt + 20) + "' font-size='12'>step " + num(minX) + "</text>");
      raw("<text x='" + (pad + w - 80) + "' y='" + (pad + hgt + 20) + "' font-size='12'>step " + num(maxX) + "</text>");
      raw("<text x='4' y='" + (pad + 4) + "' font-size='12'>" + num(maxY) + "</text>");
      raw("<text x='4' y='" + (pad + hgt) + "' font-size='12'>" + num(minY) + "</text>");
      int i = 0;
      for (Map.Entry<String, List<double[]>> e : curves.entrySet()) {
        String color = COLORS[i % COLORS.length];
        StringBuilder pts = new StringBuilder();
        for (double[] p : e.getValue()) {
          if (Double.isFinite(p[1])) {
            double x = pad + (p[0] - minX) / spanX * w;
            double y = pad + hgt - (p[1] - minY) / spanY * hgt;
            pts.append(String.format(Locale.ROOT, "%.1f,%.1f ", x, y));
          }
        }
        raw("<polyline fill='none' stroke='" + color + "' stroke-width='1.5' points='" + pts.toString().trim() + "'/>");
        raw("<text x='" + (pad + w + 5 - 160) + "' y='" + (pad + 16 + 16 * i) + "' font-size='12' fill='" + color + "'>").text(e.getKey()).raw("</text>");
        i++;
      }
      raw("</svg>");
    }

    String end() {
      raw("\n</body></html>\n");
      return b.toString();
    }

    static String escape(String s) {
      StringBuilder out = new StringBuilder(s.length() + 16);
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        switch (c) {
          case '<' -> out.append("&lt;");
          case '>' -> out.append("&gt;");
          case '&' -> out.append("&amp;");
          case '"' -> out.append("&quot;");
          case '\'' -> out.append("&#39;");
          default -> out.append(c);
        }
      }
      return out.toString();
    }
  }
}
