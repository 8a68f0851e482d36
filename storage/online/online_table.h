// OnlineTable: the latest value of every (view, entity) key, in S shards,
// each an open-addressing hash table of pointers to immutable Records.
//
// Threads: any number of threads may call any method concurrently, provided
// each is registered with rcu::ThreadRegistration.
//
// Readers take no lock and write no shared memory: a lookup is a probe of
// atomic slots inside the caller's rcu::ReadLock. Each slot is one 64-bit
// word: a 48-bit record pointer and a 16-bit tag of the key's hash, so most
// non-matching slots are skipped without touching their record. A writer
// builds a new Record and publishes it with one compare-and-swap on its
// slot, retrying if another writer won; the record it replaced is freed
// after an RCU grace period. Inserts only ever claim never-used slots, so
// two writers inserting one key meet at the same slot and one CAS decides.
// A table that fills up is rebuilt at a new size by one writer while the
// others of that shard wait (a shared/exclusive lock that readers never
// touch); readers go on using the old table until they leave their read
// section, and it is freed after a grace period.
//
// LeakSanitizer does not recognise tagged pointers, so it reports the rows
// of a table that is never destroyed as leaked: destroy tables before exit.
//
// FindMany looks up a batch with memory-level parallelism: it hashes every
// key and prefetches every slot, then every candidate record, before
// comparing, so the cache misses of a batch overlap instead of queueing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/memory/memory_budget.h"
#include "storage/online/record.h"
#include "util/function_ref.h"

namespace quiver {

class OnlineTable {
 public:
  struct Options {
    uint32_t shards = 64;
    // The server's memory budget, which the records are counted in (part
    // kRows) and whose limit refuses writes; null: a budget of the
    // table's own, with max_memory_bytes as its limit (0: none).
    MemoryBudget* budget = nullptr;
    int64_t max_memory_bytes = 0;
  };

  enum class Outcome {
    kInserted,  // the key had no value
    kReplaced,  // the new value replaced an older (or equally old) one
    kStale,     // an existing value has a newer event time; nothing changed
  };

  // Builds the new record from the current one (nullptr if none). Must
  // return a record from Record::Allocate with key, view_id and times set,
  // or nullptr if allocation failed.
  using Builder = FunctionRef<Record*(const Record* current)>;

  explicit OnlineTable(Options options);
  // REQUIRES: no other thread uses the table any more.
  ~OnlineTable();
  OnlineTable(const OnlineTable&) = delete;
  OnlineTable& operator=(const OnlineTable&) = delete;

  // The record stored for the key, expired or not, or nullptr.
  // REQUIRES: the caller holds an rcu::ReadLock; the record stays valid
  // until that lock is released.
  const Record* Find(uint32_t view_id, std::string_view key) const;

  // Find for every key: out[i] is the record of keys[i] or nullptr.
  // REQUIRES: rcu::ReadLock held; out.size() == keys.size().
  void FindMany(uint32_t view_id, std::span<const std::string_view> keys,
                std::span<const Record*> out) const;

  // Starts fetching the slots and records that lookups or writes of these
  // keys will touch, so that their cache misses overlap (a pipelined batch
  // of single-key commands). Changes nothing. REQUIRES: rcu::ReadLock held.
  void Prefetch(uint32_t view_id, std::span<const std::string_view> keys) const;

  // Whether a write is held to the memory limit. Rows computed by
  // ingestion are not: ingestion checks the limit before each batch and
  // pauses there, so that a batch is applied whole (its window states and
  // its rows agree); the table may pass the limit by one batch.
  enum class Limit : uint8_t { kEnforce, kIgnore };

  // Last-writer-wins by event time: replaces the current value only if its
  // event time is <= event_time_ms (ties go to the later arrival). Fails
  // with ResourceExhausted, changing nothing, if the new value would take
  // the table over its memory limit (unless limit is kIgnore).
  // REQUIRES: the caller holds an rcu::ReadLock.
  Result<Outcome> Upsert(uint32_t view_id, std::string_view key, int64_t event_time_ms,
                         Builder build, Limit limit = Limit::kEnforce);

