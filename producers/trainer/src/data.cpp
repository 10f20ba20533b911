#include "data.h"

#include <algorithm>
#include <array>
#include <stdexcept>
#include <unordered_set>

#include "rng.h"
#include "sha256.h"
#include "util.h"

namespace lt {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t i = 0;
  while (i < text.size()) {
    std::size_t nl = text.find('\n', i);
    if (nl == std::string::npos) nl = text.size();
    lines.emplace_back(text, i, nl - i);
    i = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  std::size_t total = 0;
  for (const auto& l : lines) total += l.size() + 1;
  out.reserve(total);
  for (const auto& l : lines) {
    out += l;
    out.push_back('\n');
  }
  return out;
}

std::string normalize_line(const std::string& line) {
  // Bytes >= 0x80 pass through unchanged, so UTF-8 text is never split or altered.
  std::string out;
  out.reserve(line.size());
  bool pending_space = false;
  for (unsigned char c : line) {
    bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
    if (ws) {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) {
      out.push_back(' ');
      pending_space = false;
    }
    if (c >= 'A' && c <= 'Z') c = static_cast<unsigned char>(c - 'A' + 'a');
    out.push_back(static_cast<char>(c));
  }
  return out;
}

namespace {

struct Stage {
  Stage(std::string n, std::string p) : name(std::move(n)), params_json(std::move(p)) {}
  std::string name;
  std::string params_json;
  bool has_seed = false;
  std::uint64_t seed = 0;
  std::vector<std::pair<std::string, std::int64_t>> stats;
};

DatasetRef describe(const std::string& name, const std::string& path, const std::string& bytes, std::size_t records) {
  DatasetRef ref;
  ref.name = name;
  ref.digest = sha256_digest(bytes);
  ref.uri = file_uri(path);
  ref.size_bytes = static_cast<std::int64_t>(bytes.size());
  ref.record_count = static_cast<std::int64_t>(records);
  return ref;
}

DatasetRef write_stage_output(const DataOptions& opt, const std::string& stem, const std::string& suffix,
                              const std::vector<std::string>& lines) {
  std::string bytes = join_lines(lines);
  std::string path = opt.out_dir + "/" + stem + "." + suffix + ".txt";
  write_file_atomic(path, bytes);
  return describe(stem + "." + suffix, path, bytes, lines.size());
}

void emit_stage(EventSink& events, const Stage& st, const std::string& code_version,
                const std::vector<const DatasetRef*>& inputs, const std::vector<const DatasetRef*>& outputs,
                std::int64_t started, std::int64_t ended) {
  std::string id_source = inputs.front()->digest + st.params_json;
  std::string transform_id = st.name + "-" + sha256_hex(id_source).substr(0, 12);
  events.emit("data_transform_applied", [&](JsonWriter& w) {
    w.field("transform_id", transform_id);
    w.field("transform_name", st.name);
    w.field("code_version", code_version);
    w.key("params").raw(st.params_json);
    if (st.has_seed) w.field("seed", st.seed);
    w.key("inputs").begin_array();
    for (const auto* in : inputs) in->write(w);
    w.end_array();
    w.key("outputs").begin_array();
    for (const auto* out : outputs) out->write(w);
    w.end_array();
    w.key("stats").begin_object();
    for (const auto& kv : st.stats) w.field(kv.first, kv.second);
    w.end_object();
    w.field("started_at", iso8601_micros(started));
    w.field("ended_at", iso8601_micros(ended));
  });
}

}  // namespace

PipelineResult run_pipeline(const DataOptions& opt, EventSink& events, const std::string& code_version) {
  PipelineResult r;
  std::string corpus_abs = absolute_path(opt.corpus_path);
  std::string raw_bytes;
  try {
    raw_bytes = read_file(corpus_abs);
  } catch (const std::exception& e) {
    throw UsageError(std::string("--corpus: ") + e.what());
  }
  std::vector<std::string> raw_lines = split_lines(raw_bytes);
  std::string stem = file_stem(corpus_abs);
  r.raw = describe(stem + ".raw", corpus_abs, raw_bytes, raw_lines.size());

  // normalize
  std::int64_t t0 = now_micros();
  std::vector<std::string> norm;
  norm.reserve(raw_lines.size());
  std::int64_t changed = 0;
  for (const auto& l : raw_lines) {
    norm.push_back(normalize_line(l));
    if (norm.back() != l) changed++;
  }
  r.normalized = write_stage_output(opt, stem, "normalized", norm);
  Stage normalize{"normalize",
                  R"({"lowercase":"ascii","collapse_whitespace":true,"strip":true,"non_ascii":"unchanged"})"};
  normalize.stats = {{"rows_in", std::int64_t(raw_lines.size())},
                     {"rows_out", std::int64_t(norm.size())},
                     {"rows_changed", changed},
                     {"bytes_in", r.raw.size_bytes},
                     {"bytes_out", r.normalized.size_bytes}};
  emit_stage(events, normalize, code_version, {&r.raw}, {&r.normalized}, t0, now_micros());

  // dedupe: exact duplicate lines, first occurrence kept
  t0 = now_micros();
  std::vector<std::string> dedup;
  std::unordered_set<std::string> seen;
  for (const auto& l : norm) {
    if (seen.insert(l).second) dedup.push_back(l);
  }
  r.deduped = write_stage_output(opt, stem, "deduped", dedup);
  Stage dedupe{"dedupe", R"({"keep":"first","match":"exact_line"})"};
  dedupe.stats = {{"rows_in", std::int64_t(norm.size())},
                  {"rows_out", std::int64_t(dedup.size())},
                  {"duplicates", std::int64_t(norm.size() - dedup.size())}};
  emit_stage(events, dedupe, code_version, {&r.normalized}, {&r.deduped}, t0, now_micros());

  // filter: by line length in bytes
  t0 = now_micros();
  std::vector<std::string> kept;
  std::int64_t too_short = 0, too_long = 0;
  for (const auto& l : dedup) {
    if (static_cast<int>(l.size()) < opt.min_line_chars) {
      too_short++;
    } else if (static_cast<int>(l.size()) > opt.max_line_chars) {
      too_long++;
    } else {
      kept.push_back(l);
    }
  }
  r.filtered = write_stage_output(opt, stem, "filtered", kept);
  Stage filter{"filter", "{\"min_line_chars\":" + std::to_string(opt.min_line_chars) +
                             ",\"max_line_chars\":" + std::to_string(opt.max_line_chars) + "}"};
  filter.stats = {{"rows_in", std::int64_t(dedup.size())},
                  {"rows_out", std::int64_t(kept.size())},
                  {"filtered", too_short + too_long},
                  {"too_short", too_short},
                  {"too_long", too_long}};
  emit_stage(events, filter, code_version, {&r.deduped}, {&r.filtered}, t0, now_micros());

  // split: seeded Fisher-Yates shuffle, then the first 90% train, the rest validation
  t0 = now_micros();
  if (kept.size() < 2) {
    throw UsageError("the corpus has " + std::to_string(kept.size()) +
                     " usable lines after filtering; at least 2 are needed for a train/validation split");
  }
  std::vector<std::string> shuffled = kept;
  Xoshiro256 rng(opt.seed, Stream::kSplit);
  for (std::size_t i = shuffled.size() - 1; i > 0; i--) {
    std::size_t j = static_cast<std::size_t>(rng.below(i + 1));
    std::swap(shuffled[i], shuffled[j]);
  }
  std::size_t n_val = std::max<std::size_t>(1, shuffled.size() / 10);
  std::size_t n_train = shuffled.size() - n_val;
  std::vector<std::string> train(shuffled.begin(), shuffled.begin() + static_cast<std::ptrdiff_t>(n_train));
  std::vector<std::string> val(shuffled.begin() + static_cast<std::ptrdiff_t>(n_train), shuffled.end());
  r.train = write_stage_output(opt, stem, "train", train);
  r.validation = write_stage_output(opt, stem, "validation", val);
  r.train_text = join_lines(train);
  r.validation_text = join_lines(val);
  Stage split{"split", "{\"train_fraction\":0.9,\"validation_fraction\":0.1,\"shuffle\":\"fisher-yates\","
                       "\"rng\":\"xoshiro256**\",\"seed\":" + std::to_string(opt.seed) + "}"};
  split.has_seed = true;
  split.seed = opt.seed;
  split.stats = {{"rows_in", std::int64_t(kept.size())},
                 {"rows_out", std::int64_t(train.size() + val.size())},
                 {"train_rows", std::int64_t(train.size())},
                 {"validation_rows", std::int64_t(val.size())}};
  emit_stage(events, split, code_version, {&r.filtered}, {&r.train, &r.validation}, t0, now_micros());
  return r;
}

TokenData tokenize(const std::string& train_text, const std::string& validation_text) {
  std::array<bool, 256> present{};
  for (unsigned char c : train_text) present[c] = true;
  for (unsigned char c : validation_text) present[c] = true;
  TokenData t;
  std::array<std::int32_t, 256> id{};
  for (int c = 0; c < 256; c++) {
    if (present[c]) {
      id[c] = static_cast<std::int32_t>(t.vocab.size());
      t.vocab.push_back(static_cast<char>(c));
    }
  }
  t.train.reserve(train_text.size());
  for (unsigned char c : train_text) t.train.push_back(id[c]);
  t.validation.reserve(validation_text.size());
  for (unsigned char c : validation_text) t.validation.push_back(id[c]);
  return t;
}

}  // namespace lt
