// CommitQueue: group commit. Writers on any thread Submit a batch of
// history operations with a completion; one committer thread takes every
// batch queued since its last commit and writes them as one RocksDB
// WriteBatch (one WAL record). With a sync step (durability sync), a second
// thread makes the log durable (one fsync for every group written since
// the last one) while the committer already writes the next groups, so
// fsyncs and log writes overlap. Completions run in submission order.
//
// Submit blocks while more than max_queued_bytes wait, and the committer
// while more than that wait for an fsync, so a disk slower than the network
// slows writers down instead of growing memory without bound.
//
// A write or sync the disk refused (an IoError) does not fail its writes. The queue keeps the
// groups it could not make durable, reports the failure (health()) so that
// front ends refuse new writes, and calls Recover every retry interval
// until the store is back; it then writes those groups again, in order,
// and completes them. Rewriting is safe because a group's operations are
// idempotent (puts, deletes and newest-wins merges of the same values). A
// write in flight when the disk fails is thus acknowledged late, never
// lost while quiverd runs; if quiverd stops first, it completes with the
// error and was never acknowledged.
#pragma once

#include <atomic>
#include <chrono>
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
#include "storage/history/column_family.h"

namespace quiver {

// Operations to commit atomically, encoded compactly so that queuing them
// costs one buffer append per row. Built by one thread, then moved.
class HistoryBatch {
 public:
  enum class Op : uint8_t {
    kPut = 0,
    kDelete = 1,
    kDeleteRange = 2,  // the value is the end of the range (exclusive)
    kMerge = 3,
  };

  void Put(ColumnFamily c, std::string_view key, std::string_view value) {
    Add(Op::kPut, c, key, value);
  }
  void Delete(ColumnFamily c, std::string_view key) { Add(Op::kDelete, c, key, {}); }
  // Deletes the keys in [begin, end).
  void DeleteRange(ColumnFamily c, std::string_view begin, std::string_view end) {
    Add(Op::kDeleteRange, c, begin, end);
  }
  // Hands the value to the column's merge operator.
  void Merge(ColumnFamily c, std::string_view key, std::string_view value) {
    Add(Op::kMerge, c, key, value);
  }
  void Add(Op op, ColumnFamily c, std::string_view key, std::string_view value);
  // Appends every operation of another batch.
  void Append(const HistoryBatch& other) {
    ops_.append(other.ops_);
    count_ += other.count_;
  }
  bool empty() const { return count_ == 0; }
  size_t count() const { return count_; }
  // Makes room for this many bytes of operations (see bytes()), so that a
  // large batch is not copied as it grows.
  void Reserve(size_t bytes) { ops_.reserve(bytes); }
  size_t bytes() const { return ops_.size(); }
  void Clear() {
    ops_.clear();
    count_ = 0;
  }
  // Where the batch ends now: Truncate(mark) drops what came after.
  struct Mark {
    size_t bytes = 0, count = 0;
  };
  Mark End() const { return {ops_.size(), count_}; }
  void Truncate(Mark mark) {
    ops_.resize(mark.bytes);
    count_ = mark.count;
  }

  // Calls fn(op, column, key, value) for every operation in the order added.
  template <typename Fn>
  void ForEach(Fn&& fn) const {
    size_t pos = 0;
    while (pos < ops_.size()) {
      const auto op = static_cast<Op>(ops_[pos]);
      const ColumnFamily column{static_cast<uint8_t>(ops_[pos + 1])};
      const uint32_t klen = ReadU32(pos + 2);
      const uint32_t vlen = ReadU32(pos + 6);
      const char* key = ops_.data() + pos + kHeader;
      fn(op, column, std::string_view(key, klen), std::string_view(key + klen, vlen));
      pos += kHeader + klen + vlen;
    }
  }

