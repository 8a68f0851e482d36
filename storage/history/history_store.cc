#include "storage/history/history_store.h"

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <limits>
#include <optional>
#include <utility>

#include <rocksdb/cache.h>
#include <rocksdb/compaction_filter.h>
#include <rocksdb/convenience.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/listener.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <rocksdb/utilities/options_util.h>
#include <spdlog/spdlog.h>

#include "storage/history/entity_versions.h"
#include "util/clock.h"

namespace quiver {

namespace {

constexpr char kHistoryCf[] = "history";
constexpr char kLatestCf[] = "latest";
constexpr char kDefinitionsPrefix[] = "definitions/";
constexpr char kNextSeqKey[] = "next_seq";

Status FromRocks(const rocksdb::Status& s, std::string_view what) {
  if (s.ok()) return Status::Ok();
  return Status::IoError(std::string(what) + ": " + s.ToString());
}

std::string_view View(const rocksdb::Slice& s) {
  return {s.data(), s.size()};
}

bool IsOwnColumn(std::string_view name) {
  return name == rocksdb::kDefaultColumnFamilyName || name == kHistoryCf || name == kLatestCf;
}

std::string BigEndian(uint64_t v) {
  std::string out;
  history::AppendBig64(v, &out);
  return out;
}

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

}  // namespace

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

struct HistoryStore::RocksOptions {
  rocksdb::DBOptions db;
  rocksdb::ColumnFamilyOptions meta, history, latest;
  rocksdb::ColumnFamilyOptions side;  // of the columns of other subsystems (OpenColumn)
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

namespace {

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

rocksdb::CompressionType BestCompression() {
  for (auto c : rocksdb::GetSupportedCompressions()) {
    if (c == rocksdb::kLZ4Compression) return c;
  }
  return rocksdb::kNoCompression;
}

}  // namespace

Result<Durability> ParseDurability(std::string_view text) {
  if (text == "none") return Durability::kNone;
  if (text == "async") return Durability::kAsync;
  if (text == "sync") return Durability::kSync;
  return Status::InvalidArgument("unknown durability '" + std::string(text) +
                                 "' (expected none, async or sync)");
}

Result<CachePolicy> ParseCachePolicy(std::string_view text) {
  if (text == "lru") return CachePolicy::kLru;
  if (text == "clock") return CachePolicy::kClock;
  return Status::InvalidArgument("unknown cache policy '" + std::string(text) +
                                 "' (expected lru or clock)");
}

std::string_view DurabilityName(Durability d) {
  switch (d) {
    case Durability::kNone:
      return "none";
    case Durability::kAsync:
      return "async";
    case Durability::kSync:
      return "sync";
  }
  return "?";
}

std::string_view CachePolicyName(CachePolicy p) {
  return p == CachePolicy::kClock ? "clock" : "lru";
}

HistoryStore::HistoryStore(Options options)
    : options_(std::move(options)), retention_(std::make_shared<Retention>()) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
  retention_->now_ms = options_.now_ms;
}

Result<std::unique_ptr<HistoryStore>> HistoryStore::Open(Options options) {
  std::unique_ptr<HistoryStore> store(new HistoryStore(std::move(options)));
  QUIVER_RETURN_IF_ERROR(store->OpenDb());
  HistoryStore* s = store.get();
  CommitQueue::SyncLog sync;
  if (s->options_.durability == Durability::kSync) sync = [s] { return s->SyncLog(); };
  store->queue_ = std::make_unique<CommitQueue>(
      [s](std::span<const HistoryBatch* const> b) { return s->WriteGroup(b); }, std::move(sync),
      [s] { return s->Recover(); },
      CommitQueue::Options{s->options_.max_queued_bytes, s->options_.retry_every});
  s->listener_->Attach(s->queue_.get());
  return store;
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
  table.block_cache =
      NewBlockCache(options_.cache_policy, options_.block_cache_bytes, table.block_size);
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
  history.compaction_filter_factory = std::make_shared<RetentionFilterFactory>(retention_);
  history.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));

  rocksdb::ColumnFamilyOptions& latest = rocks_->latest;
  latest.merge_operator = std::make_shared<NewestWins>();
  latest.compression = history.compression;
  latest.level_compaction_dynamic_level_bytes = true;
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
  rocks_->side.compression = history.compression;
  rocks_->side.level_compaction_dynamic_level_bytes = true;
  rocks_->side.table_factory = latest.table_factory;
  rocks_->side.memtable_factory = latest.memtable_factory;
}

