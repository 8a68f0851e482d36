// EntityVersions: a cursor over the versions of one entity in the history
// column family (keys of storage/history/history_key.h), newest first. Used by
// HistoryStore's reads; the iterator must be a prefix iterator of the
// history (ReadOptions::prefix_same_as_start) or a total-order one.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <rocksdb/iterator.h>

#include "quiver/status.h"
#include "storage/history/history_key.h"

namespace quiver::history {

class EntityVersions {
 public:
  EntityVersions(rocksdb::Iterator* it, uint32_t view_id, std::string_view key) : it_(it) {
    AppendPrefix(view_id, key, &seek_);
    prefix_ = seek_.size();
  }
  // Positions at the newest version with event time <= t.
  void SeekTo(int64_t t) {
    seek_.resize(prefix_);
    AppendTimeSeq(t, std::numeric_limits<uint64_t>::max(), &seek_);
    it_->Seek(seek_);
  }
  // For a time no later than the last SeekTo's or SkipTo's: the same as
  // SeekTo(t), by stepping forward over the (few) versions newer than t
  // instead of seeking.
  void SkipTo(int64_t t) {
    while (it_->Valid()) {
      const std::string_view key = Bytes(it_->key());
      if (!InEntity(key)) return;
      const auto d = DecodeKey(key, true);
      if (!d || d->event_time_ms <= t) return;  // Current() reports a corrupt key
      it_->Next();
    }
  }
  void Next() { it_->Next(); }
  // The version at the cursor: nullopt once past the entity's versions, an
  // error if the entry is corrupt.
  Result<std::optional<std::pair<DecodedKey, HistoryValue>>> Current() const {
    using Version = std::optional<std::pair<DecodedKey, HistoryValue>>;
    if (!it_->Valid()) return Version();
    const std::string_view key = Bytes(it_->key());
    if (!InEntity(key)) return Version();
    auto d = DecodeKey(key, true);
    auto v = DecodeHistoryValue(Bytes(it_->value()));
    if (!d || !v) return Status::IoError("corrupt history entry");
    return Version(std::pair(*d, *v));
  }

 private:
  static std::string_view Bytes(const rocksdb::Slice& s) { return {s.data(), s.size()}; }
  bool InEntity(std::string_view key) const {
    return key.size() == seek_.size() && key.compare(0, prefix_, seek_, 0, prefix_) == 0;
  }

  rocksdb::Iterator* it_;
  std::string seek_;
  size_t prefix_ = 0;
};

}  // namespace quiver::history
