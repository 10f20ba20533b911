// Checks an NDJSON event file written by lineage-trainer: every line is strict JSON (RFC 8259,
// no duplicate keys), every event has only the fields the ledger's NDJSON protocol accepts
// for its type with the right JSON types, digests and timestamps are well formed, and the
// events of each run come in the documented order with consistent lineage (each stage reads
// what the previous one wrote, the bound datasets are the split's outputs, evaluations name a
// checkpoint written before them).
//
// usage: lineage-trainer-event-check FILE [--expect-nonfinite-at STEP] [--expect-final-step N]
//                                         [--expect-registered] [--expect-runs N] [--expect-evals N]
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace {

struct Value {
  enum Kind { Null, Bool, Number, String, Array, Object } kind = Null;
  bool b = false;
  bool integral = false;
  double num = 0;
  std::string str;  // string value, or the number's text
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> fields;

  const Value* get(const std::string& k) const {
    for (const auto& f : fields) {
      if (f.first == k) return &f.second;
    }
    return nullptr;
  }
};

class Parser {
 public:
  explicit Parser(const std::string& s) : s_(s) {}

  bool parse(Value& out, std::string& err) {
    try {
      ws();
      value(out, 0);
      ws();
      if (i_ != s_.size()) fail("trailing characters");
      return true;
    } catch (const std::string& e) {
      err = e + " at column " + std::to_string(i_ + 1);
      return false;
    }
  }

 private:
  [[noreturn]] void fail(const std::string& why) { throw why; }
  char peek() const { return i_ < s_.size() ? s_[i_] : '\0'; }
  void ws() {
    while (i_ < s_.size() && (s_[i_] == ' ' || s_[i_] == '\t' || s_[i_] == '\n' || s_[i_] == '\r')) i_++;
  }
  void expect(char c) {
    if (peek() != c) fail(std::string("expected '") + c + "'");
    i_++;
  }
  void literal(const char* word) {
    std::size_t n = std::strlen(word);
    if (s_.compare(i_, n, word) != 0) fail("invalid literal");
    i_ += n;
  }

  void value(Value& v, int depth) {
    if (depth > 64) fail("nesting too deep");
    char c = peek();
    if (c == '{') {
      v.kind = Value::Object;
      i_++;
      ws();
      if (peek() == '}') {
        i_++;
        return;
      }
      std::set<std::string> keys;
      while (true) {
        ws();
        if (peek() != '"') fail("expected a key");
        std::string k = string();
        if (!keys.insert(k).second) fail("duplicate key '" + k + "'");
        ws();
        expect(':');
        ws();
        Value item;
        value(item, depth + 1);
        v.fields.emplace_back(k, std::move(item));
        ws();
        if (peek() == ',') {
          i_++;
          continue;
        }
        expect('}');
        return;
      }
    }
    if (c == '[') {
      v.kind = Value::Array;
      i_++;
      ws();
      if (peek() == ']') {
        i_++;
        return;
      }
      while (true) {
        ws();
        Value item;
        value(item, depth + 1);
        v.items.push_back(std::move(item));
        ws();
        if (peek() == ',') {
          i_++;
          continue;
        }
        expect(']');
        return;
      }
    }
    if (c == '"') {
      v.kind = Value::String;
      v.str = string();
      return;
    }
    if (c == 't') {
      literal("true");
      v.kind = Value::Bool;
      v.b = true;
      return;
    }
    if (c == 'f') {
      literal("false");
      v.kind = Value::Bool;
      return;
    }
    if (c == 'n') {
      literal("null");
      v.kind = Value::Null;
      return;
    }
    number(v);
  }

  static bool digit(char c) { return c >= '0' && c <= '9'; }

  void number(Value& v) {
    std::size_t start = i_;
    bool integral = true;
    if (peek() == '-') i_++;
    if (peek() == '0') {
      i_++;
    } else if (digit(peek())) {
      while (digit(peek())) i_++;
    } else {
      fail("invalid value");
    }
    if (peek() == '.') {
      integral = false;
      i_++;
      if (!digit(peek())) fail("digit expected after '.'");
      while (digit(peek())) i_++;
    }
    if (peek() == 'e' || peek() == 'E') {
      integral = false;
      i_++;
      if (peek() == '+' || peek() == '-') i_++;
      if (!digit(peek())) fail("digit expected in exponent");
      while (digit(peek())) i_++;
    }
    v.kind = Value::Number;
    v.integral = integral;
    v.str = s_.substr(start, i_ - start);
    v.num = std::strtod(v.str.c_str(), nullptr);
  }

  static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  unsigned hex4() {
    unsigned x = 0;
    for (int k = 0; k < 4; k++) {
      int h = hexval(peek());
      if (h < 0) fail("invalid \\u escape");
      x = x * 16 + unsigned(h);
      i_++;
    }
    return x;
  }

  static void utf8(std::string& out, unsigned cp) {
    if (cp < 0x80) {
      out.push_back(char(cp));
    } else if (cp < 0x800) {
      out.push_back(char(0xC0 | (cp >> 6)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out.push_back(char(0xE0 | (cp >> 12)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    } else {
      out.push_back(char(0xF0 | (cp >> 18)));
      out.push_back(char(0x80 | ((cp >> 12) & 0x3F)));
      out.push_back(char(0x80 | ((cp >> 6) & 0x3F)));
      out.push_back(char(0x80 | (cp & 0x3F)));
    }
  }

  std::string string() {
    expect('"');
    std::string out;
    while (true) {
      if (i_ >= s_.size()) fail("unterminated string");
      unsigned char c = static_cast<unsigned char>(s_[i_]);
      if (c == '"') {
        i_++;
        return out;
      }
      if (c < 0x20) fail("unescaped control character in string");
      if (c == '\\') {
        i_++;
        char e = peek();
        i_++;
        switch (e) {
          case '"': out.push_back('"'); break;
          case '\\': out.push_back('\\'); break;
          case '/': out.push_back('/'); break;
          case 'b': out.push_back('\b'); break;
          case 'f': out.push_back('\f'); break;
          case 'n': out.push_back('\n'); break;
          case 'r': out.push_back('\r'); break;
          case 't': out.push_back('\t'); break;
          case 'u': {
            unsigned cp = hex4();
            if (cp >= 0xD800 && cp <= 0xDBFF) {
              if (peek() != '\\') fail("lone high surrogate");
              i_++;
              if (peek() != 'u') fail("lone high surrogate");
              i_++;
              unsigned lo = hex4();
              if (lo < 0xDC00 || lo > 0xDFFF) fail("invalid low surrogate");
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
              fail("lone low surrogate");
            }
            utf8(out, cp);
            break;
          }
          default: fail("invalid escape");
        }
        continue;
      }
      if (c >= 0x80) {
        // Validate one UTF-8 sequence.
        int n = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
        if (n == 0 || i_ + n > s_.size()) fail("invalid UTF-8");
        for (int k = 1; k < n; k++) {
          if ((static_cast<unsigned char>(s_[i_ + k]) & 0xC0) != 0x80) fail("invalid UTF-8");
        }
        out.append(s_, i_, n);
        i_ += n;
        continue;
      }
      out.push_back(char(c));
      i_++;
    }
  }

  const std::string& s_;
  std::size_t i_ = 0;
};

// ---------------------------------------------------------------------------------------
// Protocol checks

std::vector<std::string> errors;
int line_no = 0;

void error(const std::string& what) { errors.push_back("line " + std::to_string(line_no) + ": " + what); }

bool is_digest(const Value* v) {
  if (!v || v->kind != Value::String || v->str.size() != 71 || v->str.compare(0, 7, "sha256:") != 0) return false;
  for (std::size_t i = 7; i < v->str.size(); i++) {
    char c = v->str[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool is_timestamp(const Value* v) {
  // YYYY-MM-DDTHH:MM:SS.ffffffZ
  if (!v || v->kind != Value::String) return false;
  const std::string& s = v->str;
  const char* pat = "dddd-dd-ddTdd:dd:dd.ddddddZ";
  if (s.size() != std::strlen(pat)) return false;
  for (std::size_t i = 0; i < s.size(); i++) {
    if (pat[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != pat[i]) return false;
  }
  return true;
}

bool is_number(const Value* v) {
  if (!v) return false;
  if (v->kind == Value::Number) return true;
  return v->kind == Value::String && (v->str == "NaN" || v->str == "Infinity" || v->str == "-Infinity");
}

bool is_int(const Value* v) { return v && v->kind == Value::Number && v->integral; }

// Field kinds; a trailing '?' in a spec means optional (and nullable where the schema allows).
enum Kind { kStr, kStrOrNull, kInt, kIntOrNull, kNum, kBool, kObj, kArr, kDigest, kDigestOrNull, kTime,
            kDataset, kDatasetOrNull, kDatasets, kNumMap, kIntMap, kStrMap, kContents, kLayers, kStrArr };

struct FieldSpec {
  const char* name;
  Kind kind;
  bool required;
};

void check_dataset(const Value* v, const std::string& where) {
  if (!v || v->kind != Value::Object) {
    error(where + ": expected a DatasetVersionRef object");
    return;
  }
  static const std::set<std::string> allowed = {"name", "version", "digest", "uri", "size_bytes", "record_count"};
  for (const auto& f : v->fields) {
    if (!allowed.count(f.first)) error(where + ": unknown field '" + f.first + "'");
  }
  const Value* name = v->get("name");
  if (!name || name->kind != Value::String || name->str.empty()) error(where + ".name: expected a non-empty string");
  const Value* version = v->get("version");
  if (!version || version->kind != Value::String || version->str.empty()) error(where + ".version: expected a string");
  if (!is_digest(v->get("digest"))) error(where + ".digest: expected sha256:<64 hex>");
  if (version && is_digest(v->get("digest")) && v->get("digest")->str.substr(7, 12) != version->str) {
    error(where + ".version: expected the first 12 hex characters of the digest");
  }
  const Value* uri = v->get("uri");
  if (uri && uri->kind != Value::Null && (uri->kind != Value::String || uri->str.rfind("file:///", 0) != 0)) {
    error(where + ".uri: expected a file:/// URI");
  }
  for (const char* k : {"size_bytes", "record_count"}) {
    const Value* n = v->get(k);
    if (n && n->kind != Value::Null && !(is_int(n) && n->num >= 0)) error(where + "." + k + ": expected an integer >= 0");
  }
}

void check_field(const Value* v, Kind kind, const std::string& where) {
  auto expect = [&](bool ok, const char* what) {
    if (!ok) error(where + ": expected " + what);
  };
  switch (kind) {
    case kStr: expect(v->kind == Value::String, "a string"); break;
    case kStrOrNull: expect(v->kind == Value::String || v->kind == Value::Null, "a string or null"); break;
    case kInt: expect(is_int(v), "an integer"); break;
    case kIntOrNull: expect(is_int(v) || v->kind == Value::Null, "an integer or null"); break;
    case kNum: expect(is_number(v), "a number or \"NaN\"/\"Infinity\"/\"-Infinity\""); break;
    case kBool: expect(v->kind == Value::Bool, "a boolean"); break;
    case kObj: expect(v->kind == Value::Object, "an object"); break;
    case kArr: expect(v->kind == Value::Array, "an array"); break;
    case kDigest: expect(is_digest(v), "sha256:<64 lowercase hex>"); break;
    case kDigestOrNull: expect(v->kind == Value::Null || is_digest(v), "sha256:<64 lowercase hex> or null"); break;
    case kTime: expect(is_timestamp(v), "an ISO-8601 UTC time with microseconds"); break;
    case kDataset: check_dataset(v, where); break;
    case kDatasetOrNull:
      if (v->kind != Value::Null) check_dataset(v, where);
      break;
    case kDatasets:
      if (v->kind != Value::Array) {
        error(where + ": expected an array");
      } else {
        for (std::size_t i = 0; i < v->items.size(); i++) check_dataset(&v->items[i], where + "[" + std::to_string(i) + "]");
      }
      break;
    case kNumMap:
    case kIntMap:
    case kStrMap:
      if (v->kind != Value::Object) {
        error(where + ": expected an object");
        break;
      }
      for (const auto& f : v->fields) {
        std::string w = where + "." + f.first;
        if (kind == kNumMap && !is_number(&f.second)) error(w + ": expected a number");
        if (kind == kIntMap && !is_int(&f.second)) error(w + ": expected an integer");
        if (kind == kStrMap && f.second.kind != Value::String) error(w + ": expected a string");
      }
      break;
    case kContents: {
      if (v->kind != Value::Object) {
        error(where + ": expected an object");
        break;
      }
      static const char* keys[] = {"model", "optimizer", "scheduler", "rng", "data_cursor"};
      for (const char* k : keys) {
        const Value* b = v->get(k);
        if (!b || b->kind != Value::Bool) error(where + "." + k + ": expected a boolean");
      }
      if (v->fields.size() != 5) error(where + ": expected exactly the five contents flags");
      break;
    }
    case kLayers:
      if (v->kind != Value::Array) {
        error(where + ": expected an array");
        break;
      }
      for (std::size_t i = 0; i < v->items.size(); i++) {
        const Value& l = v->items[i];
        std::string w = where + "[" + std::to_string(i) + "]";
        if (l.kind != Value::Object) {
          error(w + ": expected an object");
          continue;
        }
        for (const auto& f : l.fields) {
          if (f.first != "source" && f.first != "location" && f.first != "digest") error(w + ": unknown field '" + f.first + "'");
        }
        const Value* src = l.get("source");
        if (!src || src->kind != Value::String) error(w + ".source: expected a string");
        const Value* loc = l.get("location");
        if (loc && loc->kind != Value::Null && loc->kind != Value::String) error(w + ".location: expected a string or null");
        if (!is_digest(l.get("digest"))) error(w + ".digest: expected sha256:<64 hex> (required by the protocol)");
      }
      break;
    case kStrArr:
      if (v->kind != Value::Array) {
        error(where + ": expected an array");
        break;
      }
      for (const auto& it : v->items) {
        if (it.kind != Value::String) error(where + ": expected strings");
      }
      break;
  }
}

const std::map<std::string, std::vector<FieldSpec>>& specs() {
  static const std::map<std::string, std::vector<FieldSpec>> s = {
      {"config_snapshot",
       {{"params", kObj, true}, {"digest", kDigest, false}, {"layers", kLayers, false}, {"changed_keys", kStrArr, false}}},
      {"data_transform_applied",
       {{"transform_id", kStr, true}, {"transform_name", kStr, true}, {"code_version", kStrOrNull, false},
        {"params", kObj, false}, {"seed", kIntOrNull, false}, {"inputs", kDatasets, true},
        {"outputs", kDatasets, true}, {"stats", kIntMap, false}, {"started_at", kTime, true},
        {"ended_at", kTime, true}}},
      {"dataset_bound", {{"role", kStr, true}, {"dataset", kDataset, true}}},
      {"step_summary",
       {{"step", kInt, true}, {"epoch", kIntOrNull, false}, {"steps_covered", kInt, false}, {"loss", kNum, true},
        {"metrics", kNumMap, false}, {"non_finite_count", kInt, false}, {"tokens_seen", kIntOrNull, false},
        {"samples_seen", kIntOrNull, false}}},
      {"checkpoint_saved",
       {{"step", kInt, true}, {"uri", kStr, true}, {"digest", kDigest, true}, {"size_bytes", kInt, true},
        {"contents", kContents, true}, {"code_commit", kStrOrNull, false}, {"metrics", kNumMap, false}}},
      {"evaluation_completed",
       {{"eval_id", kStr, true}, {"checkpoint_digest", kDigestOrNull, false}, {"dataset", kDatasetOrNull, false},
        {"suite_name", kStr, true}, {"suite_version", kStrOrNull, false}, {"prompt_version", kStrOrNull, false},
        {"decoding_params", kObj, false}, {"seed", kIntOrNull, false}, {"metrics", kNumMap, true},
        {"samples", kObj, false}, {"sample_kind", kStrOrNull, false}}},
      {"model_version_registered",
       {{"model_name", kStr, true}, {"version", kStr, true}, {"checkpoint_digest", kDigest, true},
        {"stage", kStrOrNull, false}, {"card", kStrMap, false}}},
  };
  return s;
}

void check_event(const Value& e) {
  if (e.kind != Value::Object) {
    error("expected a JSON object");
    return;
  }
  const Value* type = e.get("type");
  if (!type || type->kind != Value::String) {
    error("missing string 'type'");
    return;
  }
  auto it = specs().find(type->str);
  if (it == specs().end()) {
    error("type '" + type->str + "' is not one the trainer writes");
    return;
  }
  const Value* run = e.get("run_id");
  if (!run || run->kind != Value::String || run->str.empty()) error("'run_id' must be a non-empty string");
  if (!is_timestamp(e.get("occurred_at"))) error("'occurred_at' must be an ISO-8601 UTC time with microseconds");
  if (e.get("event_id")) error("'event_id' must not be written (the sidecar assigns it)");
  std::set<std::string> known = {"type", "run_id", "occurred_at"};
  for (const auto& f : it->second) {
    known.insert(f.name);
    const Value* v = e.get(f.name);
    if (!v) {
      if (f.required) error(type->str + "." + f.name + ": missing required field");
      continue;
    }
    check_field(v, f.kind, type->str + "." + f.name);
  }
  for (const auto& f : e.fields) {
    if (!known.count(f.first)) error(type->str + ": unknown field '" + f.first + "' (the sidecar rejects it)");
  }
}

// Order and lineage within one run (from one config_snapshot to the next).
struct RunCheck {
  int phase = 0;  // 0 config, 1..4 transforms, 5..6 bindings, 7 training, 8 registered
  std::string last_output;
  std::string train_digest, validation_digest;
  long long last_summary = -1;
  long long last_checkpoint = -1;
  std::set<std::string> checkpoints;
  std::string last_checkpoint_digest;
  std::vector<std::pair<long long, std::pair<long long, std::string>>> summaries;  // step -> (non_finite, loss)
  int evals = 0;
  bool registered = false;
};

const char* kStages[] = {"normalize", "dedupe", "filter", "split"};

void check_order(const Value& e, std::vector<RunCheck>& runs) {
  const Value* type = e.get("type");
  if (!type || type->kind != Value::String) return;
  const std::string& t = type->str;
  if (t == "config_snapshot") {
    runs.emplace_back();
    runs.back().phase = 1;
    return;
  }
  if (runs.empty()) {
    error("the first event must be config_snapshot");
    return;
  }
  RunCheck& r = runs.back();
  if (r.registered) error("no event may follow model_version_registered in a run");
  if (t == "data_transform_applied") {
    const Value* name = e.get("transform_name");
    if (r.phase < 1 || r.phase > 4) {
      error("data_transform_applied out of order");
      return;
    }
    std::string expected = kStages[r.phase - 1];
    if (!name || name->str != expected) error("expected transform '" + expected + "' here");
    const Value* in = e.get("inputs");
    const Value* out = e.get("outputs");
    if (in && in->kind == Value::Array && in->items.size() == 1 && out && out->kind == Value::Array) {
      const Value* d = in->items[0].get("digest");
      if (r.phase > 1 && (!d || d->str != r.last_output)) error(expected + " does not read the previous stage's output");
      std::size_t n_out = expected == "split" ? 2 : 1;
      if (out->items.size() != n_out) {
        error(expected + " must have " + std::to_string(n_out) + " output(s)");
      } else {
        const Value* od = out->items[0].get("digest");
        r.last_output = od ? od->str : "";
        if (n_out == 2) {
          r.train_digest = r.last_output;
          const Value* vd = out->items[1].get("digest");
          r.validation_digest = vd ? vd->str : "";
        }
      }
      const Value* seed = e.get("seed");
      if (expected == "split" && !is_int(seed)) error("split must carry its seed");
      const Value* stats = e.get("stats");
      if (!stats || !stats->get("rows_in") || !stats->get("rows_out")) error(expected + ": stats need rows_in and rows_out");
    } else {
      error("data_transform_applied must have one input and its outputs");
    }
    r.phase++;
    return;
  }
  if (t == "dataset_bound") {
    const Value* role = e.get("role");
    const Value* ds = e.get("dataset");
    const Value* d = ds ? ds->get("digest") : nullptr;
    if (r.phase == 5) {
      if (!role || role->str != "train") error("expected the train dataset_bound first");
      if (!d || d->str != r.train_digest) error("the bound train dataset is not the split's first output");
    } else if (r.phase == 6) {
      if (!role || role->str != "validation") error("expected the validation dataset_bound second");
      if (!d || d->str != r.validation_digest) error("the bound validation dataset is not the split's second output");
    } else {
      error("dataset_bound out of order");
    }
    r.phase++;
    return;
  }
  if (r.phase != 7) {
    error(t + " before the data pipeline and dataset bindings finished");
    r.phase = 7;
  }
  if (t == "step_summary") {
    long long step = (long long)e.get("step")->num;
    if (step <= r.last_summary) error("step_summary steps must increase");
    if (step <= r.last_checkpoint) error("step_summary after a checkpoint of a later or equal step");
    r.last_summary = step;
    const Value* nf = e.get("non_finite_count");
    const Value* loss = e.get("loss");
    // str holds the number's text, or the string ("NaN", ...) for non-finite losses.
    r.summaries.push_back({step, {nf ? (long long)nf->num : 0, loss ? loss->str : ""}});
  } else if (t == "checkpoint_saved") {
    long long step = (long long)e.get("step")->num;
    if (step < r.last_summary) error("checkpoint_saved for a step older than the latest step_summary");
    if (step <= r.last_checkpoint) error("checkpoint steps must increase");
    r.last_checkpoint = step;
    const Value* d = e.get("digest");
    if (d) {
      r.checkpoints.insert(d->str);
      r.last_checkpoint_digest = d->str;
    }
  } else if (t == "evaluation_completed") {
    const Value* d = e.get("checkpoint_digest");
    if (!d || !r.checkpoints.count(d->str)) error("evaluation_completed names no checkpoint written before it");
    const Value* ds = e.get("dataset");
    const Value* dd = ds ? ds->get("digest") : nullptr;
    if (!dd || dd->str != r.validation_digest) error("evaluation_completed is not on the validation split");
    const Value* m = e.get("metrics");
    for (const char* k : {"val_loss", "perplexity", "accuracy"}) {
      if (!m || !m->get(k)) error(std::string("evaluation metrics need ") + k);
    }
    r.evals++;
  } else if (t == "model_version_registered") {
    const Value* d = e.get("checkpoint_digest");
    if (!d || d->str != r.last_checkpoint_digest) error("model_version_registered must name the final checkpoint");
    const Value* v = e.get("version");
    if (d && v && v->str != "v" + d->str.substr(7, 12)) error("version must be v + 12 hex of the checkpoint digest");
    r.registered = true;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: %s FILE [--expect-nonfinite-at STEP] [--expect-final-step N] [--expect-registered] "
                 "[--expect-runs N] [--expect-evals N]\n",
                 argv[0]);
    return 2;
  }
  long long nonfinite_at = -1, final_step = -1, expect_runs = -1, expect_evals = -1;
  bool expect_registered = false;
  for (int i = 2; i < argc; i++) {
    std::string a = argv[i];
    auto next = [&]() -> long long {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "%s needs a value\n", a.c_str());
        std::exit(2);
      }
      return std::atoll(argv[++i]);
    };
    if (a == "--expect-nonfinite-at") {
      nonfinite_at = next();
    } else if (a == "--expect-final-step") {
      final_step = next();
    } else if (a == "--expect-runs") {
      expect_runs = next();
    } else if (a == "--expect-evals") {
      expect_evals = next();
    } else if (a == "--expect-registered") {
      expect_registered = true;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a.c_str());
      return 2;
    }
  }
  std::ifstream in(argv[1], std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "cannot open %s\n", argv[1]);
    return 1;
  }
  std::string line;
  std::vector<RunCheck> runs;
  std::map<std::string, int> counts;
  while (std::getline(in, line)) {
    line_no++;
    Value v;
    std::string err;
    if (!Parser(line).parse(v, err)) {
      error("invalid JSON: " + err);
      continue;
    }
    check_event(v);
    if (v.kind == Value::Object && v.get("type")) counts[v.get("type")->str]++;
    if (v.kind == Value::Object) check_order(v, runs);
  }
  if (line_no == 0) error("the event file is empty");
  for (std::size_t i = 0; i < runs.size(); i++) {
    if (runs[i].phase != 7 && !runs[i].registered) error("run " + std::to_string(i + 1) + " did not reach training");
  }
  if (expect_runs >= 0 && (long long)runs.size() != expect_runs) {
    error("expected " + std::to_string(expect_runs) + " run(s), found " + std::to_string(runs.size()));
  }
  if (!runs.empty()) {
    const RunCheck& r = runs.back();
    if (final_step >= 0) {
      if (r.last_summary != final_step) error("last step_summary is not at step " + std::to_string(final_step));
      if (r.last_checkpoint != final_step) error("last checkpoint is not at step " + std::to_string(final_step));
    }
    if (expect_evals >= 0 && r.evals != expect_evals) {
      error("expected " + std::to_string(expect_evals) + " evaluation(s), found " + std::to_string(r.evals));
    }
    if (expect_registered && !r.registered) error("expected model_version_registered");
    if (nonfinite_at >= 0) {
      bool found = false;
      for (const auto& s : r.summaries) {
        if (s.first >= nonfinite_at) {
          found = true;
          if (s.second.first < 1) error("the step_summary covering step " + std::to_string(nonfinite_at) + " has non_finite_count 0");
          if (s.second.second != "NaN") error("the step_summary covering step " + std::to_string(nonfinite_at) + " does not report loss \"NaN\"");
          break;
        }
      }
      if (!found) error("no step_summary covers step " + std::to_string(nonfinite_at));
      for (const auto& s : r.summaries) {
        if (s.first < nonfinite_at && s.second.first != 0) error("a step_summary before the injected step reports non-finite steps");
      }
    }
  }
  if (!errors.empty()) {
    for (const auto& e : errors) std::fprintf(stderr, "%s: %s\n", argv[1], e.c_str());
    std::fprintf(stderr, "%zu problem(s) in %d line(s)\n", errors.size(), line_no);
    return 1;
  }
  std::printf("ok: %d lines, %zu run(s):", line_no, runs.size());
  for (const auto& kv : counts) std::printf(" %s=%d", kv.first.c_str(), kv.second);
  std::printf("\n");
  return 0;
}
