#include "trainer.h"

#include <algorithm>
#include <array>
#include <cstdarg>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "backend.h"
#include "checkpoint.h"
#include "data.h"
#include "events.h"
#include "json.h"
#include "manifest.h"
#include "sha256.h"
#include "util.h"

#ifndef LEDGER_TRAINER_VERSION
#define LEDGER_TRAINER_VERSION "0.0.0"
#endif
#ifndef LEDGER_TRAINER_DEFAULT_CORPUS
#define LEDGER_TRAINER_DEFAULT_CORPUS "data/corpus.txt"
#endif

namespace lt {

namespace {

constexpr double kBeta1 = 0.9;
constexpr double kBeta2 = 0.999;
constexpr double kEps = 1e-8;
constexpr int kEvalBatch = 256;
const char* const kCodeVersion = "lineage-trainer " LEDGER_TRAINER_VERSION;

void log(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  std::vfprintf(stderr, fmt, ap);
  va_end(ap);
  std::fputc('\n', stderr);
}

// The effective configuration as the nested params object of config_snapshot.
std::string config_json(const Options& o, const std::string& backend, const std::string& resume_digest) {
  JsonWriter w;
  w.begin_object();
  w.key("model").begin_object();
  w.field("arch", "char-mlp");
  w.field("context", o.context);
  w.field("embed", o.embed);
  w.field("hidden", o.hidden);
  w.field("activation", o.activation);
  w.end_object();
  w.key("optimizer").begin_object();
  w.field("name", "adamw");
  w.field("lr", o.lr);
  w.field("beta1", kBeta1);
  w.field("beta2", kBeta2);
  w.field("eps", kEps);
  w.field("weight_decay", o.weight_decay);
  w.end_object();
  w.key("schedule").begin_object();
  w.field("name", o.schedule);
  w.field("warmup_steps", o.warmup_steps);
  if (o.schedule == "cosine") {
    w.field("decay_steps", o.decay_steps);
    w.field("min_lr_ratio", o.min_lr_ratio);
  }
  w.end_object();
  w.field("steps", o.steps);
  w.field("seed", o.seed);
  w.field("batch_size", o.batch_size);
  w.field("backend", backend);
  w.key("data").begin_object();
  w.field("seed", o.data_seed);
  w.field("min_line_chars", o.min_line_chars);
  w.field("max_line_chars", o.max_line_chars);
  w.field("train_fraction", kTrainFraction);
  w.end_object();
  w.key("eval").begin_object();
  w.field("seed", o.eval_seed);
  w.field("windows", o.eval_windows);
  w.field("every", o.eval_every);
  w.end_object();
  w.field("checkpoint_every", o.checkpoint_every);
  w.field("log_every", o.log_every);
  if (o.nan_at_step) {
    w.key("fault_injection").begin_object().field("nan_at_step", o.nan_at_step).end_object();
  }
  if (!o.register_model.empty()) w.field("register_model", o.register_model);
  if (!o.resume.empty()) {
    w.key("resume").begin_object();
    w.field("checkpoint_digest", resume_digest);
    w.field("without_optimizer_state", o.resume_without_optimizer_state);
    w.end_object();
  }
  w.field("trainer_version", LEDGER_TRAINER_VERSION);
  w.end_object();
  return w.str();
}

std::string cli_layer_json(const Options& o) {
  JsonWriter w;
  w.begin_object();
  for (const auto& kv : o.cli_layer) w.field(kv.first, kv.second);
  w.end_object();
  return w.str();
}

std::string env_or(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return (v && *v) ? std::string(v) : fallback;
}

std::vector<float> init_params(const ParamLayout& L, std::uint64_t seed) {
  // Embeddings U(-sqrt(3), sqrt(3)) (unit variance); linear layers U(-1/sqrt(fan_in), 1/sqrt(fan_in))
  // for weights and biases, as torch.nn.Linear. One RNG stream, in ParamLayout order.
  std::vector<float> p(static_cast<std::size_t>(L.n));
  Xoshiro256 rng(seed, Stream::kInit);
  auto fill = [&](std::int64_t off, std::int64_t count, float bound) {
    for (std::int64_t i = 0; i < count; i++) p[off + i] = (2.0f * rng.uniform01() - 1.0f) * bound;
  };
  fill(L.emb, std::int64_t(L.V) * L.E, static_cast<float>(std::sqrt(3.0)));
  float b1 = static_cast<float>(1.0 / std::sqrt(double(L.K)));
  fill(L.w1, std::int64_t(L.H) * L.K, b1);
  fill(L.b1, L.H, b1);
  float b2 = static_cast<float>(1.0 / std::sqrt(double(L.H)));
  fill(L.w2, std::int64_t(L.V) * L.H, b2);
  fill(L.b2, L.V, b2);
  return p;
}

std::array<std::uint8_t, 32> digest_bytes(const std::string& digest) {
  std::array<std::uint8_t, 32> out{};
  std::string hex = digest.substr(digest.find(':') + 1);
  for (std::size_t i = 0; i < 32 && 2 * i + 1 < hex.size(); i++) {
    out[i] = static_cast<std::uint8_t>(std::stoi(hex.substr(2 * i, 2), nullptr, 16));
  }
  return out;
}

struct EvalResult {
  double loss = 0, perplexity = 0, accuracy = 0;
  std::size_t windows = 0;
  // Per window, in position order: its loss and whether the next character was predicted
  // (1 or 0). Published as per-sample values, so comparisons can say how certain a difference is.
  std::vector<double> window_loss, window_correct;
};

// Evaluation windows: all validation windows if there are at most n, else n of them chosen
// without replacement by the eval seed; sorted so the loss sum runs in position order.
std::vector<std::uint32_t> eval_windows(std::uint64_t total, int n, std::uint64_t seed) {
  std::vector<std::uint32_t> idx(total);
  for (std::uint64_t i = 0; i < total; i++) idx[i] = static_cast<std::uint32_t>(i);
  if (total > static_cast<std::uint64_t>(n)) {
    Xoshiro256 rng(seed, Stream::kEval);
    for (std::uint64_t i = 0; i < static_cast<std::uint64_t>(n); i++) {
      std::uint64_t j = i + rng.below(total - i);
      std::swap(idx[i], idx[j]);
    }
    idx.resize(static_cast<std::size_t>(n));
    std::sort(idx.begin(), idx.end());
  }
  return idx;
}

EvalResult evaluate(Backend& be, const std::vector<std::int32_t>& tokens, const std::vector<std::uint32_t>& starts,
                    int C) {
  EvalResult r;
  std::vector<std::int32_t> ctx(static_cast<std::size_t>(kEvalBatch) * C), tgt(kEvalBatch), argmax(kEvalBatch);
  std::vector<float> loss(kEvalBatch);
  double loss_sum = 0;
  std::uint64_t correct = 0;
  for (std::size_t lo = 0; lo < starts.size(); lo += kEvalBatch) {
    int n = static_cast<int>(std::min<std::size_t>(kEvalBatch, starts.size() - lo));
    for (int b = 0; b < n; b++) {
      std::uint32_t s = starts[lo + b];
      for (int c = 0; c < C; c++) ctx[std::size_t(b) * C + c] = tokens[s + c];
      tgt[b] = tokens[s + C];
    }
    be.evaluate(ctx.data(), tgt.data(), n, loss.data(), argmax.data());
    for (int b = 0; b < n; b++) {
      loss_sum += double(loss[b]);
      if (argmax[b] == tgt[b]) correct++;
      r.window_loss.push_back(double(loss[b]));
      r.window_correct.push_back(argmax[b] == tgt[b] ? 1.0 : 0.0);
    }
  }
  r.windows = starts.size();
  r.loss = loss_sum / double(starts.size());
  r.perplexity = std::exp(r.loss);
  r.accuracy = double(correct) / double(starts.size());
  return r;
}

std::string fmt(const char* f, double x) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, x);
  return buf;
}

