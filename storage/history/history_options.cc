// HistoryStore's RocksDB options: the column families' prefix extractor,
// merge operator, retention filter, memtables and caches, and RocksDB's log
// in quiverd's.
#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <memory>
#include <tuple>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <spdlog/spdlog.h>

#include "storage/history/history_key.h"
#include "storage/history/rocks_internals.h"

namespace quiver {

namespace {

// (view, entity) of a history or latest key.
class EntityPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "quiver.EntityPrefix"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return {key.data(), history::PrefixLength(View(key))};
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return history::PrefixLength(View(key)) != 0;
  }
};

// Keeps the operand with the greatest (event time, sequence): the latest CF
// ends up holding the value the online table serves, whatever order
// concurrent writers' batches reached the disk in.
class NewestWins : public rocksdb::AssociativeMergeOperator {
 public:
  const char* Name() const override { return "quiver.NewestWins"; }
  bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing, const rocksdb::Slice& value,
             std::string* new_value, rocksdb::Logger*) const override {
    if (existing != nullptr && !Newer(value, *existing)) {
      new_value->assign(existing->data(), existing->size());
    } else {
      new_value->assign(value.data(), value.size());
    }
    return true;
  }

 private:
  static bool Newer(const rocksdb::Slice& a, const rocksdb::Slice& b) {
    auto va = history::DecodeLatestValue(View(a));
    auto vb = history::DecodeLatestValue(View(b));
    if (!vb) return true;
    if (!va) return false;
    return std::tie(va->event_time_ms, va->seq) > std::tie(vb->event_time_ms, vb->seq);
  }
};

// RocksDB's own log, in quiverd's: warnings and errors as such, the rest
// (compaction and flush reports, statistics) at debug level. Not a LOG file
// in the data directory, which a full disk would also break (RocksDB 7.8
// asserts on a log line after a failed write to it).
class SpdLogger : public rocksdb::Logger {
 public:
  SpdLogger() : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL) {}
  void Logv(const char* format, va_list ap) override {
    Logv(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }
  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    const spdlog::level::level_enum to =
        level >= rocksdb::InfoLogLevel::ERROR_LEVEL  ? spdlog::level::err
        : level == rocksdb::InfoLogLevel::WARN_LEVEL ? spdlog::level::warn
                                                     : spdlog::level::debug;
    if (!spdlog::should_log(to)) return;
    char line[1024];
    std::vsnprintf(line, sizeof line, format, ap);
    spdlog::log(to, "rocksdb: {}", line);
  }
};

// Drops history versions older than their view's retention. Keys reach a
// filter in sorted order, so per entity the first version it sees is the
// newest of this compaction; that one is always kept, which keeps the
// newest version overall (any newer one is outside this compaction).
class RetentionFilter : public rocksdb::CompactionFilter {
 public:
  RetentionFilter(std::vector<int64_t> retention, int64_t now_ms)
      : retention_(std::move(retention)), now_ms_(now_ms) {}
  const char* Name() const override { return "quiver.RetentionFilter"; }

  bool Filter(int, const rocksdb::Slice& key, const rocksdb::Slice&, std::string*,
              bool*) const override {
    auto d = history::DecodeKey(View(key), true);
    if (!d) return false;
    const std::string_view prefix = View(key).substr(0, key.size() - history::kTimeSeqBytes);
    if (prefix != last_prefix_) {
      last_prefix_.assign(prefix);
      return false;  // the newest version of this entity in the compaction
    }
    const int64_t keep_ms = d->view_id < retention_.size() ? retention_[d->view_id] : 0;
    return keep_ms > 0 && d->event_time_ms < now_ms_ - keep_ms;
  }

 private:
  std::vector<int64_t> retention_;
  int64_t now_ms_;
  mutable std::string last_prefix_;
};

class RetentionFilterFactory : public rocksdb::CompactionFilterFactory {
 public:
  explicit RetentionFilterFactory(std::shared_ptr<const HistoryStore::Retention> r)
      : retention_(std::move(r)) {}
  const char* Name() const override { return "quiver.RetentionFilterFactory"; }
  std::unique_ptr<rocksdb::CompactionFilter> CreateCompactionFilter(
      const rocksdb::CompactionFilter::Context&) override {
    return std::make_unique<RetentionFilter>(retention_->Snapshot(), retention_->now_ms());
  }

 private:
  std::shared_ptr<const HistoryStore::Retention> retention_;
};

// The clock cache's table is sized once, from the expected charge of an
// entry: one data block.
std::shared_ptr<rocksdb::Cache> NewBlockCache(CachePolicy policy, int64_t bytes,
                                              size_t block_size) {
  const auto capacity = static_cast<size_t>(bytes);
  if (policy == CachePolicy::kClock)
    return rocksdb::HyperClockCacheOptions(capacity, block_size).MakeSharedCache();
  return rocksdb::NewLRUCache(capacity);
}

constexpr size_t kArenaBlock = 256 << 10;

