#include "manifest.h"

#include <cstdint>
#include <stdexcept>
#include <utility>

#include "json.h"
#include "sha256.h"
#include "util.h"

namespace lt {

namespace {

// Configuration keys of config_snapshot (flattened as the ledger stores them) and the flag
// each came from. Keys not listed (backend, register_model, derived values) are not flags
// that shape the resumed training.
const std::pair<const char*, const char*> kConfigFlags[] = {
    {"steps", "--steps"},
    {"seed", "--seed"},
    {"batch_size", "--batch-size"},
    {"model.context", "--context"},
    {"model.embed", "--embed"},
    {"model.hidden", "--hidden"},
    {"model.activation", "--activation"},
    {"optimizer.lr", "--lr"},
    {"optimizer.weight_decay", "--weight-decay"},
    {"schedule.name", "--schedule"},
    {"schedule.warmup_steps", "--warmup-steps"},
    {"schedule.decay_steps", "--decay-steps"},
    {"schedule.min_lr_ratio", "--min-lr-ratio"},
    {"data.seed", "--data-seed"},
    {"data.min_line_chars", "--min-line-chars"},
    {"data.max_line_chars", "--max-line-chars"},
    {"eval.seed", "--eval-seed"},
    {"eval.windows", "--eval-windows"},
    {"eval.every", "--eval-every"},
    {"checkpoint_every", "--checkpoint-every"},
    {"log_every", "--log-every"},
};

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

ResumeManifest read_resume_manifest(const std::string& path) {
  auto bad = [&](const std::string& why) { return UsageError("--resume-manifest " + path + ": " + why); };
  std::string text;
  try {
    text = read_file(path);
  } catch (const std::exception& e) {
    throw bad(e.what());
  }
  JsonValue doc;
  try {
    doc = parse_json(text);
  } catch (const std::exception& e) {
    throw bad(std::string(e.what()) + " (write it with `ledger replay RUN --to-step N --output json`)");
  }
  auto string_at = [&](const JsonValue* v, const std::string& where) {
    if (!v || v->kind != JsonValue::Kind::String || v->text.empty()) throw bad(where + " must be a non-empty string");
    return v->text;
  };
  if (doc.kind != JsonValue::Kind::Object) throw bad("not a JSON object");
  const JsonValue* format = doc.get("manifest");
  if (!format || format->kind != JsonValue::Kind::String || format->text != "lineage-ledger/resume/1") {
    throw bad("not a resume manifest of format lineage-ledger/resume/1 (its \"manifest\" field)");
  }
  ResumeManifest m;
  m.run_id = string_at(doc.get("run_id"), "run_id");
  const JsonValue* to_step = doc.get("to_step");
  if (!to_step || to_step->kind != JsonValue::Kind::Number) throw bad("to_step must be a number");
  m.to_step = std::stoull(to_step->text);

  const JsonValue* ck = doc.get("checkpoint");
  if (!ck || ck->kind != JsonValue::Kind::Object) throw bad("checkpoint must be an object");
  std::string uri = string_at(ck->get("uri"), "checkpoint.uri");
  m.checkpoint_digest = string_at(ck->get("digest"), "checkpoint.digest");
  if (uri.rfind("file://", 0) != 0) {
    throw bad("checkpoint.uri " + uri + " is not a local file; copy the checkpoint here and resume with --resume PATH");
  }
  for (std::size_t i = 7; i < uri.size(); i++) {
    if (uri[i] == '%' && i + 2 < uri.size() && hex_value(uri[i + 1]) >= 0 && hex_value(uri[i + 2]) >= 0) {
      m.checkpoint_path.push_back(static_cast<char>(hex_value(uri[i + 1]) * 16 + hex_value(uri[i + 2])));
      i += 2;
    } else {
      m.checkpoint_path.push_back(uri[i]);
    }
  }
  std::string bytes;
  try {
    bytes = read_file(m.checkpoint_path);
  } catch (const std::exception& e) {
    throw bad("the checkpoint of step " + (ck->get("step") ? ck->get("step")->text : std::string("?")) + " cannot be read: " + e.what());
  }
  std::string actual = sha256_digest(bytes);
  if (actual != m.checkpoint_digest) {
    throw bad("the checkpoint at " + m.checkpoint_path + " has digest " + actual + ", the ledger recorded " +
              m.checkpoint_digest + " (the file was changed or replaced)");
  }

  const JsonValue* datasets = doc.get("datasets");
  if (datasets && datasets->kind == JsonValue::Kind::Array) {
    for (const auto& d : datasets->items) {
      const JsonValue* role = d.get("role");
      const JsonValue* digest = d.get("digest");
      if (!role || !digest || role->kind != JsonValue::Kind::String || digest->kind != JsonValue::Kind::String) continue;
      if (role->text == "train") m.train_digest = digest->text;
      if (role->text == "validation") m.validation_digest = digest->text;
    }
  }

  const JsonValue* config = doc.get("config");
  const JsonValue* params = config ? config->get("params") : nullptr;
  if (!params || params->kind != JsonValue::Kind::Object) throw bad("config.params must be an object");
  for (const auto& kv : kConfigFlags) {
    const JsonValue* v = params->get(kv.first);
    if (!v) continue;
    if (v->kind != JsonValue::Kind::Number && v->kind != JsonValue::Kind::String) {
      throw bad(std::string("config.params['") + kv.first + "'] must be a number or a string");
    }
    m.args.push_back(kv.second);
    m.args.push_back(v->text);
  }
  m.args.push_back("--resume");
  m.args.push_back(m.checkpoint_path);
  return m;
}

}  // namespace lt
