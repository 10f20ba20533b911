package io.lineageledger.service.cli;

/** A command failed for a reason the user can act on; the CLI prints the message and exits 1. */
final class CliException extends RuntimeException {
  CliException(String message) {
    super(message);
  }
}
