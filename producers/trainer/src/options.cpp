#include "options.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <vector>

#include "util.h"

namespace lt {
namespace {

std::uint64_t parse_u64(const std::string& flag, const std::string& v, std::uint64_t min, std::uint64_t max) {
  bool digits = !v.empty();
  for (char c : v) digits = digits && c >= '0' && c <= '9';
  errno = 0;
  unsigned long long x = digits ? std::strtoull(v.c_str(), nullptr, 10) : 0;
  if (!digits || errno == ERANGE || x < min || x > max) {
    throw UsageError(flag + " expects an integer in [" + std::to_string(min) + ", " + std::to_string(max) +
                     "], got '" + v + "'");
  }
  return x;
}

double parse_double(const std::string& flag, const std::string& v, double min, double max, bool min_exclusive) {
  char* end = nullptr;
  errno = 0;
  double x = v.empty() ? NAN : std::strtod(v.c_str(), &end);
  bool ok = !v.empty() && end && *end == '\0' && errno != ERANGE && std::isfinite(x) && x <= max &&
            (min_exclusive ? x > min : x >= min);
  if (!ok) {
    throw UsageError(flag + " expects a number " + (min_exclusive ? "> " : ">= ") + std::to_string(min) +
                     " and <= " + std::to_string(max) + ", got '" + v + "'");
  }
  return x;
}

std::string parse_choice(const std::string& flag, const std::string& v, const std::vector<std::string>& choices) {
  std::string list;
  for (const auto& c : choices) {
    if (v == c) return v;
    list += (list.empty() ? "" : "|") + c;
  }
  throw UsageError(flag + " expects one of " + list + ", got '" + v + "'");
}

constexpr std::uint64_t kMaxI63 = 9223372036854775807ULL;

}  // namespace

std::string usage_text(const std::string& default_corpus) {
  return std::string(
             "usage: lineage-trainer [flags]\n"
             "\n"
             "Trains a character-level MLP language model on a text corpus, after a data pipeline\n"
             "(normalize, dedupe, filter, split), and writes ledger events as NDJSON.\n"
             "Prints one JSON summary line on stdout; progress goes to stderr.\n"
             "\n"
             "training:\n"
             "  --steps N                  total target step count, also when resuming (default 300)\n"
             "  --seed N                   seed of weight init and batch order (default 42)\n"
             "  --lr X                     peak learning rate (default 0.003)\n"
             "  --batch-size N             windows per step (default 32)\n"
             "  --weight-decay X           AdamW decoupled weight decay (default 0.01)\n"
             "  --schedule constant|cosine learning-rate schedule after warmup (default constant)\n"
             "  --warmup-steps N           linear warmup steps (default 0)\n"
             "  --decay-steps N            cosine horizon in steps (default: --steps)\n"
             "  --min-lr-ratio X           cosine floor as a fraction of --lr (default 0.1)\n"
             "model:\n"
             "  --context N                previous characters seen (default 8)\n"
             "  --embed N                  embedding width (default 16)\n"
             "  --hidden N                 hidden units (default 128)\n"
             "  --activation tanh|gelu     hidden activation (default tanh)\n"
             "data:\n"
             "  --corpus PATH              raw text corpus (default ") +
         default_corpus +
         ")\n"
         "  --data-seed N              seed of the train/validation split (default 42, whatever --seed is)\n"
         "  --min-line-chars N         filter drops shorter lines (default 8)\n"
         "  --max-line-chars N         filter drops longer lines (default 400)\n"
         "periodic work:\n"
         "  --checkpoint-every K       checkpoint period in steps, 0 = final only (default 100)\n"
         "  --log-every K              step_summary period in steps (default 10)\n"
         "  --eval-every K             evaluation period in steps, 0 = final only (default 0)\n"
         "  --eval-seed N              seed choosing the evaluation windows (default 1234)\n"
         "  --eval-windows N           validation windows per evaluation (default 2048)\n"
         "resume and faults:\n"
         "  --resume CKPT              continue from a checkpoint (weights, optimizer, RNG, data cursor)\n"
         "  --resume-manifest FILE     continue a recorded run: its configuration, data and checkpoint from\n"
         "                             `ledger replay RUN --to-step N --output json` (digests verified;\n"
         "                             flags given here win)\n"
         "  --resume-without-optimizer-state\n"
         "                             with --resume: reset the AdamW moments to zero\n"
         "  --nan-at-step N            make step N's loss NaN; its update is skipped\n"
         "outputs:\n"
         "  --register-model NAME      register the final checkpoint as a candidate of model NAME\n"
         "  --out DIR                  output directory (default ./trainer-out)\n"
         "  --events PATH              NDJSON event file, appended (default: $LEDGER_EVENTS, else none)\n"
         "  --backend auto|cpu|cuda    compute backend (default auto: cuda when a device is present)\n"
         "  --help                     this text\n"
         "\n"
         "environment: LEDGER_EVENTS (event file), LEDGER_RUN_ID (run id of every event, default 'local')\n"
         "exit status: 0 done, 1 runtime error, 2 bad usage\n";
}

Options parse_options(int argc, char** argv, const std::string& default_corpus) {
  Options o;
  o.corpus = default_corpus;
  struct Flag {
    bool takes_value;
    bool in_cli_layer;
    std::function<void(const std::string& flag, const std::string& v)> set;
  };
  std::map<std::string, Flag> flags = {
      {"--steps", {true, true, [&](auto& f, auto& v) { o.steps = parse_u64(f, v, 1, 1000000000ULL); }}},
      {"--seed", {true, true, [&](auto& f, auto& v) { o.seed = parse_u64(f, v, 0, kMaxI63); }}},
      {"--lr", {true, true, [&](auto& f, auto& v) { o.lr = parse_double(f, v, 0, 10, true); }}},
      {"--batch-size", {true, true, [&](auto& f, auto& v) { o.batch_size = int(parse_u64(f, v, 1, 65536)); }}},
      {"--weight-decay", {true, true, [&](auto& f, auto& v) { o.weight_decay = parse_double(f, v, 0, 1, false); }}},
      {"--schedule", {true, true, [&](auto& f, auto& v) { o.schedule = parse_choice(f, v, {"constant", "cosine"}); }}},
      {"--warmup-steps", {true, true, [&](auto& f, auto& v) { o.warmup_steps = parse_u64(f, v, 0, 1000000000ULL); }}},
      {"--decay-steps", {true, true, [&](auto& f, auto& v) { o.decay_steps = parse_u64(f, v, 1, 1000000000ULL); }}},
      {"--min-lr-ratio", {true, true, [&](auto& f, auto& v) { o.min_lr_ratio = parse_double(f, v, 0, 1, false); }}},
      {"--context", {true, true, [&](auto& f, auto& v) { o.context = int(parse_u64(f, v, 1, 256)); }}},
      {"--embed", {true, true, [&](auto& f, auto& v) { o.embed = int(parse_u64(f, v, 1, 1024)); }}},
      {"--hidden", {true, true, [&](auto& f, auto& v) { o.hidden = int(parse_u64(f, v, 1, 8192)); }}},
      {"--activation", {true, true, [&](auto& f, auto& v) { o.activation = parse_choice(f, v, {"tanh", "gelu"}); }}},
      {"--corpus", {true, false, [&](auto& f, auto& v) {
         if (v.empty()) throw UsageError(f + " expects a path");
         o.corpus = v;
       }}},
      {"--data-seed", {true, true, [&](auto& f, auto& v) {
         o.data_seed = parse_u64(f, v, 0, kMaxI63);
       }}},
      {"--min-line-chars", {true, true, [&](auto& f, auto& v) { o.min_line_chars = int(parse_u64(f, v, 0, 1000000)); }}},
      {"--max-line-chars", {true, true, [&](auto& f, auto& v) { o.max_line_chars = int(parse_u64(f, v, 1, 1000000)); }}},
      {"--checkpoint-every", {true, true, [&](auto& f, auto& v) { o.checkpoint_every = parse_u64(f, v, 0, 1000000000ULL); }}},
      {"--log-every", {true, true, [&](auto& f, auto& v) { o.log_every = parse_u64(f, v, 1, 1000000000ULL); }}},
      {"--eval-every", {true, true, [&](auto& f, auto& v) { o.eval_every = parse_u64(f, v, 0, 1000000000ULL); }}},
      {"--eval-seed", {true, true, [&](auto& f, auto& v) { o.eval_seed = parse_u64(f, v, 0, kMaxI63); }}},
      {"--eval-windows", {true, true, [&](auto& f, auto& v) { o.eval_windows = int(parse_u64(f, v, 1, 10000000)); }}},
      {"--resume", {true, true, [&](auto& f, auto& v) {
         if (v.empty()) throw UsageError(f + " expects a checkpoint path");
         o.resume = v;
       }}},
      {"--resume-without-optimizer-state", {false, true, [&](auto&, auto&) { o.resume_without_optimizer_state = true; }}},
      {"--nan-at-step", {true, true, [&](auto& f, auto& v) { o.nan_at_step = parse_u64(f, v, 1, 1000000000ULL); }}},
      {"--register-model", {true, true, [&](auto& f, auto& v) {
         if (v.empty()) throw UsageError(f + " expects a model name");
         o.register_model = v;
       }}},
      {"--out", {true, false, [&](auto& f, auto& v) {
         if (v.empty()) throw UsageError(f + " expects a directory");
         o.out = v;
       }}},
      {"--events", {true, false, [&](auto& f, auto& v) {
         if (v.empty()) throw UsageError(f + " expects a file path");
         o.events = v;
       }}},
      {"--backend", {true, true, [&](auto& f, auto& v) { o.backend = parse_choice(f, v, {"auto", "cpu", "cuda"}); }}},
      {"--help", {false, false, [&](auto&, auto&) { o.help = true; }}},
  };
  for (int i = 1; i < argc; i++) {
    std::string arg = argv[i];
    if (arg == "-h") arg = "--help";
    std::string name = arg, value;
    bool inline_value = false;
    std::size_t eq = arg.find('=');
    if (arg.rfind("--", 0) == 0 && eq != std::string::npos) {
      name = arg.substr(0, eq);
      value = arg.substr(eq + 1);
      inline_value = true;
    }
    auto it = flags.find(name);
    if (it == flags.end()) {
      if (arg.rfind("-", 0) == 0) throw UsageError("unknown flag " + name + " (see --help)");
      throw UsageError("unexpected argument '" + arg + "' (flags take the form --name value; see --help)");
    }
    if (it->second.takes_value) {
      if (!inline_value) {
        if (i + 1 >= argc) throw UsageError(name + " needs a value");
        value = argv[++i];
      }
    } else if (inline_value) {
      throw UsageError(name + " takes no value");
    }
    it->second.set(name, value);
    if (it->second.in_cli_layer) o.cli_layer[name.substr(2)] = it->second.takes_value ? value : "true";
  }
  if (o.resume_without_optimizer_state && o.resume.empty()) {
    throw UsageError("--resume-without-optimizer-state needs --resume CKPT");
  }
  if (o.min_line_chars > o.max_line_chars) {
    throw UsageError("--min-line-chars (" + std::to_string(o.min_line_chars) + ") exceeds --max-line-chars (" +
                     std::to_string(o.max_line_chars) + ")");
  }
  if (o.schedule == "cosine" && o.decay_steps == 0) o.decay_steps = o.steps;
  if (o.schedule == "constant" && o.cli_layer.count("decay-steps")) {
    throw UsageError("--decay-steps only applies to --schedule cosine");
  }
  return o;
}

}  // namespace lt
