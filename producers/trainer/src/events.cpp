#include "events.h"

#include <cerrno>
#include <cstring>

#include "sha256.h"
#include "util.h"

namespace lt {

std::string DatasetRef::version() const { return short_hex(digest); }

void DatasetRef::write(JsonWriter& w) const {
  w.begin_object();
  w.field("name", name);
  w.field("version", version());
  w.field("digest", digest);
  if (!uri.empty()) w.field("uri", uri);
  if (size_bytes >= 0) w.field("size_bytes", size_bytes);
  if (record_count >= 0) w.field("record_count", record_count);
  w.end_object();
}

EventSink::EventSink(const std::string& path, std::string run_id) : path_(path), run_id_(std::move(run_id)) {
  if (path.empty()) return;
  file_ = std::fopen(path.c_str(), "a");
  if (!file_) {
    std::fprintf(stderr, "lineage-trainer: warning: cannot open event file %s (%s); continuing without events\n",
                 path.c_str(), std::strerror(errno));
  }
}

EventSink::~EventSink() {
  if (file_) std::fclose(file_);
}

void EventSink::fail(const std::string& why) {
  std::fprintf(stderr, "lineage-trainer: warning: cannot write event file %s (%s); continuing without events\n",
               path_.c_str(), why.c_str());
  std::fclose(file_);
  file_ = nullptr;
}

void EventSink::emit(const char* type, const std::function<void(JsonWriter&)>& body) {
  if (!file_) return;
  JsonWriter w;
  w.begin_object();
  w.field("type", type);
  w.field("run_id", run_id_);
  w.field("occurred_at", now_iso8601());
  body(w);
  w.end_object();
  std::string line = w.str();
  line.push_back('\n');
  errno = 0;
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() || std::fflush(file_) != 0) {
    fail(errno ? std::strerror(errno) : "short write");
  }
}

}  // namespace lt
