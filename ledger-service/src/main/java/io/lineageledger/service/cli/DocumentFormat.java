package io.lineageledger.service.cli;

import java.util.Locale;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** The --output of commands that print documents (reports, comparisons): md (table prints it too), json or html. */
final class DocumentFormat {
  private DocumentFormat() {}

  static String of(String output, CommandSpec spec) {
    return switch (output.toLowerCase(Locale.ROOT)) {
      case "md", "markdown", "table" -> "md";
      case "json" -> "json";
      case "html" -> "html";
      default -> throw new CommandLine.ParameterException(spec.commandLine(), "--output must be md, json or html, got '" + output + "'");
    };
  }

  /** The document at {@code path} in {@code format}, as the API renders it; JSON pretty-printed. */
  static String fetch(ApiClient client, String path, String format) {
    String sep = path.contains("?") ? "&" : "?";
    if (format.equals("json")) {
      return ApiClient.pretty(client.get(path + sep + "format=json")) + "\n";
    }
    return client.getText(path + sep + "format=" + format);
  }
}
