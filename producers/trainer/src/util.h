// Small helpers: wall-clock timestamps, file I/O with durable atomic replace, paths and URIs.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>

namespace lt {

// Thrown for errors the user can fix by changing arguments (exit status 2).
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// Microseconds since the Unix epoch, from the system clock.
std::int64_t now_micros();
// ISO-8601 UTC with microseconds, e.g. 2026-11-22T10:15:30.123456Z.
std::string iso8601_micros(std::int64_t micros);
inline std::string now_iso8601() { return iso8601_micros(now_micros()); }

// Reads a whole file; throws std::runtime_error naming the path on failure.
std::string read_file(const std::string& path);
// Writes bytes to path atomically and durably: a temporary file in the same directory,
// fflush + fsync, rename over path, then fsync of the directory.
void write_file_atomic(const std::string& path, const std::string& bytes);
// mkdir -p.
void make_dirs(const std::string& path);
// Absolute, lexically normalised form of path (no symlink resolution needed).
std::string absolute_path(const std::string& path);
// file:// URI of an absolute path, percent-encoding bytes outside the unreserved set and '/'.
std::string file_uri(const std::string& abs_path);
// Final path component without its last extension ("data/corpus.txt" -> "corpus").
std::string file_stem(const std::string& path);
// Human-readable name of the host CPU (from /proc/cpuinfo where available).
std::string cpu_name();

}  // namespace lt
