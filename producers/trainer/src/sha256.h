// SHA-256 (FIPS 180-4), self-contained so the trainer has no crypto dependency.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace lt {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t len);
  void update(std::string_view s) { update(s.data(), s.size()); }
  std::array<std::uint8_t, 32> finish();

 private:
  void block(const std::uint8_t* p);
  std::uint32_t h_[8];
  std::uint8_t buf_[64];
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string to_hex(const std::uint8_t* p, std::size_t n);
// Lowercase hex of the SHA-256 of the bytes.
std::string sha256_hex(const void* data, std::size_t len);
inline std::string sha256_hex(std::string_view s) { return sha256_hex(s.data(), s.size()); }
// "sha256:<64 lowercase hex>", the digest form used in every event.
inline std::string sha256_digest(std::string_view s) { return "sha256:" + sha256_hex(s); }
// The first 12 hex characters of a "sha256:<hex>" digest (the version label of a dataset or model).
std::string short_hex(const std::string& digest);

}  // namespace lt
