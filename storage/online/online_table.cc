#include "storage/online/online_table.h"

#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <shared_mutex>
#include <string>

#include <xxhash.h>

#include "util/rcu.h"

namespace quiver {

namespace {

// A slot word: 0 (never used), 1 (a tombstone: its record was removed) or a
// record pointer (8-aligned, below 2^48 on x86-64 and arm64 user space) with
// a 16-bit tag of the key's hash in the top bits and, in bit 1, whether the
// record has an expiry at all, so that a sweep skips the records that
// cannot expire without reading them.
constexpr uint64_t kEmpty = 0;
constexpr uint64_t kTombstone = 1;
constexpr uint64_t kExpiresBit = 2;
constexpr uint64_t kPointerMask = ((uint64_t{1} << 48) - 1) & ~uint64_t{7};
constexpr size_t kMinCapacity = 1024;

// Slot index comes from the hash's low bits and the shard from its top
// bits; the tag uses bits 32-47, independent of both.
uint64_t TagOf(uint64_t hash) {
  return (hash >> 32) & 0xffff;
}
uint64_t WordOf(const Record* r, uint64_t tag) {
  const uint64_t expires = r->expire_at_ms == kNeverExpires ? 0 : kExpiresBit;
  return static_cast<uint64_t>(reinterpret_cast<uintptr_t>(r)) | (tag << 48) | expires;
}
Record* RecordOf(uint64_t word) {
  return reinterpret_cast<Record*>(static_cast<uintptr_t>(word & kPointerMask));
}
bool HoldsRecord(uint64_t word) {
  return word > kTombstone;
}

// Starts fetching a record's header and the cache line after it, where
// most of its key lies (the key follows the 56-byte header).
void PrefetchRecord(const Record* r) {
  __builtin_prefetch(r);
  __builtin_prefetch(reinterpret_cast<const char*>(r) + 64);
}

// True if the slot holds the key. Reading the record is safe: the slot was
// loaded with acquire, pairing with the release of the CAS that published it.
bool Matches(uint64_t word, uint64_t tag, uint32_t view_id, std::string_view key) {
  if (!HoldsRecord(word) || (word >> 48) != tag) return false;
  const Record* r = RecordOf(word);
  return r->view_id == view_id && r->key() == key;
}

// Grow when records and tombstones fill three quarters of the slots.
size_t GrowThreshold(uint64_t mask) {
  return (mask + 1) / 4 * 3;
}

void FreeRetiredRecord(rcu_head* head) {
  rcu::BeforeReclaim();
  Record::Free(reinterpret_cast<Record*>(reinterpret_cast<char*>(head) - offsetof(Record, rcu)));
  rcu::AfterReclaim();
}

}  // namespace

struct OnlineTable::Slots {
  rcu_head rcu;  // used when a grown-out array is retired
  uint64_t mask;
  std::atomic<uint64_t> words[1];  // mask + 1 of them

  static Slots* Allocate(size_t capacity) {
    void* mem = std::malloc(offsetof(Slots, words) + capacity * sizeof(std::atomic<uint64_t>));
    if (mem == nullptr) return nullptr;
    auto* s = static_cast<Slots*>(mem);
    s->mask = capacity - 1;
    for (size_t i = 0; i < capacity; ++i)
      new (&s->words[i]) std::atomic<uint64_t>(kEmpty);
    return s;
  }
  static void Retired(rcu_head* head) {
    rcu::BeforeReclaim();
    std::free(reinterpret_cast<char*>(head) - offsetof(Slots, rcu));
  }

  // The first slot on the key's probe path that was never used or holds the
  // key: sets *index and returns the slot's word (kEmpty, or a record).
  // Returns kTombstone if the whole table was probed: it is full.
  uint64_t Probe(uint64_t hash, uint32_t view_id, std::string_view key, uint64_t* index) const {
    const uint64_t tag = TagOf(hash);
    for (uint64_t i = hash & mask, n = 0; n <= mask; i = (i + 1) & mask, ++n) {
      const uint64_t w = words[i].load(std::memory_order_acquire);
      if (w == kEmpty || Matches(w, tag, view_id, key)) {
        *index = i;
        return w;
      }
    }
    return kTombstone;
  }