Status HistoryStore::OpenDb() {
  BuildOptions();
  std::vector<std::string> names = {rocksdb::kDefaultColumnFamilyName, kHistoryCf, kLatestCf};
  // RocksDB opens a directory only with all its column families.
  std::vector<std::string> found;
  if (rocksdb::DB::ListColumnFamilies(rocks_->db, options_.dir, &found).ok()) {
    for (const std::string& name : found) {
      if (!IsOwnColumn(name)) names.push_back(name);
    }
  }
  if (names.size() > kMaxColumns) {
    return Status::FailedPrecondition("the history in " + options_.dir + " has " +
                                      std::to_string(names.size()) + " column families; at most " +
                                      std::to_string(kMaxColumns) + " are supported");
  }
  QUIVER_RETURN_IF_ERROR(OpenColumns(names));
  column_names_ = std::move(names);
  // Appends number the documents after the last one stored.
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> docs, LoadDefinitions());
  definitions_ = docs.size();
  return Status::Ok();
}

Status HistoryStore::OpenColumns(const std::vector<std::string>& names) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& name : names) {
    const rocksdb::ColumnFamilyOptions& o = name == kHistoryCf  ? rocks_->history
                                            : name == kLatestCf ? rocks_->latest
                                            : IsOwnColumn(name) ? rocks_->meta
                                                                : rocks_->side;
    cfs.emplace_back(name, o);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  QUIVER_RETURN_IF_ERROR(FromRocks(rocksdb::DB::Open(rocks_->db, options_.dir, cfs, &handles, &db_),
                                   "opening the history in " + options_.dir));
  // Column ids are positions in `names`: a reopen keeps every id.
  for (size_t i = 0; i < handles.size(); ++i)
    handles_[i].store(handles[i], std::memory_order_release);

  std::string next;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), Handle(kMeta), kNextSeqKey, &next);
  if (s.ok() && next.size() == 8) {
    // A reopen never moves the counter back.
    const uint64_t stored = history::ReadBig64(next.data());
    if (stored > next_seq_.load(std::memory_order_relaxed))
      next_seq_.store(stored, std::memory_order_relaxed);
  } else if (!s.IsNotFound()) {
    return FromRocks(s.ok() ? rocksdb::Status::Corruption("bad next_seq") : s, "reading next_seq");
  }
  return Status::Ok();
}

HistoryStore::~HistoryStore() {
  std::thread compactor;
  {
    std::lock_guard<std::mutex> lock(compaction_mu_);
    compactor = std::move(compactor_);
  }
  if (compactor.joinable()) {
    if (db_ != nullptr) db_->DisableManualCompaction();  // a running one returns early
    compactor.join();
  }
  if (listener_ != nullptr) listener_->Attach(nullptr);
  queue_.reset();  // commits what is queued
  CloseDb();
}

void HistoryStore::CloseDb() {
  if (db_ == nullptr) return;
  // Without a WAL the memtables are the only copy; with one, flushing now
  // spares the next start replaying it.
  const std::vector<rocksdb::ColumnFamilyHandle*> handles = OpenHandles();
  db_->Flush(rocksdb::FlushOptions(), handles);
  for (auto& h : handles_) {
    if (auto* p = h.exchange(nullptr)) db_->DestroyColumnFamilyHandle(p);
  }
  db_->Close();
  delete db_;
  db_ = nullptr;
}

Result<HistoryStore::DbUse> HistoryStore::Use() const {
  std::shared_lock<std::shared_mutex> lock(db_mu_);
  if (db_ == nullptr) {
    return Status::Unavailable(
        "the history is closed: reopening it after a disk failure failed; "
        "quiverd retries");
  }
  return DbUse{std::move(lock), db_};
}

Status HistoryStore::WriteGroup(std::span<const HistoryBatch* const> batches) {
  if (db_ == nullptr) return Status::Unavailable("the history is closed");
  // A RocksDB record is about as long as ours (a tag, the column family and
  // varint lengths in place of our fixed 9-byte header): reserve that much
  // once instead of copying the batch as it grows.
  size_t bytes = 0;
  for (const HistoryBatch* b : batches)
    bytes += b->bytes();
  rocksdb::WriteBatch wb(bytes);
  ColumnFamily unknown{0};
  for (const HistoryBatch* b : batches) {
    b->ForEach(
        [&](HistoryBatch::Op op, ColumnFamily c, std::string_view key, std::string_view value) {
          rocksdb::ColumnFamilyHandle* cf = Handle(c);
          if (cf == nullptr) {
            unknown = c;
            return;
          }
          switch (op) {
            case HistoryBatch::Op::kPut:
              wb.Put(cf, key, value);
              break;
            case HistoryBatch::Op::kDelete:
              wb.Delete(cf, key);
              break;
            case HistoryBatch::Op::kDeleteRange:
              wb.DeleteRange(cf, key, value);
              break;
            case HistoryBatch::Op::kMerge:
              wb.Merge(cf, key, value);
              break;
          }
        });
  }
  if (unknown.id != 0) {
    return Status::Internal("a write to column " + std::to_string(unknown.id) +
                            ", which this history store did not open");
  }
  // Every sequence number in this group was taken before it was queued, so
  // the counter now is above all of them.
  wb.Put(Handle(kMeta), kNextSeqKey, BigEndian(next_seq_.load(std::memory_order_relaxed)));
  // In sync mode the commit queue's sync step fsyncs the log (SyncLog),
  // overlapping with the next groups' writes.
  rocksdb::WriteOptions wo;
  wo.disableWAL = options_.durability == Durability::kNone;
  return FromRocks(db_->Write(wo, &wb), "writing the history");
}

