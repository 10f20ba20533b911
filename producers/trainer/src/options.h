// Command-line options of lineage-trainer.
#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace lt {

struct Options {
  // training
  std::uint64_t steps = 300;  // total target step count, also when resuming
  std::uint64_t seed = 42;
  double lr = 3e-3;
  int batch_size = 32;
  double weight_decay = 0.01;
  std::string schedule = "constant";  // constant | cosine
  std::uint64_t warmup_steps = 0;
  std::uint64_t decay_steps = 0;  // cosine horizon; 0 = --steps
  double min_lr_ratio = 0.1;
  // model
  int context = 8;
  int embed = 16;
  int hidden = 128;
  std::string activation = "tanh";  // tanh | gelu
  // data
  std::string corpus;
  std::uint64_t data_seed = 42;
  int min_line_chars = 8;
  int max_line_chars = 400;
  // periodic work
  std::uint64_t checkpoint_every = 100;
  std::uint64_t log_every = 10;
  std::uint64_t eval_every = 0;
  std::uint64_t eval_seed = 1234;
  int eval_windows = 2048;
  // resume and fault injection
  std::string resume;
  bool resume_without_optimizer_state = false;
  std::uint64_t nan_at_step = 0;  // 0 = off
  // outputs
  std::string register_model;
  std::string out = "./trainer-out";
  std::string events;
  std::string backend = "auto";  // auto | cpu | cuda
  bool help = false;

  // Flags given on the command line that shape the experiment (not --out, --events,
  // --corpus), flag name -> value as given; the "cli" configuration layer.
  std::map<std::string, std::string> cli_layer;
};

// Parses argv; throws UsageError naming the offending flag.
Options parse_options(int argc, char** argv, const std::string& default_corpus);
std::string usage_text(const std::string& default_corpus);

}  // namespace lt
