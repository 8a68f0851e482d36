#include "storage/history/history_store.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <utility>

#include <rocksdb/db.h>
#include <rocksdb/utilities/checkpoint.h>
#include <spdlog/spdlog.h>

#include "storage/history/entity_versions.h"
#include "storage/history/rocks_internals.h"
#include "util/clock.h"

namespace quiver {

namespace {

constexpr char kHistoryCf[] = "history";
constexpr char kLatestCf[] = "latest";
constexpr char kDefinitionsPrefix[] = "definitions/";
constexpr char kNextSeqKey[] = "next_seq";

bool IsOwnColumn(std::string_view name) {
  return name == rocksdb::kDefaultColumnFamilyName || name == kHistoryCf || name == kLatestCf;
}

std::string BigEndian(uint64_t v) {
  std::string out;
  history::AppendBig64(v, &out);
  return out;
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
  if (s->options_.budget != nullptr) {
    s->FitMemory(s->options_.budget->limit());
    s->memory_gauge_ =
        s->options_.budget->Track(MemoryPart::kHistory, [s] { return s->memory_bytes(); });
  }
  return store;
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

int64_t HistoryStore::memory_bytes() const {
  auto bytes = static_cast<int64_t>(rocks_->cache->GetUsage());
  if (Result<DbUse> db = Use(); db.ok()) {
    uint64_t readers = 0;
    if ((*db)->GetAggregatedIntProperty(rocksdb::DB::Properties::kEstimateTableReadersMem,
                                        &readers)) {
      bytes += static_cast<int64_t>(readers);
    }
  }
  return bytes;
}

bool HistoryStore::flushing() const {
  Result<DbUse> db = Use();
  if (!db.ok()) return false;
  uint64_t pending = 0, running = 0;
  (*db)->GetAggregatedIntProperty(rocksdb::DB::Properties::kMemTableFlushPending, &pending);
  (*db)->GetIntProperty(rocksdb::DB::Properties::kNumRunningFlushes, &running);
  return pending + running > 0;
}

HistoryStore::~HistoryStore() {
  memory_gauge_ = {};  // no reading of a store being closed
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

Status HistoryStore::Checkpoint(const std::string& dir) {
  std::error_code ec;
  if (dir.empty()) return Status::InvalidArgument("a checkpoint needs a directory");
  if (std::filesystem::exists(dir, ec)) {
    return Status::AlreadyExists("checkpoint directory " + dir + " exists: name a new one");
  }
  // Whatever was submitted before the call is in the copy: a cluster
  // member's applied positions, for one, are ahead of its stored offsets
  // until their batch commits (async).
  Drain();
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  rocksdb::Checkpoint* raw = nullptr;
  QUIVER_RETURN_IF_ERROR(FromRocks(rocksdb::Checkpoint::Create(db.db, &raw), "a checkpoint"));
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  return FromRocks(checkpoint->CreateCheckpoint(dir), "writing a checkpoint into " + dir);
}

Status HistoryStore::CompactHistory() {
  rocksdb::CompactRangeOptions o;
  o.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  QUIVER_ASSIGN_OR_RETURN(DbUse db, Use());
  return FromRocks(db->CompactRange(o, Handle(kHistory), nullptr, nullptr),
                   "compacting the history");
}

}  // namespace quiver
