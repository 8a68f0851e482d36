// WriteIds: the write ids each changelog partition applied recently, with
// the reply applying each produced (docs/cluster.md#retried-writes).
//
// A client sends every write with an id of its own and retries it with the
// same id: after a timeout, or on another member when its server went
// away. A record whose id its partition remembers is not applied again;
// its writer gets the first application's reply.
//
// Every member remembers and forgets the same ids at the same records, so
// they stay equal: an id is kept while its partition's clock (the records'
// times, the same on every member) is less than kWindowMs past the record
// that brought it, and a partition keeps its kMaxPerPartition newest ids at
// most. The ids are stored in a history column of their own, in the batch
// of the records that brought them, so a restart or a checkpoint remembers
// them as well.
//
// The changelog's thread only, except size().
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "quiver/status.h"
#include "storage/history/history_store.h"

namespace quiver::cluster {

class WriteIds {
 public:
  static constexpr int64_t kWindowMs = 60'000;
  static constexpr size_t kMaxPerPartition = 16'384;
  // The longest id a client may send.
  static constexpr size_t kMaxIdBytes = 64;
  static constexpr std::string_view kColumn = "cluster-write-ids";

  // Loads the ids stored for `topic`. history null: nothing is stored (the
  // log is applied from its beginning at each start, which rebuilds them).
  static Result<std::unique_ptr<WriteIds>> Open(HistoryStore* history, std::string_view topic,
                                                int partitions);

  // Forgets the partition's ids the window left at `time` (a record's);
  // adds the column's changes to *batch (null: none).
  void Expire(int32_t partition, int64_t time, HistoryBatch* batch);
  // The reply the partition gave the id, if it remembers it; else null.
  const std::string* Find(int32_t partition, std::string_view id) const;
  // Remembers `id` (if not empty) with its reply, applied at `time`.
  void Remember(int32_t partition, std::string_view id, int64_t time, std::string_view reply,
                HistoryBatch* batch);
  // The ids remembered over every partition.
  int64_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  struct Entry {
    int64_t time = 0;
    std::string reply;
  };
  struct Partition {
    std::unordered_map<std::string, Entry> replies;
    std::deque<std::pair<int64_t, std::string>> order;  // (time, id), oldest first
  };

  WriteIds(HistoryStore* history, std::string_view topic, int partitions);
  Status Load();
  std::string Key(int32_t partition, std::string_view id) const;

  HistoryStore* history_;
  ColumnFamily column_{};
  std::string prefix_;  // the topic's keys: "<topic>/"
  std::vector<Partition> partitions_;
  std::atomic<int64_t> size_{0};
};

}  // namespace quiver::cluster
