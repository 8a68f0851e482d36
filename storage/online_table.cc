#include "storage/online_table.h"

#include <cerrno>
#include <cstring>
#include <string>

#include <xxhash.h>

#include "storage/rcu.h"
#include "storage/tsan.h"

namespace quiver {

struct OnlineTable::Shard {
  cds_lfht* ht = nullptr;
};

namespace {

struct LookupKey {
  uint32_t view_id;
  std::string_view key;
};

Record* RecordOf(cds_lfht_node* node) {
  return node == nullptr
             ? nullptr
             : reinterpret_cast<Record*>(reinterpret_cast<char*>(node) - offsetof(Record, node));
}

// Called by cds_lfht on candidate nodes during lookups and inserts: reading
// the record is covered by the writer's publication, so tell TSan.
int MatchKey(cds_lfht_node* node, const void* key) {
  const Record* r = RecordOf(node);
  QUIVER_TSAN_ACQUIRE(r);
  const auto* k = static_cast<const LookupKey*>(key);
  return r->view_id == k->view_id && r->key() == k->key;
}

void FreeRetired(rcu_head* head) {
  rcu::BeforeReclaim();
  Record::Free(reinterpret_cast<Record*>(reinterpret_cast<char*>(head) - offsetof(Record, rcu)));
}

// Looks the key up; returns the current record (acquired for TSan) or null.
Record* LookupIn(cds_lfht* ht, uint64_t hash, const LookupKey& key, cds_lfht_iter* iter) {
  cds_lfht_lookup(ht, hash, MatchKey, &key, iter);
  Record* r = RecordOf(cds_lfht_iter_get_node(iter));
  if (r != nullptr) QUIVER_TSAN_ACQUIRE(r);
  return r;
}

}  // namespace

OnlineTable::OnlineTable(Options options) : options_(options) {
  if (options_.shards == 0) options_.shards = 1;
  shards_.reserve(options_.shards);
  for (uint32_t i = 0; i < options_.shards; ++i) {
    auto* shard = new Shard;
    shard->ht = cds_lfht_new_flavor(1024, 1024, 0, CDS_LFHT_AUTO_RESIZE | CDS_LFHT_ACCOUNTING,
                                    &urcu_memb_flavor, nullptr);
    shards_.push_back(shard);
  }
}

OnlineTable::~OnlineTable() {
  rcu::ThreadRegistration registration;
  std::vector<Record*> removed;
  {
    rcu::ReadLock lock;
    for (Shard* shard : shards_) {
      cds_lfht_iter iter;
      cds_lfht_first(shard->ht, &iter);
      for (cds_lfht_node* n; (n = cds_lfht_iter_get_node(&iter)) != nullptr;
           cds_lfht_next(shard->ht, &iter)) {
        if (cds_lfht_del(shard->ht, n) == 0) removed.push_back(RecordOf(n));
      }
    }
  }
  urcu_memb_synchronize_rcu();
  for (Record* r : removed) {
    QUIVER_TSAN_ACQUIRE(r);
    Record::Free(r);
  }
  for (Shard* shard : shards_) {
    cds_lfht_destroy(shard->ht, nullptr);
    delete shard;
  }
}

uint64_t OnlineTable::Hash(uint32_t view_id, std::string_view key) const {
  return XXH3_64bits_withSeed(key.data(), key.size(), view_id);
}

// cds_lfht picks buckets from the low bits of the hash, so the shard comes
// from the high bits: otherwise every key of a shard would share its low bits
// and use a fraction of the shard's buckets.
OnlineTable::Shard& OnlineTable::ShardFor(uint64_t hash) const {
  return *shards_[((hash >> 32) * shards_.size()) >> 32];
}

const Record* OnlineTable::Find(uint32_t view_id, std::string_view key) const {
  const uint64_t hash = Hash(view_id, key);
  cds_lfht_iter iter;
  return LookupIn(ShardFor(hash).ht, hash, LookupKey{view_id, key}, &iter);
}

Status OnlineTable::CheckMemory(int64_t added_bytes) const {
  if (options_.max_memory_bytes <= 0 || added_bytes <= 0) return Status::Ok();
  if (memory_bytes() + added_bytes <= options_.max_memory_bytes) return Status::Ok();
  return Status::ResourceExhausted("OOM: write refused, the online table holds " +
                                   std::to_string(memory_bytes()) + " bytes and its limit is " +
                                   std::to_string(options_.max_memory_bytes) +
                                   " (--max-memory); reads continue");
}

void OnlineTable::Retire(Record* r) {
  memory_bytes_.fetch_sub(static_cast<int64_t>(r->allocation_size()), std::memory_order_relaxed);
  count_.fetch_sub(1, std::memory_order_relaxed);
  rcu::Retire(&r->rcu, FreeRetired);
}

Result<OnlineTable::Outcome> OnlineTable::Upsert(uint32_t view_id, std::string_view key,
                                                 int64_t event_time_ms, Builder build) {
  const uint64_t hash = Hash(view_id, key);
  cds_lfht* ht = ShardFor(hash).ht;
  const LookupKey lookup{view_id, key};
  for (;;) {
    cds_lfht_iter iter;
    Record* current = LookupIn(ht, hash, lookup, &iter);
    if (current != nullptr && current->event_time_ms > event_time_ms) return Outcome::kStale;
    Record* fresh = build(current);
    if (fresh == nullptr) return Status::ResourceExhausted("OOM: allocation failed");
    const int64_t added = static_cast<int64_t>(fresh->allocation_size()) -
                          (current ? static_cast<int64_t>(current->allocation_size()) : 0);
    if (Status s = CheckMemory(added); !s.ok()) {
      Record::Free(fresh);
      return s;
    }
    QUIVER_TSAN_RELEASE(fresh);  // publishes the record's contents to readers
    if (current == nullptr) {
      cds_lfht_node* won = cds_lfht_add_unique(ht, hash, MatchKey, &lookup, &fresh->node);
      if (won == &fresh->node) {
        memory_bytes_.fetch_add(added, std::memory_order_relaxed);
        count_.fetch_add(1, std::memory_order_relaxed);
        return Outcome::kInserted;
      }
    } else if (cds_lfht_replace(ht, &iter, hash, MatchKey, &lookup, &fresh->node) == 0) {
      memory_bytes_.fetch_add(static_cast<int64_t>(fresh->allocation_size()),
                              std::memory_order_relaxed);
      count_.fetch_add(1, std::memory_order_relaxed);
      Retire(current);
      return Outcome::kReplaced;
    }
    // Another writer got there first: never published, so free at once.
    Record::Free(fresh);
  }
}

bool OnlineTable::Erase(uint32_t view_id, std::string_view key) {
  const uint64_t hash = Hash(view_id, key);
  cds_lfht* ht = ShardFor(hash).ht;
  cds_lfht_iter iter;
  Record* current = LookupIn(ht, hash, LookupKey{view_id, key}, &iter);
  if (current == nullptr || cds_lfht_del(ht, &current->node) != 0) return false;
  Retire(current);
  return true;
}

size_t OnlineTable::SweepExpired(int64_t now_ms) {
  size_t removed = 0;
  for (Shard* shard : shards_) {
    rcu::ReadLock lock;
    cds_lfht_iter iter;
    cds_lfht_first(shard->ht, &iter);
    for (cds_lfht_node* n; (n = cds_lfht_iter_get_node(&iter)) != nullptr;
         cds_lfht_next(shard->ht, &iter)) {
      Record* r = RecordOf(n);
      QUIVER_TSAN_ACQUIRE(r);
      if (r->ExpiredAt(now_ms) && cds_lfht_del(shard->ht, n) == 0) {
        Retire(r);
        ++removed;
      }
    }
  }
  return removed;
}

void OnlineTable::ForEachInView(uint32_t view_id, FunctionRef<void(const Record&)> fn) const {
  for (Shard* shard : shards_) {
    cds_lfht_iter iter;
    cds_lfht_first(shard->ht, &iter);
    for (cds_lfht_node* n; (n = cds_lfht_iter_get_node(&iter)) != nullptr;
         cds_lfht_next(shard->ht, &iter)) {
      const Record* r = RecordOf(n);
      QUIVER_TSAN_ACQUIRE(r);
      if (r->view_id == view_id) fn(*r);
    }
  }
}

}  // namespace quiver
