package io.lineageledger.producers.sidecar;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Keeps secrets out of the ledger. A name "looks secret" when it contains KEY, TOKEN, SECRET,
 * PASSWORD, PASSWD, CREDENTIAL, AUTH, PRIVATE or SESSION (any case, any separator), so
 * {@code WANDB_API_KEY}, {@code HF_TOKEN}, {@code AWS_SECRET_ACCESS_KEY} and
 * {@code --db-password} all do. The values of such environment variables are replaced by
 * {@value #REDACTED} wherever they occur in text the sidecar records (the command line, the
 * stderr tail, every line the command writes), and so is the value of a secret-looking
 * command-line flag ({@code --token=abc} or {@code --token abc}).
 *
 * <p>Immutable and thread-safe.
 */
public final class SecretRedactor {
  public static final String REDACTED = "[REDACTED]";
  private static final Pattern SECRET_NAME = Pattern.compile(
      "(?i).*(KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|CREDENTIAL|AUTH|PRIVATE|SESSION|COOKIE).*");
  /** Values shorter than this are not scrubbed from free text: "1" or "true" would mangle everything. */
  private static final int MIN_SCRUBBED_LENGTH = 4;

  private final List<String> secretValues;

  /** A redactor for the secret-looking variables of {@code environment}. */
  public SecretRedactor(Map<String, String> environment) {
    List<String> values = new ArrayList<>();
    environment.forEach((name, value) -> {
      if (looksSecret(name) && value != null && value.length() >= MIN_SCRUBBED_LENGTH) {
        values.add(value);
      }
    });
    values.sort(Comparator.comparingInt(String::length).reversed()); // a secret containing another is replaced whole
    this.secretValues = List.copyOf(values);
  }

  public static boolean looksSecret(String name) {
    return SECRET_NAME.matcher(name).matches();
  }

  /** {@code text} with every secret value replaced. */
  public String scrub(String text) {
    if (text == null || secretValues.isEmpty()) {
      return text;
    }
    String out = text;
    for (String v : secretValues) {
      if (out.contains(v)) {
        out = out.replace(v, REDACTED);
      }
    }
    return out;
  }

  /** An environment variable's value as it may be recorded. */
  public String value(String name, String value) {
    return looksSecret(name) ? REDACTED : scrub(value);
  }

  /** A command line as it may be recorded: secret values scrubbed, values of secret-looking flags redacted. */
  public List<String> commandLine(List<String> args) {
    List<String> out = new ArrayList<>(args.size());
    boolean redactNext = false;
    for (String arg : args) {
      if (redactNext) {
        out.add(REDACTED);
        redactNext = false;
        continue;
      }
      if (arg.startsWith("-")) {
        int eq = arg.indexOf('=');
        String flag = eq < 0 ? arg : arg.substring(0, eq);
        if (looksSecret(flag.replaceFirst("^-+", ""))) {
          if (eq < 0) {
            out.add(arg);
            redactNext = true;
          } else {
            out.add(flag + "=" + REDACTED);
          }
          continue;
        }
      }
      out.add(scrub(arg));
    }
    return out;
  }
}
