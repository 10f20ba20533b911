package io.lineageledger.service.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code ledger baseline}: designates baselines that later evaluations are checked against. */
@Command(name = "baseline", mixinStandardHelpOptions = true, description = "Designate and show regression baselines.",
    subcommands = {BaselineCommand.Set.class, BaselineCommand.Show.class})
public final class BaselineCommand implements Runnable {
  @Spec
  CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "Missing a subcommand: ledger baseline set|show");
  }

  /** What a baseline is for: a model, or an experiment with {@code --experiment}. */
  static final class Target {
    @Parameters(index = "0", paramLabel = "TARGET", description = "The model name (or experiment name with --experiment).")
    String name;

    @Option(names = "--experiment", description = "TARGET is an experiment, not a model.")
    boolean experiment;

    /** {@code model:NAME} or {@code experiment:NAME}. */
    String subject() {
      return (experiment ? "experiment:" : "model:") + name;
    }
  }

  /** One {@code --threshold METRIC:DROP[%][:higher|lower]}. */
  record Threshold(String metric, Double absolute, Double relative, String direction) {
    static Threshold parse(String text) {
      String[] parts = text.split(":");
      if (parts.length < 2 || parts.length > 3 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new IllegalArgumentException("--threshold takes METRIC:DROP[%][:higher|lower], for example accuracy:0.02, val_loss:5% "
            + "or score:1:higher; got '" + text + "'");
      }
      String drop = parts[1].trim();
      boolean percent = drop.endsWith("%");
      double value;
      try {
        value = Double.parseDouble(percent ? drop.substring(0, drop.length() - 1) : drop);
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("--threshold " + text + ": '" + drop + "' is not a number (write 0.02 or 5%)");
      }
      if (value < 0 || Double.isNaN(value)) {
        throw new IllegalArgumentException("--threshold " + text + ": a maximum drop cannot be negative");
      }
      String direction = null;
      if (parts.length == 3) {
        direction = switch (parts[2].trim().toLowerCase(Locale.ROOT)) {
          case "higher", "higher_is_better" -> "higher_is_better";
          case "lower", "lower_is_better" -> "lower_is_better";
          default -> throw new IllegalArgumentException("--threshold " + text + ": the direction is 'higher' or 'lower', not '" + parts[2] + "'");
        };
      }
      return new Threshold(parts[0].trim(), percent ? null : value, percent ? value / 100 : null, direction);
    }
  }

  @Command(name = "set", mixinStandardHelpOptions = true,
      description = "Designate a run's latest evaluation (or one evaluation) as the baseline of a model or experiment.",
      footer = {"", "Example: ledger baseline set char-lm --run r-42 --threshold val_loss:0.05 --threshold accuracy:2%%",
          "A drop counts only when it exceeds a threshold and, where both evaluations carry per-seed or per-sample values,",
          "Welch's t-test finds it significant at --significance. Directions default from the metric's name (loss, perplexity,",
          "error: lower is better; otherwise higher)."})
  static final class Set implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ApiOptions api = new ApiOptions();

    @Mixin
    Target target = new Target();

    @Option(names = "--run", description = "The baseline run: its latest evaluation is the baseline.")
    String run;

    @Option(names = "--eval-id", description = "One evaluation to use as the baseline instead of the run's latest.")
    String evalId;

    @Option(names = "--threshold", required = true, paramLabel = "METRIC:DROP", description = "A metric and how far it may worsen: 0.02 absolute or 5%% relative, optionally :higher or :lower; repeatable.")
    List<String> thresholds = new ArrayList<>();

    @Option(names = "--significance", defaultValue = "0.05", description = "Significance level of the t-test where samples allow; 0 turns it off (default: ${DEFAULT-VALUE}).")
    double significance;

    @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    @Override
    public Integer call() {
      if (run == null && evalId == null) {
        throw new CommandLine.ParameterException(spec.commandLine(), "give --run RUN or --eval-id ID: where the baseline's values come from");
      }
      ObjectNode body = new ObjectMapper().createObjectNode();
      body.put(target.experiment ? "experiment" : "model", target.name);
      if (run != null) {
        body.put("run", run);
      }
      if (evalId != null) {
        body.put("eval_id", evalId);
      }
      ArrayNode rules = body.putArray("rules");
      for (String t : thresholds) {
        Threshold th;
        try {
          th = Threshold.parse(t);
        } catch (IllegalArgumentException e) {
          throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
        ObjectNode r = rules.addObject();
        r.put("metric", th.metric());
        if (th.direction() != null) {
          r.put("direction", th.direction());
        }
        if (th.absolute() != null) {
          r.put("max_absolute_drop", th.absolute());
        }
        if (th.relative() != null) {
          r.put("max_relative_drop", th.relative());
        }
        if (significance > 0) {
          r.put("significance_level", significance);
        }
      }
      JsonNode answer = api.client().postJson("/api/v1/baselines", body.toString());
      PrintWriter out = spec.commandLine().getOut();
      if (output == OutputFormat.json) {
        out.println(ApiClient.pretty(answer));
      } else {
        out.printf("Baseline of %s: %s (event %s)%n", answer.path("target").asText(),
            run != null ? "run " + run + "'s latest evaluation" : "evaluation " + evalId, answer.path("event_id").asText());
        printRules(out, answer.path("rules"));
      }
      out.flush();
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show the baseline in force for a model or experiment.")
  static final class Show implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    ApiOptions api = new ApiOptions();

    @Mixin
    Target target = new Target();

    @Option(names = "--output", defaultValue = "table", description = "table or json (default: ${DEFAULT-VALUE}).")
    OutputFormat output;

    @Override
    public Integer call() {
      JsonNode b = api.client().get("/api/v1/baselines/"
          + java.net.URLEncoder.encode(target.subject(), java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20"));
      PrintWriter out = spec.commandLine().getOut();
      if (output == OutputFormat.json) {
        out.println(ApiClient.pretty(b));
      } else {
        out.printf("Baseline of %s:%s: %s (event %s)%n", b.path("target_kind").asText(), b.path("target").asText(),
            b.hasNonNull("eval_id") ? "evaluation " + b.path("eval_id").asText() : "run " + b.path("run_id").asText() + "'s latest evaluation",
            b.path("event_id").asText());
        printRules(out, b.path("rules"));
      }
      out.flush();
      return 0;
    }
  }

  static void printRules(PrintWriter out, JsonNode rules) {
    Table t = new Table("METRIC", "DIRECTION", "MAX ABS DROP", "MAX REL DROP", "SIGNIFICANCE");
    for (JsonNode r : rules) {
      t.row(RunsCommand.text(r, "metric"), RunsCommand.text(r, "direction"), RunsCommand.text(r, "max_absolute_drop"),
          RunsCommand.text(r, "max_relative_drop"), RunsCommand.text(r, "significance_level"));
    }
    t.print(out);
  }
}