// The memtables are flushed once they hold three quarters of RocksDB's
// memory. (The history's memtable alone takes about 21 MB from the
// start: its hash index and prefix bloom filter.)
size_t MemtableBytes(int64_t rocksdb_bytes) {
  return static_cast<size_t>(rocksdb_bytes / 4 * 3);
}

rocksdb::CompressionType BestCompression() {
  for (auto c : rocksdb::GetSupportedCompressions()) {
    if (c == rocksdb::kLZ4Compression) return c;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

void HistoryStore::FitMemory(int64_t max_memory) {
  int64_t bytes = options_.block_cache_bytes;
  if (max_memory > 0) {
    bytes = std::clamp(max_memory / 4, std::min(kMinMemory, bytes), bytes);
  }
  rocks_->cache->SetCapacity(static_cast<size_t>(bytes));
  rocks_->memtables->SetBufferSize(MemtableBytes(bytes));
}

void HistoryStore::BuildOptions() {
  rocks_ = std::make_unique<RocksOptions>();
  rocksdb::DBOptions& db = rocks_->db;
  db.create_if_missing = true;
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  db.max_open_files = options_.max_open_files;
  db.bytes_per_sync = 1 << 20;
  db.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  // Without a WAL, a batch (history, latest, window state, Kafka offsets)
  // stays atomic across a crash only if the column families flush together.
  db.atomic_flush = options_.durability == Durability::kNone;
  // One committer thread writes; hash-based memtables need this off.
  db.allow_concurrent_memtable_write = false;
  // A failed write or sync is recovered by the commit queue (Recover), not
  // by RocksDB's own retries; the listener tells the queue of failures in
  // the background.
  listener_ = std::make_shared<Listener>();
  db.listeners.push_back(listener_);
  db.info_log = std::make_shared<SpdLogger>();
  if (options_.file_system) {
    env_ = rocksdb::NewCompositeEnv(options_.file_system);
    db.env = env_.get();
  }

  rocksdb::BlockBasedTableOptions table;
  rocks_->cache =
      NewBlockCache(options_.cache_policy, options_.block_cache_bytes, table.block_size);
  table.block_cache = rocks_->cache;
  // One budget for RocksDB's memory: the memtables of every column family
  // are charged to the block cache (which gives up blocks for them), and
  // flushed once they hold three quarters of it.
  rocks_->memtables = std::make_shared<rocksdb::WriteBufferManager>(
      MemtableBytes(options_.block_cache_bytes), rocks_->cache);
  db.write_buffer_manager = rocks_->memtables;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = false;  // reads seek by (view, entity) prefix

  rocksdb::ColumnFamilyOptions& history = rocks_->history;
  history.OptimizeLevelStyleCompaction();
  history.prefix_extractor = std::make_shared<EntityPrefix>();
  history.memtable_prefix_bloom_size_ratio = 0.1;
  // Every read of the history is within one (view, entity) prefix, so the
  // memtable can be a hash of small skip lists: an insert searches only its
  // entity's versions instead of the whole memtable.
  history.memtable_factory.reset(rocksdb::NewHashSkipListRepFactory(1 << 20));
  history.compression = BestCompression();
  history.level_compaction_dynamic_level_bytes = true;
  // Memtables take their memory in blocks of this size (by default an
  // eighth of the memtable: 16 MB here), each charged to the cache whole.
  history.arena_block_size = kArenaBlock;
  history.compaction_filter_factory = std::make_shared<RetentionFilterFactory>(retention_);
  history.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions& latest = rocks_->latest;
  latest.merge_operator = std::make_shared<NewestWins>();
  latest.compression = history.compression;
  latest.level_compaction_dynamic_level_bytes = true;
  latest.arena_block_size = kArenaBlock;
  rocksdb::BlockBasedTableOptions latest_table = table;
  latest_table.whole_key_filtering = true;
  latest.table_factory.reset(rocksdb::NewBlockBasedTableFactory(latest_table));

  // The latest rows, and the columns of other subsystems (window states,
  // the plain keys of the RESP port), are read back only by the scans at
  // restart, so their memtables are vectors, sorted once when flushed or
  // scanned: an insert is an append instead of a skip-list search of
  // random keys, which took half the CPU of a RESP write and most of the
  // committer's time in Kafka ingestion. (A hash memtable, as for the
  // history, made ingestion slower: every state key is its own prefix.)
  latest.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  // The write buffer manager flushes these small memtables early (it
  // flushes the largest mutable one when the budget fills): let a few wait
  // for their flush before writes stall.
  latest.max_write_buffer_number = 4;
  rocks_->side.compression = history.compression;
  rocks_->side.level_compaction_dynamic_level_bytes = true;
  rocks_->side.arena_block_size = kArenaBlock;
  rocks_->side.table_factory = latest.table_factory;
  rocks_->side.memtable_factory = latest.memtable_factory;
  rocks_->side.max_write_buffer_number = latest.max_write_buffer_number;
}

}  // namespace quiver
