#include "checkpoint.h"

#include <cstring>

#include "sha256.h"
#include "util.h"

namespace lt {
namespace {

class Writer {
 public:
  void u32(std::uint32_t x) {
    for (int i = 0; i < 4; i++) out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
  }
  void u64(std::uint64_t x) {
    for (int i = 0; i < 8; i++) out.push_back(static_cast<char>((x >> (8 * i)) & 0xFF));
  }
  void f64(double d) {
    std::uint64_t x;
    std::memcpy(&x, &d, 8);
    u64(x);
  }
  void bytes(const void* p, std::size_t n) { out.append(static_cast<const char*>(p), n); }
  void floats(const std::vector<float>& v) {
    for (float f : v) {
      std::uint32_t x;
      std::memcpy(&x, &f, 4);
      u32(x);
    }
  }
  void rng(const Xoshiro256& r) {
    for (auto w : r.s) u64(w);
  }
  std::string out;
};

class Reader {
 public:
  Reader(const std::string& b, std::size_t end, const std::string& where) : b_(b), end_(end), where_(where) {}
  void need(std::size_t n) {
    if (pos_ + n > end_) throw UsageError(where_ + ": checkpoint is truncated");
  }
  std::uint32_t u32() {
    need(4);
    std::uint32_t x = 0;
    for (int i = 0; i < 4; i++) x |= std::uint32_t(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += 4;
    return x;
  }
  std::uint64_t u64() {
    need(8);
    std::uint64_t x = 0;
    for (int i = 0; i < 8; i++) x |= std::uint64_t(static_cast<unsigned char>(b_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return x;
  }
  double f64() {
    std::uint64_t x = u64();
    double d;
    std::memcpy(&d, &x, 8);
    return d;
  }
  void bytes(void* p, std::size_t n) {
    need(n);
    std::memcpy(p, b_.data() + pos_, n);
    pos_ += n;
  }
  std::vector<float> floats(std::uint64_t n) {
    if (n > (end_ - pos_) / 4) throw UsageError(where_ + ": checkpoint is truncated");
    std::vector<float> v(n);
    for (auto& f : v) {
      std::uint32_t x = u32();
      std::memcpy(&f, &x, 4);
    }
    return v;
  }
  void rng(Xoshiro256& r) {
    for (auto& w : r.s) w = u64();
  }
  std::size_t pos() const { return pos_; }

 private:
  const std::string& b_;
  std::size_t end_;
  std::string where_;
  std::size_t pos_ = 0;
};

}  // namespace

std::array<std::uint8_t, 32> sha256_raw(const std::string& bytes) {
  Sha256 h;
  h.update(bytes);
  return h.finish();
}

std::string serialize_checkpoint(const TrainState& s) {
  Writer w;
  w.bytes(kCheckpointMagic, 8);
  w.u32(kCheckpointVersion);
  w.u32(0);  // flags, reserved
  // config
  w.u32(static_cast<std::uint32_t>(s.vocab.size()));
  w.bytes(s.vocab.data(), s.vocab.size());
  w.u32(s.context);
  w.u32(s.embed);
  w.u32(s.hidden);
  w.u32(s.activation);
  w.u32(s.batch_size);
  w.u32(s.schedule);
  w.f64(s.lr);
  w.f64(s.beta1);
  w.f64(s.beta2);
  w.f64(s.eps);
  w.f64(s.weight_decay);
  w.u64(s.warmup_steps);
  w.u64(s.decay_steps);
  w.f64(s.min_lr_ratio);
  w.u64(s.seed);
  w.u64(s.data_seed);
  w.bytes(s.train_sha256.data(), 32);
  w.bytes(s.validation_sha256.data(), 32);
  // progress
  w.u64(s.step);
  w.u64(s.adam_t);
  w.u64(s.samples_seen);
  w.u64(s.tokens_seen);
  w.u64(s.non_finite_steps);
  // sampler
  w.u64(s.epoch);
  w.u64(s.epoch_pos);
  w.u64(s.windows);
  w.rng(s.epoch_rng);
  w.rng(s.rng);
  // tensors
  w.u64(s.params.size());
  w.floats(s.params);
  w.floats(s.m);
  w.floats(s.v);
  // trailer: SHA-256 of everything above
  auto digest = sha256_raw(w.out);
  w.bytes(digest.data(), digest.size());
  return w.out;
}

TrainState parse_checkpoint(const std::string& bytes, const std::string& where) {
  if (bytes.size() < 8 + 8 + 32 || std::memcmp(bytes.data(), kCheckpointMagic, 8) != 0) {
    throw UsageError(where + ": not a lineage-trainer checkpoint (bad magic)");
  }
  std::size_t body = bytes.size() - 32;
  auto digest = sha256_raw(bytes.substr(0, body));
  if (std::memcmp(digest.data(), bytes.data() + body, 32) != 0) {
    throw UsageError(where + ": checkpoint is corrupt (trailing SHA-256 does not match its contents)");
  }
  Reader r(bytes, body, where);
  char magic[8];
  r.bytes(magic, 8);
  std::uint32_t version = r.u32();
  if (version != kCheckpointVersion) {
    throw UsageError(where + ": checkpoint format version " + std::to_string(version) + " is not supported (this trainer reads " +
                     std::to_string(kCheckpointVersion) + ")");
  }
  r.u32();  // flags
  TrainState s;
  std::uint32_t vsize = r.u32();
  if (vsize == 0 || vsize > 256) throw UsageError(where + ": checkpoint has an invalid vocabulary size");
  s.vocab.resize(vsize);
  r.bytes(&s.vocab[0], vsize);
  s.context = r.u32();
  s.embed = r.u32();
  s.hidden = r.u32();
  s.activation = r.u32();
  s.batch_size = r.u32();
  s.schedule = r.u32();
  s.lr = r.f64();
  s.beta1 = r.f64();
  s.beta2 = r.f64();
  s.eps = r.f64();
  s.weight_decay = r.f64();
  s.warmup_steps = r.u64();
  s.decay_steps = r.u64();
  s.min_lr_ratio = r.f64();
  s.seed = r.u64();
  s.data_seed = r.u64();
  r.bytes(s.train_sha256.data(), 32);
  r.bytes(s.validation_sha256.data(), 32);
  s.step = r.u64();
  s.adam_t = r.u64();
  s.samples_seen = r.u64();
  s.tokens_seen = r.u64();
  s.non_finite_steps = r.u64();
  s.epoch = r.u64();
  s.epoch_pos = r.u64();
  s.windows = r.u64();
  r.rng(s.epoch_rng);
  r.rng(s.rng);
  std::uint64_t n = r.u64();
  s.params = r.floats(n);
  s.m = r.floats(n);
  s.v = r.floats(n);
  if (r.pos() != body) throw UsageError(where + ": checkpoint has trailing bytes");
  return s;
}

}  // namespace lt