Status HistoryStore::SyncLog() {
  if (db_ == nullptr) return Status::Unavailable("the history is closed");
  return FromRocks(db_->SyncWAL(), "syncing the write-ahead log");
}

void HistoryStore::Submit(HistoryBatch batch, CommitQueue::Done done) {
  queue_->Submit(std::move(batch), std::move(done));
}

void HistoryStore::Drain() {
  queue_->Drain();
}

Result<std::vector<std::string>> HistoryStore::LoadDefinitions() const {
  std::vector<std::string> docs;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), Handle(kMeta)));
  for (it->Seek(kDefinitionsPrefix); it->Valid() && it->key().starts_with(kDefinitionsPrefix);
       it->Next()) {
    docs.emplace_back(it->value().ToString());
  }
  QUIVER_RETURN_IF_ERROR(FromRocks(it->status(), "reading the registry"));
  return docs;
}

Status HistoryStore::AppendDefinitions(std::string_view yaml) {
  std::lock_guard<std::mutex> lock(definitions_mu_);
  QUIVER_RETURN_IF_ERROR(health());
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  rocksdb::WriteOptions wo;
  wo.sync = true;
  QUIVER_RETURN_IF_ERROR(
      FromRocks(db->Put(wo, Handle(kMeta), kDefinitionsPrefix + BigEndian(definitions_),
                        rocksdb::Slice(yaml.data(), yaml.size())),
                "saving the definitions"));
  ++definitions_;
  return Status::Ok();
}

Status HistoryStore::ScanLatest(
    FunctionRef<Status(const history::DecodedKey&, const history::LatestValue&)> fn) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 4 << 20;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, Handle(kLatest)));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto key = history::DecodeKey(View(it->key()), false);
    auto value = history::DecodeLatestValue(View(it->value()));
    if (!key || !value) {
      return Status::IoError("corrupt entry in the latest column family (key of " +
                             std::to_string(it->key().size()) + " bytes)");
    }
    QUIVER_RETURN_IF_ERROR(fn(*key, *value));
  }
  return FromRocks(it->status(), "scanning the latest values");
}

Result<ColumnFamily> HistoryStore::OpenColumn(std::string_view name) {
  if (name.empty() || IsOwnColumn(name))
    return Status::InvalidArgument("'" + std::string(name) + "' is a column of the history store");
  // The database first, then the names: the order a reopen takes them in.
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  std::lock_guard<std::mutex> lock(columns_mu_);
  for (size_t i = 0; i < column_names_.size(); ++i) {
    if (column_names_[i] == name) return ColumnFamily{static_cast<uint8_t>(i)};
  }
  if (column_names_.size() >= kMaxColumns) {
    return Status::ResourceExhausted("cannot open column '" + std::string(name) + "': at most " +
                                     std::to_string(kMaxColumns) + " columns");
  }
  rocksdb::ColumnFamilyHandle* handle = nullptr;
  QUIVER_RETURN_IF_ERROR(FromRocks(db->CreateColumnFamily(rocks_->side, std::string(name), &handle),
                                   "creating column family " + std::string(name)));
  const auto id = static_cast<uint8_t>(column_names_.size());
  handles_[id].store(handle, std::memory_order_release);
  column_names_.emplace_back(name);
  return ColumnFamily{id};
}

std::vector<rocksdb::ColumnFamilyHandle*> HistoryStore::OpenHandles() const {
  std::vector<rocksdb::ColumnFamilyHandle*> out;
  for (const auto& h : handles_) {
    if (auto* p = h.load(std::memory_order_acquire)) out.push_back(p);
  }
  return out;
}

Result<bool> HistoryStore::Get(ColumnFamily c, std::string_view key, std::string* value) const {
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  rocksdb::ColumnFamilyHandle* cf = Handle(c);
  if (cf == nullptr) return Status::Internal("a read of a column this store did not open");
  rocksdb::Status s =
      db->Get(rocksdb::ReadOptions(), cf, rocksdb::Slice(key.data(), key.size()), value);
  if (s.IsNotFound()) return false;
  QUIVER_RETURN_IF_ERROR(FromRocks(s, "reading " + std::string(key)));
  return true;
}