  // What a Mutator decided for its key.
  struct Change {
    enum Kind : uint8_t { kKeep, kPut, kErase };
    Kind kind = kKeep;
    Record* record = nullptr;  // kPut: from Record::Allocate, owned by the table from now on
  };
  // Decides the key's new value from its current record (nullptr if none,
  // expired or not). Called again with the newer record if another writer
  // changed the key meanwhile (a record it returned then is freed), so it
  // must keep its outputs only from its last call. An error changes nothing.
  using Mutator = FunctionRef<Result<Change>(const Record* current)>;

  // The general atomic read-modify-write of one key: what fn returns is
  // installed with one compare-and-swap against the record fn saw. Returns
  // the change made (kKeep if fn kept the key as it was). Fails with
  // ResourceExhausted, changing nothing, over the memory limit.
  // REQUIRES: the caller holds an rcu::ReadLock.
  Result<Change::Kind> Mutate(uint32_t view_id, std::string_view key, Mutator fn,
                              Limit limit = Limit::kEnforce);

  // Removes the key; false if it had no value. REQUIRES: rcu::ReadLock held.
  bool Erase(uint32_t view_id, std::string_view key);

  // Removes every record pred chooses; calls removed(record) for each
  // (before it is retired) and returns how many. Takes its own read locks,
  // one shard at a time; pred must not write to the table.
  size_t RemoveIf(FunctionRef<bool(const Record&)> pred, FunctionRef<void(const Record&)> removed);
  // Removes every record expired at now_ms; returns how many. One sweep at
  // a time, as for the sweep in slices below.
  size_t SweepExpired(int64_t now_ms);
  size_t SweepExpired(int64_t now_ms, FunctionRef<void(const Record&)> removed);

  // A sweep in slices: the cursor says where the next slice goes on from.
  // Records without an expiry are skipped without being read (their slot
  // tells), and so is every shard in which nothing expires before now_ms
  // (each shard keeps a lower bound of its records' expiries), so a pass
  // over rows without a TTL, or none of them due, reads almost nothing.
  struct SweepCursor {
    uint32_t shard = 0;
    uint64_t slot = 0;
    // Of the shard under way: how often it had grown when its pass began,
    // and the earliest expiry among the records it kept so far.
    uint64_t generation = 0;
    int64_t earliest = 0;
  };
  struct SweepSlice {
    size_t removed = 0;
    bool finished = false;  // the pass reached the end; the cursor is back at the start
  };
  using SweepDeadline = std::chrono::steady_clock::time_point;
  // Removes expired records from *cursor on, calling removed(record) for
  // each (before it is retired), until the end of the table or, once some
  // slots are examined, the deadline. A shard that grows between slices is
  // read again from its start. REQUIRES: one sweep at a time (a shard's
  // bound is raised by the pass that read it all).
  SweepSlice SweepExpired(int64_t now_ms, SweepCursor* cursor, SweepDeadline deadline,
                          FunctionRef<void(const Record&)> removed);

  // Resumable iteration over the records of one view that visits every
  // record present for the whole iteration at least once, even while the
  // table grows (Redis's SCAN guarantee; records may come twice). Starts
  // with cursor 0 and returns the cursor to continue from, 0 at the end.
  // Visits about `count` records of the view per call, or stops after
  // examining a bounded number of slots. REQUIRES: rcu::ReadLock held; fn
  // must not write to the table.
  uint64_t Scan(uint32_t view_id, uint64_t cursor, size_t count,
                FunctionRef<void(const Record&)> fn) const;

  // A record of the view chosen at random among those fn accepts, or
  // nullptr if there is none. REQUIRES: rcu::ReadLock held.
  const Record* Random(uint32_t view_id, uint64_t seed,
                       FunctionRef<bool(const Record&)> accept) const;

