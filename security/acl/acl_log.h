// ACL LOG: the recent denials (a command, key or channel refused, a
// failed authentication), newest first, at most acllog-max-len. A denial
// like one of the last ten (same reason, context, object and user, within
// 60 s) counts in that entry instead of adding one, as in Redis.
// Thread-safe.
#pragma once

#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <vector>

namespace quiver::acl {

struct LogEntry {
  uint64_t count = 1;
  std::string reason;   // "command", "key", "channel", "auth"
  std::string context;  // "toplevel", "multi", "lua"; a front end's own ("native", "http")
  std::string object;   // the command, key or channel refused
  std::string username;
  std::string client_info;  // as CLIENT LIST shows the client
  int64_t created_ms = 0;   // Unix ms of the first denial of the entry
  int64_t updated_ms = 0;   // of the last
  uint64_t id = 0;          // entries so far when this one was added
};

class AclLog {
 public:
  explicit AclLog(size_t max_len = 128) : max_len_(max_len) {}
  // Bytes kept of an entry's object, username and client info.
  static constexpr size_t kMaxText = 1024;
  // Adds a denial at now_ms (Unix ms).
  void Add(LogEntry entry, int64_t now_ms);
  // The newest `count` entries.
  std::vector<LogEntry> Recent(size_t count) const;
  void Reset();
  void set_max_len(size_t n);

  // Denials so far by reason, for INFO.
  struct Counts {
    int64_t auth = 0, command = 0, key = 0, channel = 0;
  };
  Counts counts() const;

 private:
  mutable std::mutex mu_;
  std::deque<LogEntry> entries_;  // newest first; guarded by mu_
  size_t max_len_;
  uint64_t next_id_ = 0;
  Counts counts_;
};

}  // namespace quiver::acl
