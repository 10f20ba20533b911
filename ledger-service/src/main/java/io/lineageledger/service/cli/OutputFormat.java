package io.lineageledger.service.cli;

/** The {@code --output} formats every printing command takes. */
public enum OutputFormat {
  table,
  json
}
