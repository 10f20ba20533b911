package io.lineageledger.projections.repro;

import io.lineageledger.events.CodeVersion;
import io.lineageledger.events.RunStarted;
import io.lineageledger.projections.run.RunState;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What makes two runs the same experiment (DESIGN.md "Reproducibility"): the config digest,
 * the code commit with the digest of any uncommitted diff, the digests of the input datasets
 * by role, the seeds and the package-lock digest. Runs with equal fingerprints form a
 * reproduction set. {@code parts} keeps each part's canonical text, so a comparison can name
 * the parts that differ; {@code digest} is {@code sha256:} over those texts.
 */
public record Fingerprint(String digest, SortedMap<String, String> parts) {
  /** The parts, in the order reports list them. */
  public static final List<String> PARTS = List.of("config", "code", "data", "seeds", "packages");

  static final String NONE = "none";

  public static Fingerprint of(RunState s) {
    SortedMap<String, String> parts = new TreeMap<>();
    parts.put("config", s.configDigest() == null ? NONE : s.configDigest());
    RunStarted started = s.started();
    CodeVersion code = started == null ? null : started.getCode();
    String commit = code == null || code.getCommit() == null ? NONE : code.getCommit();
    parts.put("code", code != null && code.getDirty() ? commit + "+dirty:" + (code.getDiffDigest() == null ? "unknown" : code.getDiffDigest()) : commit);
    List<String> data = new ArrayList<>();
    for (RunState.BoundDataset d : s.datasets()) {
      data.add(d.role() + "=" + d.digest());
    }
    Collections.sort(data);
    parts.put("data", data.isEmpty() ? NONE : String.join(",", data));
    List<String> seeds = new ArrayList<>();
    if (started != null) {
      for (Map.Entry<String, Long> e : new TreeMap<>(started.getSeeds()).entrySet()) {
        seeds.add(e.getKey() + "=" + e.getValue());
      }
    }
    parts.put("seeds", seeds.isEmpty() ? NONE : String.join(",", seeds));
    String lock = started == null ? null : started.getEnvironment().getPackageLockDigest();
    parts.put("packages", lock == null ? NONE : lock);
    StringBuilder text = new StringBuilder();
    for (String part : PARTS) {
      text.append(part).append('=').append(parts.get(part)).append('\n');
    }
    return new Fingerprint(sha256(text.toString()), Collections.unmodifiableSortedMap(parts));
  }

  /** The parts in which {@code other} differs from this fingerprint, in {@link #PARTS} order. */
  public List<String> differences(Fingerprint other) {
    List<String> out = new ArrayList<>();
    for (String part : PARTS) {
      if (!parts.get(part).equals(other.parts.get(part))) {
        out.add(part);
      }
    }
    return out;
  }

  static String sha256(String text) {
    try {
      return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no SHA-256 in this JVM", e);
    }
  }
}