  // Calls fn for every record of one view, shard by shard.
  // REQUIRES: rcu::ReadLock held; fn must not write to the table.
  void ForEachInView(uint32_t view_id, FunctionRef<void(const Record&)> fn) const;
  // Calls fn for every record of every view, one shard at a time, each
  // under a read lock of its own (so a pass over a large table does not
  // hold back the reclamation of what writers replace meanwhile). fn must
  // not write to the table.
  void ForEach(FunctionRef<void(const Record&)> fn) const;

  // Bytes held by live records (allocation sizes, and what list boxes
  // hold; excludes the slot arrays).
  int64_t memory_bytes() const { return budget_->bytes(MemoryPart::kRows); }
  // Counts bytes held outside the records (a ListBox's items); negative
  // to give them back.
  void AddMemory(int64_t bytes) { budget_->Add(MemoryPart::kRows, bytes); }
  // The memory budget's limit, which bounds more than the table (0: none).
  int64_t max_memory_bytes() const { return budget_->limit(); }
  // Changes the memory limit (CONFIG SET maxmemory); 0: no limit.
  void set_max_memory_bytes(int64_t bytes) { budget_->set_limit(bytes); }
  MemoryBudget& budget() const { return *budget_; }
  int64_t size() const { return count_.load(std::memory_order_relaxed); }

 private:
  struct Shard;
  struct Slots;
  uint64_t Hash(uint32_t view_id, std::string_view key) const;
  Shard& ShardFor(uint64_t hash) const;
  Status CheckMemory(int64_t added_bytes) const;
  // Hashes keys (at most kPrefetchChunk) into hashes and slots, prefetching
  // each key's slot and then its candidate record.
  static constexpr size_t kPrefetchChunk = 32;
  void PrefetchChunk(uint32_t view_id, std::span<const std::string_view> keys, uint64_t* hashes,
                     const Slots** slots) const;
  void Retire(Record* r);
  // Lowers the shard's bound of its records' expiries to expire_at_ms.
  static void LowerEarliestExpiry(Shard& shard, int64_t expire_at_ms);
  // Removes, from *slot on until the end of s or the deadline, the records
  // whose slot word has every one of required_bits and that pred chooses;
  // counts them in *slice and lowers *earliest to the expiry of each
  // record with one that it keeps. False if it stopped at the deadline.
  bool RemoveFrom(Slots& s, uint64_t* slot, SweepDeadline deadline, uint64_t required_bits,
                  FunctionRef<bool(const Record&)> pred, FunctionRef<void(const Record&)> removed,
                  SweepSlice* slice, int64_t* earliest);
  // One shard's part of SweepExpired: false if it stopped at the deadline.
  bool SweepShard(Shard& shard, int64_t now_ms, SweepCursor* cursor, SweepDeadline deadline,
                  FunctionRef<void(const Record&)> removed, SweepSlice* slice);
  // Rebuilds the shard's slots at a size with room for its live records.
  Status Grow(Shard& shard);
  // One attempt of Mutate under the shard's shared lock: false (and *out
  // unset) if the shard must grow first.
  bool TryMutate(Shard& shard, uint64_t hash, uint32_t view_id, std::string_view key, Mutator fn,
                 Limit limit, Result<Change::Kind>* out);
  // Calls fn for every record of the shard. REQUIRES: rcu::ReadLock held.
  static void ForEachInShard(const Shard& shard, FunctionRef<void(const Record&)> fn);
  // Visits the records whose home slot (hash & mask) is `home`; returns how
  // many belong to the view.
  size_t ScanHome(const Slots& s, uint64_t home, uint32_t view_id,
                  FunctionRef<void(const Record&)> fn) const;

  Options options_;
  std::vector<Shard*> shards_;
  std::unique_ptr<MemoryBudget> own_budget_;  // when Options has none
  // Written by writers with relaxed adds; approximate while writes race.
  MemoryBudget* budget_;
  std::atomic<int64_t> count_{0};
};

}  // namespace quiver
