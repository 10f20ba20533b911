// The data pipeline that runs before training: normalize -> dedupe -> filter -> split.
// Every stage writes its output file into the output directory and emits one
// data_transform_applied event naming its input and output dataset versions by digest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "events.h"

namespace lt {

struct DataOptions {
  std::string corpus_path;  // raw text, one record per line
  std::string out_dir;      // absolute
  std::uint64_t seed = 42;  // split shuffle seed
  int min_line_chars = 8;
  int max_line_chars = 400;
};

struct PipelineResult {
  DatasetRef raw, normalized, deduped, filtered, train, validation;
  std::string train_text;       // train split, lines joined with '\n'
  std::string validation_text;  // validation split, lines joined with '\n'
};

// Fraction of the filtered lines that go to the train split (the rest is validation).
constexpr double kTrainFraction = 0.9;

// The stage functions, exposed for tests. Lines never contain '\n'.
std::vector<std::string> split_lines(const std::string& text);
std::string join_lines(const std::vector<std::string>& lines);
std::string normalize_line(const std::string& line);

PipelineResult run_pipeline(const DataOptions& opt, EventSink& events, const std::string& code_version);

// Byte-level vocabulary and token streams.
struct TokenData {
  std::string vocab;  // distinct bytes of train + validation, ascending; token id = index
  std::vector<std::int32_t> train;
  std::vector<std::int32_t> validation;
};
TokenData tokenize(const std::string& train_text, const std::string& validation_text);

}  // namespace lt
