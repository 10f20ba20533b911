package io.lineageledger.projections.lineage;

import java.util.List;

/**
 * Lineage node ids, DESIGN.md "Lineage vocabulary": {@code run:ID}, {@code config:DIGEST},
 * {@code code:REPO@COMMIT} (or {@code code:COMMIT} without a repository), {@code dataset:NAME@VERSION},
 * {@code transform:ID}, {@code checkpoint:DIGEST}, {@code model:NAME/VERSION}, {@code eval:ID},
 * {@code env:DIGEST}.
 */
public final class NodeId {
  public static final List<String> KINDS = List.of("run", "config", "code", "dataset", "transform", "checkpoint", "model", "eval", "env");
  private static final String FORMS = "run:ID, config:DIGEST, code:REPO@COMMIT, dataset:NAME@VERSION, transform:ID, "
      + "checkpoint:DIGEST, model:NAME/VERSION, eval:ID, env:DIGEST";

  private NodeId() {}

  public static String run(String id) {
    return "run:" + id;
  }

  public static String config(String digest) {
    return "config:" + digest;
  }

  public static String code(String repo, String commit) {
    return "code:" + (repo == null || repo.isBlank() ? commit : repo + "@" + commit);
  }

  public static String dataset(String name, String version) {
    return "dataset:" + name + "@" + version;
  }

  public static String transform(String id) {
    return "transform:" + id;
  }

  public static String checkpoint(String digest) {
    return "checkpoint:" + digest;
  }

  public static String model(String name, String version) {
    return "model:" + name + "/" + version;
  }

  public static String eval(String id) {
    return "eval:" + id;
  }

  public static String env(String digest) {
    return "env:" + digest;
  }

  /** The kind of a node id: the part before the first colon. */
  public static String kind(String id) {
    int colon = id.indexOf(':');
    return colon < 0 ? "" : id.substring(0, colon);
  }

  /** Checks a node id a user gave; the {@link IllegalArgumentException} names it and lists the accepted forms. */
  public static String parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("a node id is needed (" + FORMS + ")");
    }
    String id = text.trim();
    String kind = kind(id);
    String rest = id.substring(Math.min(id.length(), kind.length() + 1));
    if (!KINDS.contains(kind) || rest.isEmpty()) {
      throw new IllegalArgumentException("'" + text + "' is not a node id; use one of " + FORMS);
    }
    if (kind.equals("dataset") && (rest.indexOf('@') <= 0 || rest.endsWith("@"))) {
      throw new IllegalArgumentException("'" + text + "': a dataset node names a version, as dataset:NAME@VERSION");
    }
    if (kind.equals("model") && (rest.lastIndexOf('/') <= 0 || rest.endsWith("/"))) {
      throw new IllegalArgumentException("'" + text + "': a model node names a version, as model:NAME/VERSION");
    }
    return id;
  }
}