  // The record of the key, or nullptr.
  const Record* Find(uint64_t hash, uint32_t view_id, std::string_view key) const {
    uint64_t index;
    const uint64_t w = Probe(hash, view_id, key, &index);
    return HoldsRecord(w) ? RecordOf(w) : nullptr;
  }
};

struct alignas(64) OnlineTable::Shard {
  std::atomic<Slots*> slots{nullptr};  // published with release
  // Writers hold it shared while they change slots; Grow holds it exclusive
  // while it copies them. Readers never take it.
  std::shared_mutex grow_mu;
  std::atomic<size_t> used{0};  // slots of `slots` ever claimed (records + tombstones)
  // No record of the shard expires before this (kNeverExpires: the sweep
  // skips the shard unread). Writers lower it, and since_pass, to the expiry
  // of what they publish, under grow_mu held shared. A sweep of the shard
  // resets since_pass under grow_mu held exclusive before it reads the
  // slots; once it has read them all, it takes grow_mu exclusive again and
  // sets the bound to the earliest of what it kept and of since_pass: every
  // writer that published behind the sweep has lowered since_pass by then.
  std::atomic<int64_t> earliest_expiry{kNeverExpires};
  std::atomic<int64_t> since_pass{kNeverExpires};
  uint64_t generation = 0;  // how often it grew; changed under grow_mu held exclusive
};

OnlineTable::OnlineTable(Options options)
    : options_(options),
      own_budget_(options.budget == nullptr
                      ? std::make_unique<MemoryBudget>(options.max_memory_bytes)
                      : nullptr),
      budget_(options.budget != nullptr ? options.budget : own_budget_.get()) {
  if (options_.shards == 0) options_.shards = 1;
  for (uint32_t i = 0; i < options_.shards; ++i) {
    shards_.push_back(new Shard);
    Slots* slots = Slots::Allocate(kMinCapacity);
    if (slots == nullptr) std::abort();  // a few KiB at start-up: out of memory like new
    shards_.back()->slots.store(slots, std::memory_order_release);
  }
}

OnlineTable::~OnlineTable() {
  rcu::ThreadRegistration registration;
  rcu::Barrier();  // retired records and slot arrays are freed first
  for (Shard* shard : shards_) {
    Slots* s = shard->slots.load(std::memory_order_acquire);
    for (uint64_t i = 0; i <= s->mask; ++i) {
      const uint64_t w = s->words[i].load(std::memory_order_acquire);
      if (HoldsRecord(w)) Record::Free(RecordOf(w));
    }
    std::free(s);
    delete shard;
  }
}

uint64_t OnlineTable::Hash(uint32_t view_id, std::string_view key) const {
  return XXH3_64bits_withSeed(key.data(), key.size(), view_id);
}

OnlineTable::Shard& OnlineTable::ShardFor(uint64_t hash) const {
  return *shards_[((hash >> 32) * shards_.size()) >> 32];
}

const Record* OnlineTable::Find(uint32_t view_id, std::string_view key) const {
  const uint64_t hash = Hash(view_id, key);
  return ShardFor(hash).slots.load(std::memory_order_acquire)->Find(hash, view_id, key);
}

void OnlineTable::PrefetchChunk(uint32_t view_id, std::span<const std::string_view> keys,
                                uint64_t* hashes, const Slots** slots) const {
  for (size_t j = 0; j < keys.size(); ++j) {
    hashes[j] = Hash(view_id, keys[j]);
    slots[j] = ShardFor(hashes[j]).slots.load(std::memory_order_acquire);
    __builtin_prefetch(&slots[j]->words[hashes[j] & slots[j]->mask]);
  }
  for (size_t j = 0; j < keys.size(); ++j) {
    const uint64_t w = slots[j]->words[hashes[j] & slots[j]->mask].load(std::memory_order_acquire);
    if (HoldsRecord(w) && (w >> 48) == TagOf(hashes[j])) __builtin_prefetch(RecordOf(w));
  }
}

void OnlineTable::FindMany(uint32_t view_id, std::span<const std::string_view> keys,
                           std::span<const Record*> out) const {
  // In chunks: hash and prefetch every slot, then prefetch every candidate
  // record, then compare. The misses of a chunk overlap.
  uint64_t hashes[kPrefetchChunk];
  const Slots* slots[kPrefetchChunk];
  for (size_t base = 0; base < keys.size(); base += kPrefetchChunk) {
    const size_t n = std::min(kPrefetchChunk, keys.size() - base);
    PrefetchChunk(view_id, keys.subspan(base, n), hashes, slots);
    for (size_t j = 0; j < n; ++j)
      out[base + j] = slots[j]->Find(hashes[j], view_id, keys[base + j]);
  }
}

void OnlineTable::Prefetch(uint32_t view_id, std::span<const std::string_view> keys) const {
  uint64_t hashes[kPrefetchChunk];
  const Slots* slots[kPrefetchChunk];
  for (size_t base = 0; base < keys.size(); base += kPrefetchChunk)
    PrefetchChunk(view_id, keys.subspan(base, std::min(kPrefetchChunk, keys.size() - base)), hashes,
                  slots);
}

Status OnlineTable::CheckMemory(int64_t added_bytes) const {
  if (added_bytes <= 0) return Status::Ok();
  return budget_->Check(added_bytes, "write refused", "reads continue");
}

void OnlineTable::Retire(Record* r) {
  budget_->Add(MemoryPart::kRows, -static_cast<int64_t>(r->allocation_size()));
  count_.fetch_sub(1, std::memory_order_relaxed);
  rcu::Retire(&r->rcu, FreeRetiredRecord);
}

Status OnlineTable::Grow(Shard& shard) {
  std::unique_lock<std::shared_mutex> lock(shard.grow_mu);
  Slots* old = shard.slots.load(std::memory_order_relaxed);
  if (shard.used.load(std::memory_order_relaxed) < GrowThreshold(old->mask)) return Status::Ok();
  size_t live = 0;
  for (uint64_t i = 0; i <= old->mask; ++i) {
    live += HoldsRecord(old->words[i].load(std::memory_order_relaxed)) ? 1 : 0;
  }
  // Tombstones are dropped; leave room for the live records to double.
  size_t capacity = kMinCapacity;
  while (GrowThreshold(capacity - 1) < 2 * live + 1)
    capacity *= 2;
  Slots* fresh = Slots::Allocate(capacity);
  if (fresh == nullptr) {
    return Status::OutOfMemory("cannot grow the online table to " + std::to_string(capacity) +
                               " slots");
  }
  // Every record is read to rehash its key: fetch those a few slots ahead
  // so that their cache misses overlap.
  constexpr uint64_t kAhead = 16;
  for (uint64_t i = 0; i <= old->mask; ++i) {
    if (i + kAhead <= old->mask) {
      const uint64_t ahead = old->words[i + kAhead].load(std::memory_order_relaxed);
      if (HoldsRecord(ahead)) PrefetchRecord(RecordOf(ahead));
    }
    const uint64_t w = old->words[i].load(std::memory_order_relaxed);
    if (!HoldsRecord(w)) continue;
    const Record* r = RecordOf(w);
    uint64_t j = Hash(r->view_id, r->key()) & fresh->mask;
    while (fresh->words[j].load(std::memory_order_relaxed) != kEmpty)
      j = (j + 1) & fresh->mask;
    fresh->words[j].store(w, std::memory_order_relaxed);
  }
  shard.used.store(live, std::memory_order_relaxed);
  ++shard.generation;
  shard.slots.store(fresh, std::memory_order_release);  // publishes the copied words
  rcu::Retire(&old->rcu, Slots::Retired);
  return Status::Ok();
}

bool OnlineTable::TryMutate(Shard& shard, uint64_t hash, uint32_t view_id, std::string_view key,
                            Mutator fn, Limit limit, Result<Change::Kind>* out) {
  std::shared_lock<std::shared_mutex> lock(shard.grow_mu);
  Slots* s = shard.slots.load(std::memory_order_acquire);
  for (;;) {  // until our CAS wins, or the shard must grow
    uint64_t i;
    uint64_t w = s->Probe(hash, view_id, key, &i);
    const bool empty = w == kEmpty;
    if (w == kTombstone) return false;  // full
    Record* current = empty ? nullptr : RecordOf(w);
    Result<Change> change = fn(current);
    if (!change.ok() || change->kind == Change::kKeep ||
        (change->kind == Change::kErase && empty)) {
      *out = change.ok() ? Result<Change::Kind>(Change::kKeep) : change.status();
      return true;
    }
    if (change->kind == Change::kErase) {
      if (!s->words[i].compare_exchange_strong(w, kTombstone, std::memory_order_acq_rel)) continue;
      Retire(current);
      *out = Change::kErase;
      return true;
    }
    Record* fresh = change->record;
    if (empty && shard.used.load(std::memory_order_relaxed) >= GrowThreshold(s->mask)) {
      Record::Free(fresh);
      return false;
    }
    const int64_t size = static_cast<int64_t>(fresh->allocation_size());
    const int64_t added = size - (current ? int64_t(current->allocation_size()) : 0);
    if (Status st = limit == Limit::kEnforce ? CheckMemory(added) : Status::Ok(); !st.ok()) {
      Record::Free(fresh);
      *out = st;
      return true;
    }
    // Release: a reader that loads the new word sees the record's contents.
    if (!s->words[i].compare_exchange_strong(
            w, WordOf(fresh, TagOf(hash)), std::memory_order_acq_rel, std::memory_order_acquire)) {
      Record::Free(fresh);  // another writer changed the slot: probe again
      continue;
    }
    LowerEarliestExpiry(shard, fresh->expire_at_ms);
    budget_->Add(MemoryPart::kRows, size);
    count_.fetch_add(1, std::memory_order_relaxed);
    if (empty) {
      shard.used.fetch_add(1, std::memory_order_relaxed);
    } else {
      Retire(current);
    }
    *out = Change::kPut;
    return true;
  }
}

Result<OnlineTable::Change::Kind> OnlineTable::Mutate(uint32_t view_id, std::string_view key,
                                                      Mutator fn, Limit limit) {
  const uint64_t hash = Hash(view_id, key);
  Shard& shard = ShardFor(hash);
  for (;;) {
    Result<Change::Kind> out = Change::kKeep;
    if (TryMutate(shard, hash, view_id, key, fn, limit, &out)) return out;
    QUIVER_RETURN_IF_ERROR(Grow(shard));  // full enough (or full): grow, then try again
  }
}

Result<OnlineTable::Outcome> OnlineTable::Upsert(uint32_t view_id, std::string_view key,
                                                 int64_t event_time_ms, Builder build,
                                                 Limit limit) {
  bool stale = false;
  bool existed = false;
  Result<Change::Kind> kind = Mutate(
      view_id, key,
      [&](const Record* current) -> Result<Change> {
        existed = current != nullptr;
        stale = existed && current->event_time_ms > event_time_ms;
        if (stale) return Change{};
        Record* fresh = build(current);
        if (fresh == nullptr) return Status::OutOfMemory("allocation failed");
        return Change{Change::kPut, fresh};
      },
      limit);
  if (!kind.ok()) return kind.status();
  if (stale) return Outcome::kStale;
  return existed ? Outcome::kReplaced : Outcome::kInserted;
}

bool OnlineTable::Erase(uint32_t view_id, std::string_view key) {
  const uint64_t hash = Hash(view_id, key);
  Shard& shard = ShardFor(hash);
  std::shared_lock<std::shared_mutex> lock(shard.grow_mu);
  Slots* s = shard.slots.load(std::memory_order_acquire);
  for (;;) {
    uint64_t i;
    uint64_t w = s->Probe(hash, view_id, key, &i);
    if (!HoldsRecord(w)) return false;
    if (s->words[i].compare_exchange_strong(w, kTombstone, std::memory_order_acq_rel)) {
      Retire(RecordOf(w));
      return true;
    }
    // Replaced or removed meanwhile: probe again.
  }
}

bool OnlineTable::RemoveFrom(Slots& s, uint64_t* slot, SweepDeadline deadline,
                             uint64_t required_bits, FunctionRef<bool(const Record&)> pred,
                             FunctionRef<void(const Record&)> removed, SweepSlice* slice,
                             int64_t* earliest) {
  // The clock is read once per this many slots, after the first of them.
  constexpr uint64_t kSlotsPerClockRead = 1024;
  for (uint64_t examined = 0; *slot <= s.mask; ++*slot, ++examined) {
    if (examined % kSlotsPerClockRead == 0 && examined > 0 &&
        std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    std::atomic<uint64_t>& word = s.words[*slot];
    uint64_t w = word.load(std::memory_order_acquire);
    if (!HoldsRecord(w) || (w & required_bits) != required_bits) continue;
    const Record* r = RecordOf(w);
    if (!pred(*r)) {
      *earliest = std::min(*earliest, r->expire_at_ms);
    } else if (word.compare_exchange_strong(w, kTombstone, std::memory_order_acq_rel)) {
      removed(*r);
      Retire(RecordOf(w));
      ++slice->removed;
    }
  }
  return true;
}

size_t OnlineTable::RemoveIf(FunctionRef<bool(const Record&)> pred,
                             FunctionRef<void(const Record&)> removed) {
  SweepSlice slice;
  for (Shard* shard : shards_) {
    rcu::ReadLock read_lock;
    std::shared_lock<std::shared_mutex> lock(shard->grow_mu);
    uint64_t slot = 0;
    int64_t earliest = kNeverExpires;
    RemoveFrom(*shard->slots.load(std::memory_order_acquire), &slot, SweepDeadline::max(), 0, pred,
               removed, &slice, &earliest);
  }
  return slice.removed;
}

namespace {
void LowerTo(std::atomic<int64_t>& bound, int64_t value) {
  int64_t current = bound.load(std::memory_order_relaxed);
  while (value < current &&
         !bound.compare_exchange_weak(current, value, std::memory_order_relaxed)) {
  }
}
}  // namespace

void OnlineTable::LowerEarliestExpiry(Shard& shard, int64_t expire_at_ms) {
  if (expire_at_ms == kNeverExpires) return;
  LowerTo(shard.since_pass, expire_at_ms);
  LowerTo(shard.earliest_expiry, expire_at_ms);
}

bool OnlineTable::SweepShard(Shard& shard, int64_t now_ms, SweepCursor* cursor,
                             SweepDeadline deadline, FunctionRef<void(const Record&)> removed,
                             SweepSlice* slice) {
  if (cursor->slot == 0) {
    std::unique_lock<std::shared_mutex> lock(shard.grow_mu);
    shard.since_pass.store(kNeverExpires, std::memory_order_relaxed);
    cursor->generation = shard.generation;
    cursor->earliest = kNeverExpires;
  }
  bool done;
  {
    rcu::ReadLock read_lock;
    std::shared_lock<std::shared_mutex> lock(shard.grow_mu);
    if (cursor->generation != shard.generation) {
      // It grew since the last slice, moving its records: read it again
      // (a grown table holds no record that was not there before).
      cursor->generation = shard.generation;
      cursor->slot = 0;
      cursor->earliest = kNeverExpires;
    }
    done = RemoveFrom(
        *shard.slots.load(std::memory_order_acquire), &cursor->slot, deadline, kExpiresBit,
        [now_ms](const Record& r) { return r.ExpiredAt(now_ms); }, removed, slice,
        &cursor->earliest);
  }
  if (done) {
    std::unique_lock<std::shared_mutex> lock(shard.grow_mu);
    shard.earliest_expiry.store(
        std::min(cursor->earliest, shard.since_pass.load(std::memory_order_relaxed)),
        std::memory_order_relaxed);
  }
  return done;
}

OnlineTable::SweepSlice OnlineTable::SweepExpired(int64_t now_ms, SweepCursor* cursor,
                                                  SweepDeadline deadline,
                                                  FunctionRef<void(const Record&)> removed) {
  SweepSlice slice;
  bool scanned = false;  // the first shard read is read even if the deadline has passed
  for (; cursor->shard < shards_.size(); ++cursor->shard, cursor->slot = 0) {
    Shard& shard = *shards_[cursor->shard];
    if (cursor->slot == 0 && shard.earliest_expiry.load(std::memory_order_relaxed) > now_ms) {
      continue;  // nothing in it is due
    }
    if (scanned && std::chrono::steady_clock::now() >= deadline) return slice;
    scanned = true;
    if (!SweepShard(shard, now_ms, cursor, deadline, removed, &slice)) return slice;
  }
  *cursor = SweepCursor{};
  slice.finished = true;
  return slice;
}

size_t OnlineTable::SweepExpired(int64_t now_ms, FunctionRef<void(const Record&)> removed) {
  SweepCursor cursor;
  return SweepExpired(now_ms, &cursor, SweepDeadline::max(), removed).removed;
}

size_t OnlineTable::SweepExpired(int64_t now_ms) {
  return SweepExpired(now_ms, [](const Record&) {});
}

void OnlineTable::ForEachInView(uint32_t view_id, FunctionRef<void(const Record&)> fn) const {
  for (Shard* shard : shards_) {
    ForEachInShard(*shard, [&](const Record& r) {
      if (r.view_id == view_id) fn(r);
    });
  }
}

void OnlineTable::ForEach(FunctionRef<void(const Record&)> fn) const {
  for (Shard* shard : shards_) {
    rcu::ReadLock lock;
    ForEachInShard(*shard, fn);
  }
}

void OnlineTable::ForEachInShard(const Shard& shard, FunctionRef<void(const Record&)> fn) {
  // Each record is its own allocation: a pass is a cache miss per record
  // unless the records a few slots ahead are already on their way (the
  // freshness pass over 1M rows took 115 ns a record without it).
  constexpr uint64_t kAhead = 16;
  const Slots* s = shard.slots.load(std::memory_order_acquire);
  for (uint64_t i = 0; i <= s->mask; ++i) {
    if (i + kAhead <= s->mask) {
      const uint64_t ahead = s->words[i + kAhead].load(std::memory_order_relaxed);
      if (HoldsRecord(ahead)) __builtin_prefetch(RecordOf(ahead));
    }
    const uint64_t w = s->words[i].load(std::memory_order_acquire);
    if (HoldsRecord(w)) fn(*RecordOf(w));
  }
}

}  // namespace quiver

namespace quiver {

namespace {

uint64_t ReverseBits(uint64_t v) {
  v = ((v >> 1) & 0x5555555555555555ull) | ((v & 0x5555555555555555ull) << 1);
  v = ((v >> 2) & 0x3333333333333333ull) | ((v & 0x3333333333333333ull) << 2);
  v = ((v >> 4) & 0x0f0f0f0f0f0f0f0full) | ((v & 0x0f0f0f0f0f0f0f0full) << 4);
  return __builtin_bswap64(v);
}

// Redis's reverse-binary cursor step: increments the masked bits from the
// top, so that after the table grows (or shrinks) no home slot that was
// not yet visited is skipped.
uint64_t NextHome(uint64_t v, uint64_t mask) {
  v |= ~mask;
  v = ReverseBits(v);
  ++v;
  return ReverseBits(v);
}

constexpr int kCursorShardShift = 48;

}  // namespace

size_t OnlineTable::ScanHome(const Slots& s, uint64_t home, uint32_t view_id,
                             FunctionRef<void(const Record&)> fn) const {
  // A record whose home is `home` sits in the run of used slots from it.
  size_t found = 0;
  for (uint64_t i = home, n = 0; n <= s.mask; i = (i + 1) & s.mask, ++n) {
    const uint64_t w = s.words[i].load(std::memory_order_acquire);
    if (w == kEmpty) break;
    if (!HoldsRecord(w)) continue;
    const Record* r = RecordOf(w);
    if (r->view_id != view_id || (Hash(view_id, r->key()) & s.mask) != home) continue;
    fn(*r);
    ++found;
  }
  return found;
}

uint64_t OnlineTable::Scan(uint32_t view_id, uint64_t cursor, size_t count,
                           FunctionRef<void(const Record&)> fn) const {
  size_t shard = cursor >> kCursorShardShift;
  uint64_t v = cursor & ((uint64_t{1} << kCursorShardShift) - 1);
  const size_t budget = std::max<size_t>(count * 64, 16384);
  size_t found = 0, examined = 0;
  while (shard < shards_.size()) {
    const Slots* s = shards_[shard]->slots.load(std::memory_order_acquire);
    do {
      found += ScanHome(*s, v & s->mask, view_id, fn);
      ++examined;
      v = NextHome(v, s->mask);
    } while (v != 0 && found < count && examined < budget);
    if (v == 0) ++shard;
    if (found >= count || examined >= budget) break;
  }
  if (shard >= shards_.size()) return 0;
  return (uint64_t{shard} << kCursorShardShift) | v;
}

const Record* OnlineTable::Random(uint32_t view_id, uint64_t seed,
                                  FunctionRef<bool(const Record&)> accept) const {
  const size_t first = seed % shards_.size();
  for (size_t k = 0; k < shards_.size(); ++k) {
    const Slots* s = shards_[(first + k) % shards_.size()]->slots.load(std::memory_order_acquire);
    const uint64_t start = (seed >> 20) & s->mask;
    for (uint64_t n = 0; n <= s->mask; ++n) {
      const uint64_t w = s->words[(start + n) & s->mask].load(std::memory_order_acquire);
      if (HoldsRecord(w) && RecordOf(w)->view_id == view_id && accept(*RecordOf(w))) {
        return RecordOf(w);
      }
    }
  }
  return nullptr;
}

}  // namespace quiver
