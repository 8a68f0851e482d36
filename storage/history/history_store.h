// HistoryStore: every version of every row, and the registry, in an
// embedded RocksDB (layout in history_key.h). The store's own column
// families:
//   default  (kMeta) registry documents, the sequence counter, and small
//            entries of other subsystems under a prefix of their own
//            (MetaKeys: Kafka offsets, drift baselines)
//   history  (kHistory) every version, newest first per entity; prefix
//            Bloom filters on (view, entity) make an as-of read one Seek
//   latest   (kLatest) the newest version per entity (a merge operator
//            keeps the greatest (event time, sequence)), scanned once at
//            restart
// Other subsystems open column families of their own by name
// (OpenColumn) and own their key encodings; today the streaming windows'
// state (storage/streaming/ingestor.h) and the RESP port's plain keys
// (kv, kv_items: storage/keyspace/key_log.h). Every column family found
// in the directory is opened, so a directory opens whichever subsystems
// ask for their columns.
//
// Writes go through a CommitQueue (group commit) and are acknowledged as
// the durability mode says. When a write, an fsync or a background flush
// fails (a full disk, an I/O error, no descriptor left), health() refuses
// new writes while reads go on; the queue keeps the writes in flight and
// retries: RocksDB's Resume for what it can resume, else, once a probe
// file can be written and synced again, a reopen of the database. The
// writes in flight are then committed, so the online table and the disk
// agree again without a restart.
//
// Threads: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "quiver/status.h"
#include "storage/history/column_family.h"
#include "storage/history/commit_queue.h"
#include "storage/history/history_key.h"
#include "storage/memory/memory_budget.h"
#include "util/function_ref.h"

namespace rocksdb {
class DB;
class Env;
class FileSystem;
class ColumnFamilyHandle;
struct ColumnFamilyOptions;
}  // namespace rocksdb

namespace quiver {

enum class Durability {
  kNone,   // no WAL: acknowledged once applied online; the last seconds may be lost on a crash
  kAsync,  // acknowledged after the WAL write (survives a process crash, not a power loss)
  kSync,   // acknowledged after the WAL is fsynced (survives a power loss)
};
Result<Durability> ParseDurability(std::string_view text);

// How the block cache of reads of the past evicts.
enum class CachePolicy {
  kLru,    // least recently used: best when the blocks read do not fit
  kClock,  // RocksDB's lock-free HyperClockCache: cheapest per hit when they do
};
Result<CachePolicy> ParseCachePolicy(std::string_view text);
std::string_view DurabilityName(Durability d);
std::string_view CachePolicyName(CachePolicy p);

// Versions found by an as-of read: per requested entity, whether a version
// was found and, if so, its event time and row. Rows point into `arena` or
// nowhere; valid until the next read into the same object.
struct VersionRows {
  enum : uint8_t { kNone = 0, kFound = 1, kTooOld = 2 };  // kTooOld: older than the ttl
  std::vector<uint8_t> found;
  std::vector<int64_t> event_time_ms;
  std::vector<std::span<const uint8_t>> rows;
  std::string arena;
};

class HistoryStore {
 public:
  static constexpr ColumnFamily kMeta{0};
  static constexpr ColumnFamily kHistory{1};
  static constexpr ColumnFamily kLatest{2};
  static constexpr size_t kMaxColumns = 32;

  struct Options {
    std::string dir;
    Durability durability = Durability::kSync;
    // RocksDB's memory: the block cache, which the memtables are charged
    // to (flushed at three quarters of it).
    int64_t block_cache_bytes = 256 << 20;
    CachePolicy cache_policy = CachePolicy::kLru;
    size_t max_queued_bytes = 64 << 20;
    std::function<int64_t()> now_ms;  // for retention; default: the system clock
    int max_open_files = -1;          // table files kept open; -1: all
    // Between attempts to recover from a failed write.
    std::chrono::milliseconds retry_every{1000};
    // The files' system; default: the operating system's (tests inject
    // failures through their own).
    std::shared_ptr<rocksdb::FileSystem> file_system;
    // The server's memory budget, where the store counts what RocksDB
    // holds (part kHistory); may be null.
    MemoryBudget* budget = nullptr;
  };

  static Result<std::unique_ptr<HistoryStore>> Open(Options options);
  // Commits everything queued, flushes the memtables (so the next start
  // replays no log), then closes the database.
  ~HistoryStore();
  HistoryStore(const HistoryStore&) = delete;
  HistoryStore& operator=(const HistoryStore&) = delete;

