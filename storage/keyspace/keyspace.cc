#include "storage/keyspace/keyspace.h"

#include <cstring>

#include "storage/history/meta_keys.h"
#include "util/byte_codec.h"
#include "util/clock.h"
#include "util/rcu.h"

namespace quiver {

namespace {

// A small number per thread: the low bits of stamps and the gate stripe.
uint32_t ThreadNumber() {
  static std::atomic<uint32_t> next{0};
  thread_local const uint32_t number = next.fetch_add(1, std::memory_order_relaxed);
  return number;
}

// Unique per version without a shared counter: a per-thread sequence above
// the thread's number.
int64_t NextStamp() {
  thread_local int64_t sequence = 0;
  return (++sequence << 16) | (ThreadNumber() & 0xffff);
}

}  // namespace

KeySpace::KeySpace(OnlineTable& table, Options options)
    : table_(table),
      databases_(std::clamp(options.databases, 1, kMaxDatabases)),
      now_ms_(options.now_ms ? std::move(options.now_ms) : SystemNowMs),
      counters_(std::make_unique<Counters[]>(databases_)),
      physical_(std::make_unique<std::atomic<int>[]>(databases_)),
      logical_(std::make_unique<std::atomic<int>[]>(databases_)),
      stripes_(std::make_unique<Stripe[]>(kStripes)),
      presence_(std::make_unique<std::atomic<uint64_t>[]>(kPresenceStripes)),
      log_(std::move(options.log)),
      log_locks_(log_ != nullptr ? std::make_unique<std::mutex[]>(kLogLocks) : nullptr) {
  for (int db = 0; db < databases_; ++db) {
    physical_[db].store(db, std::memory_order_relaxed);
    logical_[db].store(db, std::memory_order_relaxed);
  }
}

KeySpace::~KeySpace() {
  if (log_ != nullptr) log_->Detach();
}

std::atomic<uint64_t>& KeySpace::PresenceOf(int db, std::string_view key) const {
  const size_t h =
      std::hash<std::string_view>{}(key) ^ (static_cast<size_t>(db) * 0x9e3779b97f4a7c15ull);
  return presence_[h % kPresenceStripes];
}

const Record* KeySpace::Find(int db, std::string_view key) const {
  const Record* r = table_.Find(ViewOf(db), key);
  return r == nullptr || r->ExpiredAt(NowMs()) ? nullptr : r;
}

Result<const Record*> KeySpace::Find(int db, std::string_view key, RecordKind kind) const {
  const Record* r = Find(db, key);
  if (r != nullptr && r->kind != kind) return Status::WrongType(std::string(kWrongTypeMessage));
  return r;
}

void KeySpace::Count(const Record* r, int delta) const {
  Counters& c = CountersOf(r->view_id);
  c.keys.fetch_add(delta, std::memory_order_relaxed);
  if (r->expire_at_ms != kNeverExpires) c.expiring.fetch_add(delta, std::memory_order_relaxed);
}

void KeySpace::PrefetchFields(int db, std::string_view key,
                              std::span<const std::string_view> fields) const {
  const Record* r = Find(db, key);
  if (r == nullptr || r->kind != RecordKind::kHash || !r->boxed()) return;
  HashBox& box = HashBox::Of(*r);
  std::unique_lock<std::mutex> lock(box.mu(), std::try_to_lock);
  if (!lock.owns_lock()) return;
  for (std::string_view field : fields)
    box.fields().Prefetch(field);
}

Result<KeySpace::Change::Kind> KeySpace::Mutate(int db, std::string_view key, Mutator fn) {
  const int64_t now = NowMs();
  const Record* before = nullptr;  // what the last attempt found in the table
  const Record* after = nullptr;   // what it put there
  Result<Change::Kind> kind =
      table_.Mutate(ViewOf(db), key, [&](const Record* current) -> Result<Change> {
        before = current;
        after = nullptr;
        const bool expired = current != nullptr && current->ExpiredAt(now);
        Result<Change> change = fn(expired ? nullptr : current);
        if (!change.ok()) return change;
        if (change->kind == Change::kKeep && expired) return Change{Change::kErase};
        if (change->kind == Change::kPut) after = change->record;
        return change;
      });
  // Both records stay readable under the caller's read lock, even if
  // another writer has replaced them since.
  if (kind.ok() && *kind != Change::kKeep) {
    if (before != nullptr) Count(before, -1);
    if (after != nullptr) Count(after, +1);
    const bool was = before != nullptr && !before->ExpiredAt(now);
    if (was != (after != nullptr)) PresenceOf(db, key).fetch_add(1, std::memory_order_relaxed);
    if (events_ != nullptr) Tell(db, key, before != nullptr && !was, !was && after != nullptr);
  }
  return kind;
}

void KeySpace::Tell(int db, std::string_view key, bool expired, bool created) const {
  if (expired && events_->WantsExpired()) events_->Expired(db, key);
  if (created && events_->WantsCreated()) events_->Created(db, key);
}

bool KeySpace::Fits(size_t bytes) const {
  const MemoryBudget& budget = table_.budget();
  const int64_t limit = budget.limit();
  return limit <= 0 || budget.total() + static_cast<int64_t>(bytes) <= limit;
}

Record* KeySpace::NewRecord(int db, std::string_view key, RecordKind kind, size_t value_size,
                            int64_t expire_at_ms) const {
  if (key.size() > kMaxKeySize || value_size > UINT32_MAX) return nullptr;
  if (!Fits(Record::AllocationSize(key.size(), value_size))) return nullptr;
  Record* r = Record::Allocate(ViewOf(db), key, value_size);
  if (r == nullptr) return nullptr;
  r->kind = kind;
  r->event_time_ms = NextStamp();
  r->write_time_ms = NowMs();
  r->expire_at_ms = expire_at_ms;
  return r;
}

Record* KeySpace::NewRecord(int db, std::string_view key, RecordKind kind, std::string_view value,
                            int64_t expire_at_ms) const {
  Record* r = NewRecord(db, key, kind, value.size(), expire_at_ms);
  if (r != nullptr && !value.empty()) std::memcpy(r->mutable_value(), value.data(), value.size());
  return r;
}

Record* KeySpace::NewBoxed(int db, std::string_view key, RecordKind kind, Box& box,
                           int64_t expire_at_ms) const {
  RecordBox* pointer = &box;  // what Record::box() reads
  Record* r = NewRecord(db, key, kind, sizeof(pointer), expire_at_ms);
  if (r == nullptr) return nullptr;
  std::memcpy(r->mutable_value(), &pointer, sizeof(pointer));
  box.Ref();
  r->flags |= Record::kBoxed;  // from now on Record::Free drops the reference
  return r;
}

Record* KeySpace::Copy(int db, std::string_view key, const Record& from,
                       int64_t expire_at_ms) const {
  if (from.boxed()) return NewBoxed(db, key, from.kind, Box::Of(from), expire_at_ms);
  auto v = from.value();
  return NewRecord(db, key, from.kind,
                   std::string_view(reinterpret_cast<const char*>(v.data()), v.size()),
                   expire_at_ms);
}

bool KeySpace::HoldsBox(int db, std::string_view key, const Box& box) const {
  const Record* r = Find(db, key);
  return r != nullptr && r->boxed() && &Box::Of(*r) == &box;
}

Status KeySpace::EraseIfHolds(int db, std::string_view key, const Box& box) {
  return Mutate(db, key,
                [&](const Record* cur) -> Result<Change> {
                  const bool holds = cur != nullptr && cur->boxed() && &Box::Of(*cur) == &box;
                  return holds ? Change{Change::kErase} : Change{};
                })
      .status();
}

int64_t KeySpace::Size(int db) const {
  return std::max<int64_t>(0, counters_[Physical(db)].keys.load(std::memory_order_relaxed));
}

int64_t KeySpace::Expiring(int db) const {
  return std::max<int64_t>(0, counters_[Physical(db)].expiring.load(std::memory_order_relaxed));
}

size_t KeySpace::Flush(int db, HistoryBatch* log) {
  const uint32_t view = db < 0 ? 0 : ViewOf(db);
  if (log != nullptr && log_ != nullptr) {
    const std::string begin = KeyLog::DbBegin(db < 0 ? 0 : Physical(db));
    const std::string end = KeyLog::DbBegin(db < 0 ? databases_ : Physical(db) + 1);
    log->DeleteRange(log_->kv(), begin, end);
    log->DeleteRange(log_->items(), begin, end);
  }
  return table_.RemoveIf(
      [&](const Record& r) {
        return db < 0 ? r.view_id >= kPlainViewBase && r.view_id < ViewEnd() : r.view_id == view;
      },
      [&](const Record& r) { Count(&r, -1); });
}

uint64_t KeySpace::Scan(int db, uint64_t cursor, size_t count,
                        FunctionRef<void(const Record&)> fn) const {
  const int64_t now = NowMs();
  return table_.Scan(ViewOf(db), cursor, count, [&](const Record& r) {
    if (!r.ExpiredAt(now)) fn(r);
  });
}

void KeySpace::ForEach(int db, FunctionRef<void(const Record&)> fn) const {
  const int64_t now = NowMs();
  table_.ForEachInView(ViewOf(db), [&](const Record& r) {
    if (!r.ExpiredAt(now)) fn(r);
  });
}

const Record* KeySpace::Random(int db) const {
  const int64_t now = NowMs();
  thread_local uint64_t seed = 0x9e3779b97f4a7c15ull * (ThreadNumber() + 1);
  seed = seed * 6364136223846793005ull + 1442695040888963407ull;
  return table_.Random(ViewOf(db), seed >> 11,
                       [now](const Record& r) { return !r.ExpiredAt(now); });
}

uint64_t KeySpace::Stamp(int db, std::string_view key) const {
  return StampOf(db, key, Find(db, key));
}

uint64_t KeySpace::StampOf(int db, std::string_view key, const Record* r) const {
  if (r == nullptr) {
    const uint64_t changes = PresenceOf(db, key).load(std::memory_order_relaxed);
    return (changes + 1) * 0xd6e8feb86659fd93ull;  // odd: distinct per count
  }
  const auto stamp = static_cast<uint64_t>(r->event_time_ms);
  if (!r->boxed()) return stamp;
  // Multiplying by an odd constant is a bijection: a new box version
  // always gives a new stamp.
  return stamp ^ ((Box::Of(*r).version() + 1) * 0x9e3779b97f4a7c15ull);
}

std::unique_lock<std::mutex> KeySpace::Snapshot(int db, std::string_view key, HistoryBatch* out,
                                                const uint64_t* unless_stamp) const {
  const Record* r = Find(db, key);
  if (unless_stamp != nullptr && StampOf(db, key, r) == *unless_stamp) return {};
  const std::string kv_key = KeyLog::KvKey(Physical(db), key);
  if (r == nullptr) {
    out->Delete(log_->kv(), kv_key);
    return {};
  }
  if (!r->boxed()) {
    out->Put(log_->kv(), kv_key, KeyLog::KvValue(*r, 0));
    return {};
  }
  Box& box = Box::Of(*r);
  std::unique_lock<std::mutex> lock(box.mu());
  box.Persist(out);
  out->Put(log_->kv(), kv_key, KeyLog::KvValue(*r, box.id()));
  return lock;
}

std::unique_lock<std::mutex> KeySpace::LockForLog(int db, std::string_view key) const {
  const size_t h = std::hash<std::string_view>{}(key) + static_cast<size_t>(db);
  return std::unique_lock<std::mutex>(log_locks_[h % kLogLocks]);
}

void KeySpace::Swept(const Record& r) {
  if (!IsPlainView(r.view_id) || r.view_id >= ViewEnd()) return;
  Count(&r, -1);
  expired_.fetch_add(1, std::memory_order_relaxed);
  if (log_ != nullptr || (events_ != nullptr && events_->WantsExpired()))
    swept_.emplace_back(DbOfView(r.view_id), r.key());
}

void KeySpace::SwapDatabases(int a, int b, HistoryBatch* out) {
  const int pa = Physical(a), pb = Physical(b);
  physical_[a].store(pb, std::memory_order_release);
  physical_[b].store(pa, std::memory_order_release);
  logical_[pa].store(b, std::memory_order_release);
  logical_[pb].store(a, std::memory_order_release);
  if (log_ == nullptr || out == nullptr) return;
  std::string mapping;  // each database's view, 4 bytes each
  for (int db = 0; db < databases_; ++db)
    Put<uint32_t>(&mapping, static_cast<uint32_t>(Physical(db)));
  MetaKeys(&log_->store(), kSwapsPrefix).Put(out, kSwapsName, mapping);
}

void KeySpace::FinishSweep() {
  std::vector<std::pair<int, std::string>> keys = std::move(swept_);
  swept_.clear();
  if (events_ != nullptr && events_->WantsExpired()) {
    for (const auto& [db, key] : keys)
      events_->Expired(db, key);
  }
  if (keys.empty() || log_ == nullptr || log_->store().failed()) return;
  rcu::ReadLock read;
  for (const auto& [db, key] : keys) {
    // As a write logs its key: under the key's log lock, so that the
    // snapshots of one key reach the disk in the order they were taken.
    std::unique_lock<std::mutex> key_lock = LockForLog(db, key);
    HistoryBatch ops;
    std::unique_lock<std::mutex> box_lock = Snapshot(db, key, &ops);
    if (!ops.empty()) log_->Submit(std::move(ops), nullptr);
  }
}

thread_local KeySpace::Frozen KeySpace::frozen_now_;

KeySpace::ClockScope::ClockScope(const KeySpace& ks) : saved_(frozen_now_) {
  frozen_now_ = Frozen{&ks, ks.now_ms_()};
}

KeySpace::ClockScope::ClockScope(const KeySpace& ks, int64_t now_ms) : saved_(frozen_now_) {
  frozen_now_ = Frozen{&ks, now_ms};
}

KeySpace::ClockScope::~ClockScope() {
  frozen_now_ = saved_;
}

bool KeySpace::UseStripes(int n, const GiveUp* give_up) {
  if (!LockUnless(growth_mu_, give_up)) return false;
  std::lock_guard lock(growth_mu_, std::adopt_lock);
  if (stripes_in_use_.load(std::memory_order_relaxed) < n)
    stripes_in_use_.store(n, std::memory_order_release);
  return true;
}

// A stripe comes into use (under growth_mu_) before its first shared lock,
// and an exclusive gate holds growth_mu_ from before it reads how many are
// in use until it lets them all go: so it takes every stripe a shared gate
// can hold while it runs.
KeySpace::SharedGate::SharedGate(KeySpace& ks, const GiveUp* give_up)
    : SharedGate(ks, static_cast<int>(ThreadNumber() % kStripes), give_up) {}

KeySpace::SharedGate::SharedGate(KeySpace& ks, int stripe, const GiveUp* give_up)
    : mu_(ks.stripes_[stripe].mu) {
  if (stripe >= ks.stripes_in_use_.load(std::memory_order_acquire) &&
      !ks.UseStripes(stripe + 1, give_up)) {
    return;
  }
  held_ = TakeUnless([&] { return mu_.try_lock_shared(); }, [&] { mu_.lock_shared(); },
                     [&](auto deadline) { return mu_.try_lock_shared_until(deadline); }, give_up);
}

KeySpace::SharedGate::~SharedGate() {
  if (held_) mu_.unlock_shared();
}

KeySpace::ExclusiveGate::ExclusiveGate(KeySpace& ks, const GiveUp* give_up)
    : ks_(ks), growth_(ks.growth_mu_, std::defer_lock) {
  if (!LockUnless(growth_, give_up)) return;
  const int n = ks.stripes_in_use_.load(std::memory_order_relaxed);
  for (int i = 0; i < n; ++i) {
    if (LockUnless(ks.stripes_[i].mu, give_up)) continue;
    while (--i >= 0)  // gives back what it took
      ks.stripes_[i].mu.unlock();
    growth_.unlock();
    return;
  }
  stripes_ = n;
}

KeySpace::ExclusiveGate::~ExclusiveGate() {
  for (int i = stripes_ - 1; i >= 0; --i)
    ks_.stripes_[i].mu.unlock();
}

}  // namespace quiver
