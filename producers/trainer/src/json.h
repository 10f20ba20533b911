// A tiny JSON writer: objects, arrays, escaped strings, shortest round-trip doubles.
// Non-finite doubles are written as the strings "NaN", "Infinity" and "-Infinity",
// which the ledger's NDJSON protocol reads back as doubles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace lt {

// Appends s to out as a JSON string literal (quotes included). Control characters are
// escaped; invalid UTF-8 bytes become U+FFFD so the line stays valid JSON.
void json_escape(std::string& out, std::string_view s);
// The shortest decimal text that reads back as the same double; non-finite values as quoted strings.
std::string json_number(double v);

class JsonWriter {
 public:
  JsonWriter& begin_object();
  JsonWriter& end_object();
  JsonWriter& begin_array();
  JsonWriter& end_array();
  JsonWriter& key(std::string_view k);
  JsonWriter& value(std::string_view s);
  JsonWriter& value(const char* s) { return value(std::string_view(s)); }
  JsonWriter& value(const std::string& s) { return value(std::string_view(s)); }
  JsonWriter& value(double d);
  JsonWriter& value(float d) { return value(double(d)); }
  JsonWriter& value(std::int64_t i);
  JsonWriter& value(std::uint64_t i);
  JsonWriter& value(int i) { return value(std::int64_t(i)); }
  JsonWriter& value(unsigned i) { return value(std::uint64_t(i)); }
  JsonWriter& value(bool b);
  JsonWriter& null();
  // Inserts already-serialized JSON text as one value.
  JsonWriter& raw(std::string_view json);

  // key + value in one call.
  template <class T>
  JsonWriter& field(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  JsonWriter& field_null(std::string_view k) {
    key(k);
    return null();
  }

  const std::string& str() const { return out_; }

 private:
  void before_value();
  std::string out_;
  std::vector<bool> need_comma_;
  bool after_key_ = false;
};

// A parsed JSON value, for reading small documents such as a resume manifest. Numbers keep
// their text (`text`) so that integers of any size read back exactly.
struct JsonValue {
  enum class Kind { Null, Bool, Number, String, Array, Object };
  Kind kind = Kind::Null;
  bool boolean = false;
  std::string text;  // a string's value, or a number as written
  std::vector<JsonValue> items;
  std::vector<std::pair<std::string, JsonValue>> fields;

  // The member named key of an object, or nullptr.
  const JsonValue* get(std::string_view key) const;
};

// Parses one JSON document (RFC 8259). Throws std::runtime_error naming the byte offset and
// what was expected there.
JsonValue parse_json(std::string_view text);

}  // namespace lt