  Durability durability() const { return options_.durability; }
  // OK, or why writes are refused now (a Misconf status naming the
  // failure), until the store recovers.
  Status health() const { return queue_->health(); }
  bool failed() const { return queue_->failed(); }
  // RocksDB's memory within the server's limit (--max-memory; 0: none):
  // the block cache gets a quarter of it, at least kMinMemory and at most
  // Options::block_cache_bytes, and the memtables, charged to the cache,
  // are flushed at three quarters of it. Called at open and when the
  // limit changes.
  void FitMemory(int64_t max_memory);
  static constexpr int64_t kMinMemory = 32 << 20;
  // What RocksDB holds in memory: the block cache with the memtables
  // charged to it, and the table readers (indexes and filters).
  int64_t memory_bytes() const;
  // Whether a memtable flush is waiting or running (tests pace their
  // writes by it).
  bool flushing() const;
  // How many times the store recovered from a failure since it opened.
  uint64_t recoveries() const { return recoveries_.load(std::memory_order_relaxed); }

  // Every definitions document ever applied, in order (the registry is
  // rebuilt by applying them again).
  Result<std::vector<std::string>> LoadDefinitions() const;
  // Appends one document, fsynced, whatever the durability mode.
  Status AppendDefinitions(std::string_view yaml);

  // A sequence number greater than any this data directory has used:
  // orders versions with the same event time by arrival.
  uint64_t NextSeq() { return next_seq_.fetch_add(1, std::memory_order_relaxed); }

  // Queues the batch for the next group commit. `done` (may be empty)
  // runs on the committer thread once the batch is as durable as the mode
  // says, or failed.
  void Submit(HistoryBatch batch, CommitQueue::Done done);
  // Blocks until everything submitted so far is committed, or the store
  // has failed (health() then says why).
  void Drain();
  // Commits what is queued, or, while the disk refuses writes, completes
  // it with the failure; later submits fail at once. Call at shutdown while
  // the completions' targets (connections) still exist.
  void Shutdown() { queue_->Close(); }

  // Calls fn for every entry of the latest column family, in key order.
  // Stops at fn's first error and returns it.
  Status ScanLatest(
      FunctionRef<Status(const history::DecodedKey&, const history::LatestValue&)> fn) const;

  // The column family `name`, created if the directory has none yet. The
  // same name gives the same column for the life of the store. Such
  // columns suit what is written often and read back by a scan at start-up
  // or by an occasional Get: their memtables are vectors, sorted once when
  // flushed or read. Fails for the store's own names and past kMaxColumns.
  Result<ColumnFamily> OpenColumn(std::string_view name);
  // Reads one entry; false if there is none.
  Result<bool> Get(ColumnFamily c, std::string_view key, std::string* value) const;
  // Calls fn for every entry of the column whose key starts with prefix, in
  // key order. Stops at fn's first error and returns it.
  Status Scan(ColumnFamily c, std::string_view prefix,
              FunctionRef<Status(std::string_view key, std::string_view value)> fn) const;

  // For each key i: the newest version with event time <= times[i] (or
  // times[0] if times has one element) and, if ttl_ms > 0, event time >
  // times[i] - ttl_ms (an older one is reported kTooOld, without its row).
  Status AsOf(uint32_t view_id, std::span<const std::string_view> keys,
              std::span<const int64_t> times, int64_t ttl_ms, VersionRows* out) const;

  // Calls fn for each version of one entity with from_ms <= event time <=
  // to_ms, newest first, until fn returns false.
  Status Range(
      uint32_t view_id, std::string_view key, int64_t from_ms, int64_t to_ms,
      FunctionRef<bool(const history::DecodedKey&, const history::HistoryValue&)> fn) const;

  // One entry of a sorted run for IngestSorted.
  struct Entry {
    std::string_view key, value;
  };
  // Writes `count` entries, in strictly ascending key order, into one table
  // file built with the column's own options (its prefix Bloom filters
  // included), and adds that file to the column directly: no log, no
  // memtable, no flush (RocksDB's IngestExternalFile). A run that overlaps
  // what the column's memtable holds flushes it first. For writers that
  // can rebuild what they write after a crash (issue 30: a history kept at
  // checkpoints of a Kafka source); bench/README.md compares its cost with
  // the log's. Fails, adding nothing, on a key out of order.
  Status IngestSorted(ColumnFamily c, size_t count, FunctionRef<Entry(size_t i)> entry_at);

