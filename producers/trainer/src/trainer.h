// The training run: configuration, data pipeline, training loop, checkpoints, evaluation
// and the events that describe them.
#pragma once

#include <cstdint>
#include <vector>

#include "options.h"
#include "rng.h"

namespace lt {

// Learning rate at 1-based step `step`: linear warmup, then constant or cosine decay to
// lr * min_lr_ratio at decay_steps.
double schedule_lr(const Options& o, std::uint64_t step);

// Training-window order: a fresh seeded permutation of all windows per epoch. Its state is
// (epoch, position, RNG state the permutation was drawn from), which checkpoints store.
class Sampler {
 public:
  Sampler(std::uint64_t windows, std::uint64_t seed);
  // Re-creates the state a checkpoint recorded; returns false if the stored post-shuffle RNG
  // state does not match (a checkpoint from other data).
  bool restore(std::uint64_t epoch, std::uint64_t pos, const Xoshiro256& epoch_rng, const Xoshiro256& rng);
  std::uint64_t next();

  std::uint64_t windows() const { return perm_.size(); }
  std::uint64_t epoch() const { return epoch_; }
  std::uint64_t pos() const { return pos_; }
  const Xoshiro256& epoch_rng() const { return epoch_rng_; }
  const Xoshiro256& rng() const { return rng_; }

 private:
  void begin_epoch();
  std::vector<std::uint32_t> perm_;
  std::uint64_t epoch_ = 0, pos_ = 0;
  Xoshiro256 epoch_rng_, rng_;
};

// Runs lineage-trainer; returns the exit status.
int run_trainer(int argc, char** argv);

}  // namespace lt
