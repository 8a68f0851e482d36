#include "security/acl/acl_log.h"

#include <algorithm>
#include <cstdlib>

namespace quiver::acl {

namespace {

constexpr int64_t kGroupingMs = 60'000;
constexpr size_t kScanned = 10;

bool Same(const LogEntry& a, const LogEntry& b) {
  return a.reason == b.reason && a.context == b.context && a.object == b.object &&
         a.username == b.username && std::abs(a.updated_ms - b.updated_ms) <= kGroupingMs;
}

}  // namespace

void AclLog::Add(LogEntry entry, int64_t now_ms) {
  // A denied key or user name is the client's: at most kMaxText bytes of it
  // are kept, so that 128 denials of 512 MB keys cannot hold 64 GB.
  for (std::string* text : {&entry.object, &entry.username, &entry.client_info}) {
    if (text->size() > kMaxText) text->resize(kMaxText);
  }
  entry.created_ms = entry.updated_ms = now_ms;
  entry.count = 1;
  std::lock_guard lock(mu_);
  if (entry.reason == "auth") ++counts_.auth;
  if (entry.reason == "command") ++counts_.command;
  if (entry.reason == "key") ++counts_.key;
  if (entry.reason == "channel") ++counts_.channel;
  const size_t scanned = std::min(kScanned, entries_.size());
  for (size_t i = 0; i < scanned; ++i) {
    if (!Same(entries_[i], entry)) continue;
    LogEntry match = std::move(entries_[i]);
    entries_.erase(entries_.begin() + static_cast<std::ptrdiff_t>(i));
    match.client_info = std::move(entry.client_info);
    match.updated_ms = now_ms;
    ++match.count;
    entries_.push_front(std::move(match));
    return;
  }
  entry.id = next_id_++;
  entries_.push_front(std::move(entry));
  while (entries_.size() > max_len_)
    entries_.pop_back();
}

std::vector<LogEntry> AclLog::Recent(size_t count) const {
  std::lock_guard lock(mu_);
  const size_t n = std::min(count, entries_.size());
  return {entries_.begin(), entries_.begin() + static_cast<std::ptrdiff_t>(n)};
}

void AclLog::Reset() {
  std::lock_guard lock(mu_);
  entries_.clear();
}

void AclLog::set_max_len(size_t n) {
  std::lock_guard lock(mu_);
  max_len_ = n;
  while (entries_.size() > max_len_)
    entries_.pop_back();
}

AclLog::Counts AclLog::counts() const {
  std::lock_guard lock(mu_);
  return counts_;
}

}  // namespace quiver::acl