  // Versions of the view older than now - retention_ms are dropped by
  // compactions, except the newest version of each entity. 0: keep all.
  void SetRetention(uint32_t view_id, int64_t retention_ms);
  // Compacts the whole history now, on the calling thread (tests, tools).
  Status CompactHistory();
  // Writes every column's memtable to table files now (tests, tools).
  Status Flush();
  // Writes a consistent copy of the whole store (every column) into dir,
  // which must not exist: table files hard-linked where the file system
  // allows, the rest copied. Opening dir gives the store as of now, with
  // every batch submitted before the call (it waits for their commit).
  Status Checkpoint(const std::string& dir);

  // A compaction of the whole history started by StartCompaction, which
  // applies every view's retention now instead of when RocksDB next
  // rewrites the oldest files.
  struct CompactionState {
    bool running = false;
    int64_t started_ms = 0;   // of the running or last compaction (Unix ms)
    uint64_t finished = 0;    // compactions finished since the store opened
    double last_seconds = 0;  // how long the last one took
    std::string last_error;   // empty if the last one succeeded
  };
  // Starts CompactHistory on a thread of its own and returns how many
  // compactions had finished before it; fails if one is running. Closing
  // the store stops it early.
  Result<uint64_t> StartCompaction();
  CompactionState compaction() const;

  struct Retention;  // shared with the compaction filter

 private:
  struct RocksOptions;
  class Listener;
  // A use of the database by a thread other than the committer's: a reopen
  // waits until none is left.
  struct DbUse {
    std::shared_lock<std::shared_mutex> lock;
    rocksdb::DB* db;
    rocksdb::DB* operator->() const { return db; }
  };
  // Unavailable while a reopen that failed left the database closed.
  Result<DbUse> Use() const;

  explicit HistoryStore(Options options);
  void BuildOptions();
  Status OpenDb();
  // Opens the database with these column families, in this order (their ids).
  Status OpenColumns(const std::vector<std::string>& names);
  void CloseDb();
  Status WriteGroup(std::span<const HistoryBatch* const> batches);
  Status SyncLog();
  // Called by the commit queue after a failure (history_recovery.cc);
  // logs, and counts recoveries.
  Status Recover();
  Status TryRecover();
  // Whether a file can be created, written and synced in the directory.
  Status Probe() const;
  Status Reopen();

  Options options_;
  std::shared_ptr<Retention> retention_;
  std::unique_ptr<RocksOptions> rocks_;
  std::unique_ptr<rocksdb::Env> env_;  // over options_.file_system, if given
  std::shared_ptr<Listener> listener_;
  // db_ changes only on the committer thread (a reopen), under db_mu_
  // exclusively; other threads use it under db_mu_ shared (Use()).
  mutable std::shared_mutex db_mu_;
  rocksdb::DB* db_ = nullptr;
  std::atomic<uint64_t> recoveries_{0};
  // Of the failure being recovered; the committer thread's.
  std::optional<std::chrono::steady_clock::time_point> failing_since_;
  std::chrono::steady_clock::time_point last_logged_;
  rocksdb::ColumnFamilyHandle* Handle(ColumnFamily c) const {
    return c.id < kMaxColumns ? handles_[c.id].load(std::memory_order_acquire) : nullptr;
  }
  std::vector<rocksdb::ColumnFamilyHandle*> OpenHandles() const;

  // Indexed by ColumnFamily::id; a slot is set once, before its id is handed out.
  std::array<std::atomic<rocksdb::ColumnFamilyHandle*>, kMaxColumns> handles_{};
  std::mutex columns_mu_;                  // serialises OpenColumn
  std::vector<std::string> column_names_;  // by id; guarded by columns_mu_
  std::atomic<uint64_t> next_seq_{1};
  std::atomic<uint64_t> ingested_files_{0};  // names IngestSorted's files
  std::mutex definitions_mu_;                // serialises AppendDefinitions
  uint64_t definitions_ = 0;                 // documents stored; the next one's index
  std::unique_ptr<CommitQueue> queue_;

  mutable std::mutex compaction_mu_;
  CompactionState compaction_;  // guarded by compaction_mu_
  std::thread compactor_;       // guarded by compaction_mu_; joined by the next start or on close
  MemoryBudget::Gauge memory_gauge_;  // reads memory_bytes() into Options::budget
};

}  // namespace quiver