 private:
  uint32_t ReadU32(size_t pos) const;
  static constexpr size_t kHeader = 10;
  std::string ops_;  // [op u8][column u8][key len u32][value len u32][key][value] ...
  size_t count_ = 0;
};

class CommitQueue {
 public:
  using Done = std::function<void(const Status&)>;
  // Writes a group of batches atomically; called on the committer thread.
  using WriteGroup = std::function<Status(std::span<const HistoryBatch* const>)>;
  // Makes everything written so far durable (fsync); called on the sync thread.
  using SyncLog = std::function<Status()>;
  // Brings the store back after a failure, so that it takes writes again;
  // called on the committer thread while no write or sync runs.
  using Recover = std::function<Status()>;

  struct Options {
    size_t max_queued_bytes = 64 << 20;
    std::chrono::milliseconds retry_every{1000};  // between attempts to recover
  };

  // sync may be empty: a group is then complete once written. recover may
  // be empty: the queue then only writes the failed groups again.
  CommitQueue(WriteGroup write, SyncLog sync, Recover recover, Options options);
  // Close(), if not done.
  ~CommitQueue();
  CommitQueue(const CommitQueue&) = delete;
  CommitQueue& operator=(const CommitQueue&) = delete;

  // Queues the batch; `done` (may be empty) runs on the committer thread
  // after the group holding it was written, with the write's status. After
  // Close, `done` runs at once with Unavailable and nothing is written.
  void Submit(HistoryBatch batch, Done done);

  // Blocks until everything submitted before the call is committed, or the
  // store has failed (health() then says why; what is held is committed
  // once it recovers).
  void Drain();

  // Commits everything queued (or, while the store is failed, completes it
  // with the failure: it was never acknowledged), then stops the threads.
  void Close();

  // OK, or why writes are refused now: a Misconf status naming the failure,
  // from the first failed write or sync until the store recovers.
  Status health() const;
  bool failed() const { return failed_.load(std::memory_order_acquire); }
  // Reports a failure found outside the queue (a background flush or
  // compaction): writes are refused and the committer recovers.
  void Fail(const Status& cause);

 private:
  struct Item {
    HistoryBatch batch;
    Done done;
  };
  using Group = std::vector<Item>;
  void Run();
  void RunSync();
  Status WriteItems(const Group& group);
  static size_t GroupBytes(const Group& group);
  void Complete(Group& items, const Status& status);
  // Keeps a group whose write failed for the recovery, after every group
  // the sync step still holds.
  void Retry(Group group, const Status& cause);
  // Records the failure; REQUIRES: mu_ held.
  void SetFailure(const Status& cause);
  // Recovers and commits the failed groups; false if the queue stopped
  // first (every write left then completes with the failure).
  bool RecoverLoop();
  // One attempt: Recover, then write (and sync) the failed groups again.
  Status TryRecover();
  void GiveUp(std::unique_lock<std::mutex>& lock);

  WriteGroup write_;
  SyncLog sync_;
  Recover recover_;
  const Options options_;
  mutable std::mutex mu_;
  std::condition_variable work_;   // committer waits for items
  std::condition_variable space_;  // writers wait for room; Drain waits for progress
  std::vector<Item> queue_;
  size_t queued_bytes_ = 0;
  uint64_t submitted_ = 0;  // items ever submitted
  uint64_t committed_ = 0;  // items whose completion has run
  bool stop_ = false;
  bool closed_ = false;
  std::vector<Group> written_;  // groups written, not yet synced (guarded by mu_)
  size_t written_bytes_ = 0;    // their batches' bytes (guarded by mu_)
  bool syncing_ = false;        // the sync thread holds groups (guarded by mu_)
  std::condition_variable sync_work_;
  std::condition_variable sync_idle_;  // the sync step handed back what it held
  bool writer_done_ = false;           // the committer has stopped: the sync thread may stop
  // Failure (guarded by mu_, failed_ also read without it).
  std::atomic<bool> failed_{false};
  Status cause_;              // the latest failure, while failed_
  std::vector<Group> retry_;  // groups to write again once recovered, in order
  std::thread thread_;
  std::thread sync_thread_;
};

}  // namespace quiver
