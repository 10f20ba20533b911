// Writes ledger events as NDJSON: one JSON object per line, appended and flushed line by line
// so a sidecar can tail the file while training runs. Failing to write never stops training:
// the sink warns once on stderr and goes quiet.
#pragma once

#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

#include "json.h"

namespace lt {

// A dataset version as the ledger's DatasetVersionRef.
struct DatasetRef {
  std::string name;
  std::string digest;  // sha256:<hex>
  std::string uri;     // file://... or empty
  std::int64_t size_bytes = -1;
  std::int64_t record_count = -1;
  std::string version() const;  // first 12 hex of the digest
  void write(JsonWriter& w) const;
};

class EventSink {
 public:
  // path empty: no events. run_id: the run every line names.
  EventSink(const std::string& path, std::string run_id);
  ~EventSink();
  EventSink(const EventSink&) = delete;
  EventSink& operator=(const EventSink&) = delete;

  bool enabled() const { return file_ != nullptr; }
  const std::string& run_id() const { return run_id_; }
  // Writes {"type":type,"run_id":...,"occurred_at":now, <fields written by body>}.
  void emit(const char* type, const std::function<void(JsonWriter&)>& body);

 private:
  void fail(const std::string& why);
  std::FILE* file_ = nullptr;
  std::string path_;
  std::string run_id_;
};

}  // namespace lt
