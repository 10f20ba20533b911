package io.lineageledger.service.cli;

import picocli.CommandLine.Option;

/** Where the querying commands find the ledger API. */
final class ApiOptions {
  @Option(names = "--api-url", defaultValue = "${env:LEDGER_API_URL:-http://localhost:8080}",
      description = "The ledger API (env LEDGER_API_URL; default: ${DEFAULT-VALUE}).")
  String apiUrl;

  ApiClient client() {
    return new ApiClient(apiUrl);
  }
}