Status HistoryStore::Scan(ColumnFamily c, std::string_view prefix,
                          FunctionRef<Status(std::string_view, std::string_view)> fn) const {
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  rocksdb::ColumnFamilyHandle* cf = Handle(c);
  if (cf == nullptr) return Status::Internal("a scan of a column this store did not open");
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  ro.readahead_size = 4 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, cf));
  // An empty prefix is the whole column (and may have no data pointer,
  // which memcmp must not see).
  const rocksdb::Slice start(prefix.empty() ? "" : prefix.data(), prefix.size());
  for (it->Seek(start); it->Valid() && it->key().starts_with(start); it->Next())
    QUIVER_RETURN_IF_ERROR(fn(View(it->key()), View(it->value())));
  return FromRocks(it->status(), "scanning column family " + cf->GetName());
}

Status HistoryStore::AsOf(uint32_t view_id, std::span<const std::string_view> keys,
                          std::span<const int64_t> times, int64_t ttl_ms, VersionRows* out) const {
  const size_t n = keys.size();
  out->found.assign(n, VersionRows::kNone);
  out->event_time_ms.assign(n, 0);
  out->rows.assign(n, {});
  out->arena.clear();
  auto time_of = [&](size_t i) { return times.size() == 1 ? times[0] : times[i]; };
  // Seeks in key order touch each data block once and in order, instead of
  // jumping around the files.
  std::vector<uint32_t> order(n);
  for (uint32_t i = 0; i < n; ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    const int c = history::ComparePrefixOrder(keys[a], keys[b]);
    return c != 0 ? c < 0 : time_of(a) > time_of(b);
  });
  std::vector<std::pair<size_t, size_t>> where(n);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, Handle(kHistory)));
  std::optional<history::EntityVersions> versions;
  std::string_view entity;  // of *versions
  for (uint32_t i : order) {
    const int64_t t = time_of(i);
    if (versions && keys[i] == entity) {
      versions->SkipTo(t);  // the same entity at an earlier time: a few steps forward
    } else {
      entity = keys[i];
      versions.emplace(it.get(), view_id, entity);
      versions->SeekTo(t);
    }
    QUIVER_ASSIGN_OR_RETURN(auto version, versions->Current());
    if (!version) continue;
    const auto& [d, v] = *version;
    if (ttl_ms > 0 && d.event_time_ms <= SaturatingSub(t, ttl_ms)) {
      out->found[i] = VersionRows::kTooOld;
      continue;
    }
    out->found[i] = VersionRows::kFound;
    out->event_time_ms[i] = d.event_time_ms;
    where[i] = {out->arena.size(), v.row.size()};
    out->arena.append(reinterpret_cast<const char*>(v.row.data()), v.row.size());
  }
  QUIVER_RETURN_IF_ERROR(FromRocks(it->status(), "reading the history"));
  // Spans are taken only now: appending may have moved the arena.
  const auto* base = reinterpret_cast<const uint8_t*>(out->arena.data());
  for (size_t i = 0; i < n; ++i) {
    if (out->found[i] == VersionRows::kFound)
      out->rows[i] = {base + where[i].first, where[i].second};
  }
  return Status::Ok();
}

Status HistoryStore::Range(
    uint32_t view_id, std::string_view key, int64_t from_ms, int64_t to_ms,
    FunctionRef<bool(const history::DecodedKey&, const history::HistoryValue&)> fn) const {
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, Handle(kHistory)));
  history::EntityVersions versions(it.get(), view_id, key);
  for (versions.SeekTo(to_ms);; versions.Next()) {
    QUIVER_ASSIGN_OR_RETURN(auto version, versions.Current());
    if (!version || version->first.event_time_ms < from_ms ||
        !fn(version->first, version->second)) {
      break;
    }
  }
  return FromRocks(it->status(), "reading the history");
}

void HistoryStore::SetRetention(uint32_t view_id, int64_t retention_ms) {
  std::lock_guard<std::mutex> lock(retention_->mu);
  if (retention_->by_view.size() <= view_id) retention_->by_view.resize(view_id + 1, 0);
  retention_->by_view[view_id] = retention_ms;
}

Status HistoryStore::Flush() {
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  return FromRocks(db->Flush(rocksdb::FlushOptions(), OpenHandles()), "flushing the history");
}

Status HistoryStore::CompactHistory() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  return FromRocks(db->CompactRange(o, Handle(kHistory), nullptr, nullptr),
                   "compacting the history");
}

}  // namespace quiver