int run(int argc, char** argv) {
  const std::string default_corpus = LEDGER_TRAINER_DEFAULT_CORPUS;
  // --resume-manifest FILE: the run's own flags and --resume CKPT from the manifest, then the
  // command line's (which win).
  std::vector<std::string> args = {argc > 0 ? argv[0] : "lineage-trainer"};
  std::string manifest_path;
  bool resume_given = false;
  for (int i = 1; i < argc; i++) {
    std::string a = argv[i];
    if (a == "--resume-manifest") {
      if (i + 1 >= argc) throw UsageError("--resume-manifest needs a file");
      manifest_path = argv[++i];
    } else if (a.rfind("--resume-manifest=", 0) == 0) {
      manifest_path = a.substr(std::string("--resume-manifest=").size());
    } else {
      resume_given |= a == "--resume" || a.rfind("--resume=", 0) == 0;
      args.push_back(a);
    }
  }
  ResumeManifest manifest;
  if (!manifest_path.empty()) {
    if (resume_given) throw UsageError("give either --resume CKPT or --resume-manifest FILE, not both");
    manifest = read_resume_manifest(manifest_path);
    args.insert(args.begin() + 1, manifest.args.begin(), manifest.args.end());
  }
  std::vector<char*> argv2;
  for (auto& a : args) argv2.push_back(a.data());
  Options o = parse_options(static_cast<int>(argv2.size()), argv2.data(), default_corpus);
  if (!manifest_path.empty()) {
    log("resume manifest %s: run %s to step %llu from checkpoint %s", manifest_path.c_str(), manifest.run_id.c_str(),
        static_cast<unsigned long long>(manifest.to_step), manifest.checkpoint_digest.c_str());
  }
  if (o.help) {
    std::fputs(usage_text(default_corpus).c_str(), stdout);
    return 0;
  }

  // Backend choice.
  CudaProbe probe = cuda_probe();
  bool use_cuda = false;
  std::string why;
  if (o.backend == "cuda") {
    if (!probe.usable) throw UsageError("--backend cuda: " + probe.reason);
    use_cuda = true;
    why = "requested; " + probe.reason;
  } else if (o.backend == "cpu") {
    why = "requested";
  } else {
    use_cuda = probe.usable;
    why = probe.reason;
  }
  const std::string backend_name = use_cuda ? "cuda" : "cpu";
  log("backend: %s (%s)", backend_name.c_str(), why.c_str());

  // Resume state, read before anything is emitted so the config can name it.
  TrainState ck;
  std::string resume_digest;
  if (!o.resume.empty()) {
    std::string bytes;
    try {
      bytes = read_file(o.resume);
    } catch (const std::exception& e) {
      throw UsageError(std::string("--resume: ") + e.what());
    }
    ck = parse_checkpoint(bytes, o.resume);
    resume_digest = sha256_digest(bytes);
    if (o.steps <= ck.step) {
      throw UsageError("--steps " + std::to_string(o.steps) + " is not beyond the checkpoint's step " +
                       std::to_string(ck.step) + " (--steps is the total target step count)");
    }
  }

  std::string events_path = o.events.empty() ? env_or("LEDGER_EVENTS", "") : o.events;
  EventSink events(events_path, env_or("LEDGER_RUN_ID", "local"));

  // config_snapshot
  {
    std::string params = config_json(o, backend_name, resume_digest);
    Options defaults;
    std::string default_layer = config_json(defaults, "auto", "");
    std::string cli_layer = cli_layer_json(o);
    events.emit("config_snapshot", [&](JsonWriter& w) {
      w.key("params").raw(params);
      w.key("layers").begin_array();
      w.begin_object().field("source", "default").field_null("location").field("digest", sha256_digest(default_layer)).end_object();
      if (!o.cli_layer.empty()) {
        w.begin_object().field("source", "cli").field_null("location").field("digest", sha256_digest(cli_layer)).end_object();
      }
      w.end_array();
    });
  }

  // Data pipeline.
  std::string out_dir = absolute_path(o.out);
  make_dirs(out_dir);
  DataOptions dopt;
  dopt.corpus_path = o.corpus;
  dopt.out_dir = out_dir;
  dopt.seed = o.data_seed;
  dopt.min_line_chars = o.min_line_chars;
  dopt.max_line_chars = o.max_line_chars;
  PipelineResult data = run_pipeline(dopt, events, kCodeVersion);
  if (!manifest.train_digest.empty() && manifest.train_digest != data.train.digest) {
    throw UsageError("--resume-manifest: the train split here is " + data.train.digest + ", run " + manifest.run_id +
                     " trained on " + manifest.train_digest + " (a different corpus, data seed or filter)");
  }
  if (!manifest.validation_digest.empty() && manifest.validation_digest != data.validation.digest) {
    throw UsageError("--resume-manifest: the validation split here is " + data.validation.digest + ", run " +
                     manifest.run_id + " used " + manifest.validation_digest);
  }
  events.emit("dataset_bound", [&](JsonWriter& w) {
    w.field("role", "train");
    w.key("dataset");
    data.train.write(w);
  });
  events.emit("dataset_bound", [&](JsonWriter& w) {
    w.field("role", "validation");
    w.key("dataset");
    data.validation.write(w);
  });
  TokenData tok = tokenize(data.train_text, data.validation_text);
  const int C = o.context;
  if (tok.train.size() <= static_cast<std::size_t>(C) || tok.validation.size() <= static_cast<std::size_t>(C)) {
    throw UsageError("the train split (" + std::to_string(tok.train.size()) + " characters) and validation split (" +
                     std::to_string(tok.validation.size()) + " characters) must both be longer than --context " +
                     std::to_string(C));
  }
  const std::uint64_t train_windows = tok.train.size() - C;
  const std::uint64_t val_windows = tok.validation.size() - C;
  if (train_windows > 0xFFFFFFFFULL) throw UsageError("the train split is too large");
  log("data: %zu train / %zu validation characters, vocabulary %zu, %llu train windows", tok.train.size(),
      tok.validation.size(), tok.vocab.size(), static_cast<unsigned long long>(train_windows));

  const int act = o.activation == "gelu" ? kGelu : kTanh;
  const ParamLayout L = ParamLayout::make(static_cast<int>(tok.vocab.size()), C, o.embed, o.hidden);
  const int B = o.batch_size;

  // Training state: fresh or from the checkpoint.
  TrainState st;
  st.vocab = tok.vocab;
  st.context = static_cast<std::uint32_t>(C);
  st.embed = static_cast<std::uint32_t>(o.embed);
  st.hidden = static_cast<std::uint32_t>(o.hidden);
  st.activation = static_cast<std::uint32_t>(act);
  st.batch_size = static_cast<std::uint32_t>(B);
  st.schedule = o.schedule == "cosine" ? 1 : 0;
  st.lr = o.lr;
  st.beta1 = kBeta1;
  st.beta2 = kBeta2;
  st.eps = kEps;
  st.weight_decay = o.weight_decay;
  st.warmup_steps = o.warmup_steps;
  st.decay_steps = o.schedule == "cosine" ? o.decay_steps : 0;
  st.min_lr_ratio = o.schedule == "cosine" ? o.min_lr_ratio : 0;
  st.seed = o.seed;
  st.data_seed = o.data_seed;
  st.train_sha256 = digest_bytes(data.train.digest);
  st.validation_sha256 = digest_bytes(data.validation.digest);

  Sampler sampler(train_windows, o.seed);
  if (!o.resume.empty()) {
    std::vector<std::string> mismatch;
    auto same = [&](const char* what, std::uint64_t a, std::uint64_t b) {
      if (a != b) mismatch.push_back(std::string(what) + " " + std::to_string(b) + " (checkpoint) vs " + std::to_string(a));
    };
    if (ck.vocab != st.vocab) mismatch.push_back("vocabulary");
    same("context", st.context, ck.context);
    same("embed", st.embed, ck.embed);
    same("hidden", st.hidden, ck.hidden);
    if (ck.activation != st.activation) mismatch.push_back("activation");
    if (ck.train_sha256 != st.train_sha256) mismatch.push_back("train split (different corpus, data seed or filter)");
    if (ck.validation_sha256 != st.validation_sha256) mismatch.push_back("validation split");
    if (ck.params.size() != static_cast<std::size_t>(L.n)) mismatch.push_back("parameter count");
    if (ck.windows != train_windows) mismatch.push_back("train window count");
    if (!mismatch.empty()) {
      std::string list;
      for (const auto& m : mismatch) list += (list.empty() ? "" : "; ") + m;
      throw UsageError("--resume " + o.resume + " does not fit this configuration: " + list);
    }
    auto note = [&](const char* flag, double now, double then) {
      if (now != then) log("resume: %s is %g, the checkpoint's run used %g", flag, now, then);
    };
    note("--lr", st.lr, ck.lr);
    note("--batch-size", st.batch_size, ck.batch_size);
    note("--weight-decay", st.weight_decay, ck.weight_decay);
    note("--warmup-steps", double(st.warmup_steps), double(ck.warmup_steps));
    note("--decay-steps", double(st.decay_steps), double(ck.decay_steps));
    if (st.schedule != ck.schedule) log("resume: --schedule differs from the checkpoint's run");
    st.step = ck.step;
    st.samples_seen = ck.samples_seen;
    st.tokens_seen = ck.tokens_seen;
    st.non_finite_steps = ck.non_finite_steps;
    st.params = std::move(ck.params);
    if (o.resume_without_optimizer_state) {
      // The common bug this flag reproduces: a fresh optimizer under a restored step count. The
      // moments restart at zero while bias correction stays that of a late step, so the first
      // hundreds of updates are several times larger than the learning rate intends.
      st.adam_t = ck.adam_t;
      st.m.assign(static_cast<std::size_t>(L.n), 0.f);
      st.v.assign(static_cast<std::size_t>(L.n), 0.f);
    } else {
      st.adam_t = ck.adam_t;
      st.m = std::move(ck.m);
      st.v = std::move(ck.v);
    }
    if (!sampler.restore(ck.epoch, ck.epoch_pos, ck.epoch_rng, ck.rng)) {
      throw UsageError("--resume " + o.resume + ": the data cursor does not match this train split");
    }
    log("resume: step %llu from %s (%s)%s", static_cast<unsigned long long>(st.step), o.resume.c_str(),
        resume_digest.c_str(), o.resume_without_optimizer_state ? ", AdamW moments reset to zero" : "");
  } else {
    st.params = init_params(L, o.seed);
    st.m.assign(static_cast<std::size_t>(L.n), 0.f);
    st.v.assign(static_cast<std::size_t>(L.n), 0.f);
  }

  std::unique_ptr<Backend> be = use_cuda ? make_cuda_backend(L, act, std::max(B, kEvalBatch))
                                         : make_cpu_backend(L, act, std::max(B, kEvalBatch));
  be->set_state(st.params.data(), st.m.data(), st.v.data());
  const std::string device = be->device();
  const double peak = be->peak_flops();
  log("model: char-mlp V=%d C=%d E=%d H=%d %s, %lld parameters; device: %s%s", L.V, C, o.embed, o.hidden,
      o.activation.c_str(), static_cast<long long>(L.n), device.c_str(),
      peak > 0 ? (", peak FP32 " + fmt("%.1f", peak / 1e12) + " TFLOP/s").c_str() : "");

  const std::vector<std::uint32_t> eval_starts = eval_windows(val_windows, o.eval_windows, o.eval_seed);

  // Training loop.
  const std::uint64_t start_step = st.step;
  std::vector<std::int32_t> ctx(static_cast<std::size_t>(B) * C), tgt(static_cast<std::size_t>(B));
  double window_loss = 0, window_gn = 0, window_time = 0;
  std::uint64_t window_steps = 0, window_nonfinite = 0;
  double total_time = 0;
  double last_loss = NAN;
  std::string last_ckpt_path, last_ckpt_digest;
  EvalResult last_eval;
  const double flops_per_step = 6.0 * double(L.n) * double(B);

  for (std::uint64_t step = start_step + 1; step <= o.steps; step++) {
    for (int b = 0; b < B; b++) {
      std::uint64_t s = sampler.next();
      for (int c = 0; c < C; c++) ctx[std::size_t(b) * C + c] = tok.train[s + c];
      tgt[b] = tok.train[s + C];
    }
    const double lr = schedule_lr(o, step);
    auto t0 = std::chrono::steady_clock::now();
    StepSums sums = be->forward_backward(ctx.data(), tgt.data(), B, o.nan_at_step == step ? 0 : -1);
    const double loss = sums.loss_sum / double(B);
    const double grad_norm = std::sqrt(sums.grad_sumsq);
    const bool finite = std::isfinite(loss) && std::isfinite(grad_norm);
    if (finite) {
      st.adam_t++;
      AdamWArgs a;
      a.lr = static_cast<float>(lr);
      a.beta1 = static_cast<float>(kBeta1);
      a.beta2 = static_cast<float>(kBeta2);
      a.eps = static_cast<float>(kEps);
      a.weight_decay = static_cast<float>(o.weight_decay);
      a.bc1 = static_cast<float>(1.0 - std::pow(kBeta1, double(st.adam_t)));
      a.bc2 = static_cast<float>(1.0 - std::pow(kBeta2, double(st.adam_t)));
      be->adamw(a);
    } else {
      st.non_finite_steps++;
      log("step %llu: non-finite loss or gradient (loss %g, grad norm %g); update skipped",
          static_cast<unsigned long long>(step), loss, grad_norm);
    }
    be->synchronize();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    st.step = step;
    st.samples_seen += static_cast<std::uint64_t>(B);
    st.tokens_seen += static_cast<std::uint64_t>(B);
    last_loss = loss;
    total_time += dt;
    window_loss += loss;
    window_gn += grad_norm;
    window_time += dt;
    window_steps++;
    if (!finite) window_nonfinite++;

    if (step % o.log_every == 0 || step == o.steps) {
      const double mean_loss = window_loss / double(window_steps);
      const double tps = window_time > 0 ? double(window_steps) * B / window_time : 0;
      const double step_ms = window_time / double(window_steps) * 1e3;
      const double mfu = peak > 0 && window_time > 0 ? flops_per_step * double(window_steps) / window_time / peak : 0;
      events.emit("step_summary", [&](JsonWriter& w) {
        w.field("step", st.step);
        w.field("steps_covered", window_steps);
        w.field("loss", std::isfinite(mean_loss) ? mean_loss : NAN);
        w.key("metrics").begin_object();
        w.field("lr", lr);
        w.field("grad_norm", window_gn / double(window_steps));
        w.field("tokens_per_s", tps);
        w.field("step_time_ms", step_ms);
        if (peak > 0) w.field("mfu", mfu);
        w.end_object();
        w.field("non_finite_count", window_nonfinite);
        w.field("tokens_seen", st.tokens_seen);
        w.field("samples_seen", st.samples_seen);
      });
      log("step %llu/%llu loss %.4f lr %.3g grad_norm %.3f %.3f ms/step%s",
          static_cast<unsigned long long>(step), static_cast<unsigned long long>(o.steps), mean_loss, lr,
          window_gn / double(window_steps), step_ms,
          window_nonfinite ? (" non_finite " + std::to_string(window_nonfinite)).c_str() : "");
      window_loss = window_gn = window_time = 0;
      window_steps = window_nonfinite = 0;
    }

    const bool eval_now = (o.eval_every && step % o.eval_every == 0) || step == o.steps;
    const bool ckpt_now = (o.checkpoint_every && step % o.checkpoint_every == 0) || eval_now;
    if (ckpt_now) {
      be->get_state(st.params.data(), st.m.data(), st.v.data());
      st.epoch = sampler.epoch();
      st.epoch_pos = sampler.pos();
      st.windows = sampler.windows();
      st.epoch_rng = sampler.epoch_rng();
      st.rng = sampler.rng();
      std::string bytes = serialize_checkpoint(st);
      char name[64];
      std::snprintf(name, sizeof name, "ckpt-%08llu.bin", static_cast<unsigned long long>(step));
      last_ckpt_path = out_dir + "/" + name;
      write_file_atomic(last_ckpt_path, bytes);
      last_ckpt_digest = sha256_digest(bytes);
      events.emit("checkpoint_saved", [&](JsonWriter& w) {
        w.field("step", st.step);
        w.field("uri", file_uri(last_ckpt_path));
        w.field("digest", last_ckpt_digest);
        w.field("size_bytes", static_cast<std::uint64_t>(bytes.size()));
        w.key("contents").begin_object();
        w.field("model", true).field("optimizer", true).field("scheduler", true).field("rng", true);
        w.field("data_cursor", true);
        w.end_object();
        w.key("metrics").begin_object().field("loss", last_loss).end_object();
      });
      log("checkpoint: step %llu -> %s (%s)", static_cast<unsigned long long>(step), last_ckpt_path.c_str(),
          last_ckpt_digest.c_str());
    }
    if (eval_now) {
      last_eval = evaluate(*be, tok.validation, eval_starts, C);
      const std::string eval_id =
          "eval-" + sha256_hex(last_ckpt_digest + std::to_string(o.eval_seed) + "/" + std::to_string(last_eval.windows))
                        .substr(0, 12);
      events.emit("evaluation_completed", [&](JsonWriter& w) {
        w.field("eval_id", eval_id);
        w.field("checkpoint_digest", last_ckpt_digest);
        w.key("dataset");
        data.validation.write(w);
        w.field("suite_name", "char-lm-validation");
        w.field("suite_version", "1");
        w.key("decoding_params").begin_object().field("mode", "teacher-forced").end_object();
        w.field("seed", o.eval_seed);
        w.key("metrics").begin_object();
        w.field("val_loss", last_eval.loss);
        w.field("perplexity", last_eval.perplexity);
        w.field("accuracy", last_eval.accuracy);
        w.end_object();
        w.key("samples").begin_object();
        w.key("val_loss").begin_array();
        for (double v : last_eval.window_loss) w.value(v);
        w.end_array();
        w.key("accuracy").begin_array();
        for (double v : last_eval.window_correct) w.value(v);
        w.end_array();
        w.end_object();
        w.field("sample_kind", "per_sample");
      });
      log("eval: step %llu val_loss %.4f perplexity %.3f accuracy %.4f (%zu windows)",
          static_cast<unsigned long long>(step), last_eval.loss, last_eval.perplexity, last_eval.accuracy,
          last_eval.windows);
    }
  }

  if (!o.register_model.empty()) {
    const std::string version = "v" + short_hex(last_ckpt_digest);
    events.emit("model_version_registered", [&](JsonWriter& w) {
      w.field("model_name", o.register_model);
      w.field("version", version);
      w.field("checkpoint_digest", last_ckpt_digest);
      w.field("stage", "candidate");
      w.key("card").begin_object();
      w.field("architecture", "char-mlp context=" + std::to_string(C) + " embed=" + std::to_string(o.embed) +
                                  " hidden=" + std::to_string(o.hidden) + " " + o.activation);
      w.field("backend", backend_name);
      w.field("params", std::to_string(L.n));
      w.field("steps", std::to_string(st.step));
      w.field("train_dataset", data.train.digest);
      w.field("val_loss", fmt("%.4f", last_eval.loss));
      w.field("perplexity", fmt("%.4f", last_eval.perplexity));
      w.field("accuracy", fmt("%.4f", last_eval.accuracy));
      w.field("trainer", kCodeVersion);
      w.end_object();
    });
    log("registered: %s %s", o.register_model.c_str(), version.c_str());
  }

  const std::uint64_t steps_run = o.steps - start_step;
  const double mean_step_s = total_time / double(steps_run);
  JsonWriter w;
  w.begin_object();
  w.field("backend", backend_name);
  w.field("device", device);
  w.field("steps", steps_run);
  w.field("final_step", st.step);
  w.field("final_checkpoint", last_ckpt_path);
  w.field("digest", last_ckpt_digest);
  w.field("final_loss", last_loss);
  w.field("val_loss", last_eval.loss);
  w.field("steps_per_s", total_time > 0 ? double(steps_run) / total_time : 0.0);
  w.field("tokens_per_s", total_time > 0 ? double(steps_run) * B / total_time : 0.0);
  w.field("mean_step_ms", mean_step_s * 1e3);
  if (peak > 0 && mean_step_s > 0) {
    w.field("mfu", flops_per_step / mean_step_s / peak);
  } else {
    w.field_null("mfu");
  }
  w.field("params", static_cast<std::int64_t>(L.n));
  w.end_object();
  std::printf("%s\n", w.str().c_str());
  std::fflush(stdout);
  return 0;
}

}  // namespace

