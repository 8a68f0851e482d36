// CommitQueue: group commit. Writers on any thread Submit a batch of
// history operations with a completion; one committer thread takes every
// batch queued since its last commit, writes them as one RocksDB
// WriteBatch (one WAL record, and one fsync in sync mode, shared by all of
// them) and then runs their completions in submission order.
//
// Submit blocks while more than max_queued_bytes wait, so a disk slower
// than the network slows writers down instead of growing memory without
// bound.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "quiver/status.h"

namespace quiver {

// Operations to commit atomically, encoded compactly so that queuing them
// costs one buffer append per row. Built by one thread, then moved.
class HistoryBatch {
 public:
  enum class Op : uint8_t { kPutHistory = 0, kMergeLatest = 1, kDeleteLatest = 2, kPutMeta = 3 };

  void Add(Op op, std::string_view key, std::string_view value);
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  size_t bytes() const { return ops_.size(); }
  void Clear() {
    ops_.clear();
    count_ = 0;
  }

  // Calls fn(op, key, value) for every operation in the order added.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t pos = 0;
    while (pos < ops_.size()) {
      const auto op = static_cast<Op>(ops_[pos]);
      const uint32_t klen = ReadU32(pos + 1);
      const uint32_t vlen = ReadU32(pos + 5);
      const char* key = ops_.data() + pos + 9;
      fn(op, std::string_view(key, klen), std::string_view(key + klen, vlen));
      pos += 9 + klen + vlen;
    }
  }

 private:
  uint32_t ReadU32(size_t pos) const;
  std::string ops_;  // [op u8][key len u32][value len u32][key][value] ...
  size_t count_ = 0;
};

class CommitQueue {
 public:
  using Done = std::function<void(const Status&)>;
  // Writes a group of batches atomically; called on the committer thread.
  using WriteGroup = std::function<Status(std::span<const HistoryBatch* const>)>;

  CommitQueue(WriteGroup write, size_t max_queued_bytes);
  // Commits everything queued, then stops the thread.
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues the batch; `done` (may be empty) runs on the committer thread
  // after the group holding it was written, with the write's status.
  void Submit(HistoryBatch batch, Done done);

  // Blocks until everything submitted before the call is committed.
  void Drain();

 private:
  struct Item {
    HistoryBatch batch;
    Done done;
  };
  void Run();

  WriteGroup write_;
  const size_t max_queued_bytes_;
  std::mutex mu_;
  std::condition_variable work_;   // committer waits for items
  std::condition_variable space_;  // writers wait for room; Drain waits for progress
  std::vector<Item> queue_;
  size_t queued_bytes_ = 0;
  uint64_t submitted_ = 0;  // items ever submitted
  uint64_t committed_ = 0;  // items whose completion has run
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace quiver
