// KeySpace::Recover: the plain keys rebuilt from the log at start-up, one
// scan of kv (the keys), then one of kv_items (the boxes' items).
#include <chrono>
#include <unordered_map>

#include <spdlog/spdlog.h>

#include "storage/history/meta_keys.h"
#include "storage/keyspace/keyspace.h"
#include "util/byte_codec.h"
#include "util/rcu.h"

namespace quiver {

namespace {

// A box being loaded, and the key that holds it.
struct Loading {
  Box* box;
  RecordKind kind;
  int db;
  std::string key;
};

Status Corrupt(std::string_view what) {
  return Status::IoError("corrupt entry in the " + std::string(what) +
                         " column family of the plain keys");
}

// A box of the kind loaded; nullptr if out of memory.
Box* NewBox(OnlineTable& table, RecordKind kind, const Box::Persistence& p) {
  switch (kind) {
    case RecordKind::kList:
      return ListBox::New(table, p);
    case RecordKind::kZSet:
      return ZSetBox::New(table, p);
    default:  // a hash or a set
      return HashBox::New(table, p);
  }
}

}  // namespace

Status KeySpace::RecoverSwaps() {
  std::string mapping;
  QUIVER_ASSIGN_OR_RETURN(bool found,
                          MetaKeys(&log_->store(), kSwapsPrefix).Get(kSwapsName, &mapping));
  if (!found) return Status::Ok();
  const auto n = static_cast<int>(mapping.size() / 4);
  std::vector<bool> seen(static_cast<size_t>(n), false);
  ByteReader in(mapping);
  for (int db = 0; db < n; ++db) {
    uint32_t view = 0;
    if (!in.Get(&view) || view >= static_cast<uint32_t>(n) || seen[view]) {
      return Status::FailedPrecondition(
          "the data directory's mapping of databases (SWAPDB) is "
          "corrupt");
    }
    seen[view] = true;
  }
  if (n != databases_) {
    return Status::FailedPrecondition("the data directory was written with " + std::to_string(n) +
                                      " databases and SWAPDB "
                                      "exchanged some of them; start with databases " +
                                      std::to_string(n));
  }
  ByteReader again(mapping);
  for (int db = 0; db < n; ++db) {
    uint32_t view = 0;
    again.Get(&view);
    physical_[db].store(static_cast<int>(view), std::memory_order_release);
    logical_[view].store(db, std::memory_order_release);
  }
  return Status::Ok();
}

Status KeySpace::Recover() {
  if (log_ == nullptr) return Status::Ok();
  const auto start = std::chrono::steady_clock::now();
  rcu::ReadLock read_lock;
  const int64_t now = NowMs();
  HistoryBatch repair;  // what the scans found to delete or rewrite
  std::unordered_map<uint64_t, Loading> boxes;
  int64_t keys = 0, expired = 0;

  auto load_key = [&](std::string_view k, std::string_view v) -> Status {
    auto d = KeyLog::DecodeKv(k, v);
    if (!d) return Corrupt("kv");
    if (d->db >= databases_) {
      return Status::FailedPrecondition(
          "the data directory holds keys of database " + std::to_string(d->db) + ", but only " +
          std::to_string(databases_) + " databases are configured (databases)");
    }
    if (d->expire_at_ms != kNeverExpires && d->expire_at_ms <= now) {
      ++expired;
      repair.Delete(log_->kv(), k);
      return Status::Ok();  // its items, if any, are orphans now
    }
    Record* r = nullptr;
    if (d->boxed) {
      auto [it, fresh] = boxes.try_emplace(d->box_id);
      if (fresh) {
        const Box::Persistence p{log_, d->db, d->box_id};
        Box* box = NewBox(table_, d->kind, p);
        if (box == nullptr) return Status::ResourceExhausted("out of memory loading the keys");
        it->second = Loading{box, d->kind, d->db, std::string(d->key)};
        log_->SawBoxId(d->box_id);
      }
      r = NewBoxed(d->db, d->key, d->kind, *it->second.box, d->expire_at_ms);
    } else {
      r = NewRecord(d->db, d->key, d->kind, d->value, d->expire_at_ms);
    }
    if (r == nullptr) {
      return Status::ResourceExhausted(
          "the stored plain keys need more memory than the memory limit allows");
    }
    ++keys;
    return Mutate(d->db, d->key,
                  [r](const Record*) -> Result<Change> {
                    return Change{Change::kPut, r};
                  })
        .status();
  };

  uint64_t orphan = 0;  // the box whose items are being deleted
  auto load_item = [&](std::string_view k, std::string_view v) -> Status {
    auto d = KeyLog::DecodeItem(k);
    if (!d) return Corrupt("kv_items");
    auto it = boxes.find(d->box_id);
    if (it == boxes.end() || it->second.db != d->db) {
      if (orphan != d->box_id || orphan == 0) {
        orphan = d->box_id;
        repair.DeleteRange(log_->items(), KeyLog::ItemPrefix(d->db, d->box_id),
                           KeyLog::ItemPrefix(d->db, d->box_id + 1));
      }
      return Status::Ok();
    }
    Box* box = it->second.box;
    std::lock_guard<std::mutex> lock(box->mu());
    if (it->second.kind == RecordKind::kZSet) {
      return static_cast<ZSetBox*>(box)->Load(d->suffix, v) ? Status::Ok() : Corrupt("kv_items");
    }
    if (it->second.kind != RecordKind::kList) {  // a hash's field or a set's member
      static_cast<HashBox*>(box)->Set(d->suffix, v);
      return Status::Ok();
    }
    auto position = KeyLog::DecodeListSuffix(d->suffix);
    if (!position) return Corrupt("kv_items");
    static_cast<ListBox*>(box)->Load(*position, v);
    return Status::Ok();
  };

  QUIVER_RETURN_IF_ERROR(log_->store().Scan(log_->kv(), {}, load_key));
  QUIVER_RETURN_IF_ERROR(log_->store().Scan(log_->items(), {}, load_item));
  for (auto& [id, loading] : boxes) {
    bool empty = false;
    {
      std::lock_guard<std::mutex> lock(loading.box->mu());
      loading.box->Loaded(&repair);
      empty = loading.box->empty();
    }
    if (empty) {  // its items were lost: Redis has no empty list, hash or set
      QUIVER_RETURN_IF_ERROR(EraseIfHolds(loading.db, loading.key, *loading.box));
      repair.Delete(log_->kv(), KeyLog::KvKey(loading.db, loading.key));
      --keys;
    }
    loading.box->Unref();  // the records hold it now
  }
  if (!repair.empty()) log_->Submit(std::move(repair), nullptr);
  // The keys went into the views they were kept under; the databases
  // now take the views SWAPDB gave them.
  QUIVER_RETURN_IF_ERROR(RecoverSwaps());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  spdlog::info("recovered {} plain keys in {:.2f} s ({} expired meanwhile, dropped)", keys, seconds,
               expired);
  return Status::Ok();
}

}  // namespace quiver
