// What the history store's files share privately: RocksDB's status as
// ours, the options every column family is opened with, the listener that
// reports background errors to the commit queue, and the retention the
// compaction filter reads. Not for other libraries.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <rocksdb/listener.h>
#include <rocksdb/options.h>
#include <rocksdb/slice.h>
#include <rocksdb/status.h>
#include <rocksdb/write_buffer_manager.h>

#include "storage/history/history_store.h"

namespace quiver {

// A RocksDB status (or IOStatus) as ours: IoError naming what failed.
inline Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status::IoError(std::string(what) + ": " + s.ToString());
}

inline std::string_view View(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

struct HistoryStore::RocksOptions {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions meta, history, latest;
  rocksdb::ColumnFamilyOptions side;  // of the columns of other subsystems (OpenColumn)
  // The block cache, which the memtables are charged to as well.
  std::shared_ptr<rocksdb::Cache> cache;
  // Flushes the memtables once they hold half of the cache's capacity.
  std::shared_ptr<rocksdb::WriteBufferManager> memtables;
};

// Tells the commit queue of errors RocksDB meets in the background (a
// flush or compaction on a full disk), so that writes are refused and
// recovered at once rather than at the next write; and turns RocksDB's own
// recovery off: the queue recovers (HistoryStore::Recover).
class HistoryStore::Listener : public rocksdb::EventListener {
 public:
  void Attach(CommitQueue* queue) {
    std::lock_guard<std::mutex> lock(mu_);
    queue_ = queue;
  }
  void OnBackgroundError(rocksdb::BackgroundErrorReason, rocksdb::Status* error) override {
    if (error->ok() || error->severity() < rocksdb::Status::Severity::kHardError) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_ != nullptr) queue_->Fail(FromRocks(*error, "in the background"));
  }
  void OnErrorRecoveryBegin(rocksdb::BackgroundErrorReason, rocksdb::Status,
                            bool* auto_recovery) override {
    *auto_recovery = false;
  }

 private:
  std::mutex mu_;
  CommitQueue* queue_ = nullptr;
};

struct HistoryStore::Retention {
  std::function<int64_t()> now_ms;
  mutable std::mutex mu;
  std::vector<int64_t> by_view;  // index = view id; 0 = keep everything

  std::vector<int64_t> Snapshot() const {
    std::lock_guard<std::mutex> lock(mu);
    return by_view;
  }
};

}  // namespace quiver