double schedule_lr(const Options& o, std::uint64_t step) {
  if (o.warmup_steps > 0 && step <= o.warmup_steps) return o.lr * double(step) / double(o.warmup_steps);
  if (o.schedule != "cosine") return o.lr;
  const double floor = o.lr * o.min_lr_ratio;
  if (o.decay_steps <= o.warmup_steps) return floor;
  double progress = double(step - o.warmup_steps) / double(o.decay_steps - o.warmup_steps);
  progress = std::min(1.0, std::max(0.0, progress));
  return floor + (o.lr - floor) * 0.5 * (1.0 + std::cos(3.14159265358979323846 * progress));
}

Sampler::Sampler(std::uint64_t windows, std::uint64_t seed) : perm_(windows), rng_(seed, Stream::kSampler) {
  begin_epoch();
}

void Sampler::begin_epoch() {
  epoch_rng_ = rng_;
  for (std::size_t i = 0; i < perm_.size(); i++) perm_[i] = static_cast<std::uint32_t>(i);
  for (std::size_t i = perm_.size(); i > 1; i--) {
    std::size_t j = static_cast<std::size_t>(rng_.below(i));
    std::swap(perm_[i - 1], perm_[j]);
  }
  pos_ = 0;
}

bool Sampler::restore(std::uint64_t epoch, std::uint64_t pos, const Xoshiro256& epoch_rng, const Xoshiro256& rng) {
  if (pos > perm_.size()) return false;
  rng_ = epoch_rng;
  begin_epoch();
  epoch_ = epoch;
  pos_ = pos;
  return rng_ == rng;
}

std::uint64_t Sampler::next() {
  if (pos_ == perm_.size()) {
    epoch_++;
    begin_epoch();
  }
  return perm_[pos_++];
}

int run_trainer(int argc, char** argv) {
  // A reader of the event file (or of stdout) going away must not kill training: writes then
  // fail with EPIPE, and the event sink turns itself off.
  std::signal(SIGPIPE, SIG_IGN);
  try {
    return run(argc, argv);
  } catch (const UsageError& e) {
    std::fprintf(stderr, "lineage-trainer: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "lineage-trainer: error: %s\n", e.what());
    return 1;
  }
}

}  // namespace lt
