// Portable, checkpointable pseudo-random numbers: splitmix64 for seeding and
// xoshiro256** (Blackman & Vigna) for streams. The whole state is four 64-bit words.
#pragma once

#include <cstdint>

namespace lt {

inline std::uint64_t splitmix64(std::uint64_t& state) {
  std::uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

// Stream identifiers, so one seed gives independent streams for each use.
enum class Stream : std::uint64_t {
  kInit = 0x696e6974ULL,      // weight initialisation
  kSampler = 0x73616d70ULL,   // training batch order
  kSplit = 0x73706c74ULL,     // train/validation split
  kEval = 0x6576616cULL,      // evaluation windows
};

class Xoshiro256 {
 public:
  Xoshiro256() = default;
  Xoshiro256(std::uint64_t seed, Stream stream) { reseed(seed, stream); }

  void reseed(std::uint64_t seed, Stream stream) {
    std::uint64_t sm = seed ^ (static_cast<std::uint64_t>(stream) * 0xD1B54A32D192ED03ULL);
    for (auto& w : s) w = splitmix64(sm);
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
    const std::uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
  }

  // Uniform integer in [0, n) by multiply-high (n > 0).
  std::uint64_t below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
  }

  // Uniform float in [0, 1) with 24 random bits (exactly representable).
  float uniform01() { return static_cast<float>(next() >> 40) * (1.0f / 16777216.0f); }

  bool operator==(const Xoshiro256& o) const {
    return s[0] == o.s[0] && s[1] == o.s[1] && s[2] == o.s[2] && s[3] == o.s[3];
  }
  bool operator!=(const Xoshiro256& o) const { return !(*this == o); }

  std::uint64_t s[4] = {1, 2, 3, 4};

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
};

}  // namespace lt
