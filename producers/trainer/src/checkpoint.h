// Checkpoint files: the complete training state in a fixed little-endian layout (see README),
// with no timestamps or paths, so equal states give byte-identical files and equal digests.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "rng.h"

namespace lt {

constexpr char kCheckpointMagic[8] = {'L', 'L', 'T', 'R', 'N', 'C', 'K', 'P'};
constexpr std::uint32_t kCheckpointVersion = 1;

struct TrainState {
  // Configuration (compatibility check on resume, and the trajectory's hyper-parameters).
  std::string vocab;  // token id -> byte
  std::uint32_t context = 0, embed = 0, hidden = 0, activation = 0;
  std::uint32_t batch_size = 0, schedule = 0;
  double lr = 0, beta1 = 0, beta2 = 0, eps = 0, weight_decay = 0;
  std::uint64_t warmup_steps = 0, decay_steps = 0;
  double min_lr_ratio = 0;
  std::uint64_t seed = 0, data_seed = 0;
  std::array<std::uint8_t, 32> train_sha256{}, validation_sha256{};
  // Progress.
  std::uint64_t step = 0;         // optimizer steps taken (including skipped non-finite ones)
  std::uint64_t adam_t = 0;       // AdamW updates applied (bias-correction counter)
  std::uint64_t samples_seen = 0;
  std::uint64_t tokens_seen = 0;
  std::uint64_t non_finite_steps = 0;
  // Sampler (data cursor): epoch, position in the epoch's permutation, the RNG state the
  // permutation was drawn from, and the RNG state after it.
  std::uint64_t epoch = 0, epoch_pos = 0, windows = 0;
  Xoshiro256 epoch_rng, rng;
  // Tensors, ParamLayout order: parameters, AdamW first moments, AdamW second moments.
  std::vector<float> params, m, v;
};

std::string serialize_checkpoint(const TrainState& s);
// Parses and verifies (magic, version, sizes, trailing SHA-256). Throws UsageError naming
// `where` and what is wrong.
TrainState parse_checkpoint(const std::string& bytes, const std::string& where);
std::array<std::uint8_t, 32> sha256_raw(const std::string& bytes);

}  // namespace lt
