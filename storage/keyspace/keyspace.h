// KeySpace: the plain keys of the RESP port (strings, hashes, lists) in the
// online table, beside the feature rows. Database d lives under the
// reserved view id kPlainViewBase + d, so plain keys get the same lock-free
// reads, memory limit and expiry sweep as rows.
//
// A plain record's event_time_ms is not a time but a stamp unique to each
// version of the key (WATCH compares stamps); write_time_ms is when it was
// written; expire_at_ms is its TTL (kNeverExpires: none). An expired record
// is absent to every method here, and removed when a write meets it or the
// sweep does.
//
// Atomicity: every Mutate of one key is atomic (one compare-and-swap).
// Commands that must not interleave with other writers (several keys, a
// transaction) hold the Gate exclusively; single-key writers hold it
// shared, which costs an uncontended lock on a per-thread stripe.
//
// Persistence: with a KeyLog (a server keeping history), the RESP port
// writes each command's keys to it (Snapshot) and Recover() rebuilds them
// at start; see storage/keyspace/key_log.h.
//
// Threads: every method may be called from any thread registered with
// rcu::ThreadRegistration.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>
#include <string_view>

#include "quiver/status.h"
#include "storage/keyspace/box.h"
#include "storage/keyspace/key_log.h"
#include "storage/online/online_table.h"
#include "util/function_ref.h"
#include "util/timed_lock.h"

namespace quiver {

inline constexpr uint32_t kPlainViewBase = 0x80000000u;
inline constexpr int kMaxDatabases = 1 << 16;

// Redis's reply to a command on a key of another type (with its kind,
// ErrorKind::kWrongType: Status::WrongType(kWrongTypeMessage)).
inline constexpr std::string_view kWrongTypeMessage =
    "Operation against a key holding the wrong kind of value";

// Told of the keys a KeySpace creates and of those it removes because
// they expired (Redis's "new" and "expired" keyspace notifications). Called
// after the change, outside the table's locks, on the writer's thread (a
// write meeting an expired key, a new key) or the sweep's (FinishSweep).
class KeyEvents {
 public:
  virtual ~KeyEvents() = default;
  // Whether anyone listens: a relaxed load, checked before every call.
  virtual bool WantsCreated() const = 0;
  virtual bool WantsExpired() const = 0;
  virtual void Created(int db, std::string_view key) = 0;
  virtual void Expired(int db, std::string_view key) = 0;
};

class KeySpace {
 public:
  struct Options {
    int databases = 16;
    std::function<int64_t()> now_ms;  // default: the system clock
    std::shared_ptr<KeyLog> log;      // null: keys live in memory only
  };

  using Change = OnlineTable::Change;
  // Decides the new value of a key from its live record (nullptr if the key
  // is absent or expired). May run more than once; see OnlineTable::Mutator.
  using Mutator = OnlineTable::Mutator;

  KeySpace(OnlineTable& table, Options options);
  // Detaches the log: boxes freed from now on (the table's own teardown)
  // keep their items on disk.
  ~KeySpace();
  KeySpace(const KeySpace&) = delete;
  KeySpace& operator=(const KeySpace&) = delete;

  int databases() const { return databases_; }
  // Who hears of created and expired keys (nullptr: no one). Set before
  // serving; *events outlives the KeySpace's use.
  void SetKeyEvents(KeyEvents* events) { events_ = events; }

 private:
  struct Frozen {
    const KeySpace* owner = nullptr;
    int64_t now_ms = 0;
  };

 public:
  // The time: the clock's, or the one a ClockScope on this thread read.
  int64_t NowMs() const { return frozen_now_.owner == this ? frozen_now_.now_ms : now_ms_(); }
  // Within a scope, NowMs() on this thread returns the time read when it
  // began: one clock read for a batch of pipelined requests instead of
  // several per key. (Redis too reads its clock once per command.) Keep a
  // scope short: expiry is judged at its start.
  class ClockScope {
   public:
    explicit ClockScope(const KeySpace& ks);
    // The scope's time given, not read: a replica applies a changelog
    // record as of the record's time (server/cluster/changelog.h).
    ClockScope(const KeySpace& ks, int64_t now_ms);
    ~ClockScope();
    ClockScope(const ClockScope&) = delete;
    ClockScope& operator=(const ClockScope&) = delete;

   private:
    Frozen saved_;
  };
  static bool IsPlainView(uint32_t view_id) { return view_id >= kPlainViewBase; }

  // The live record of a key, or nullptr. REQUIRES: rcu::ReadLock held;
  // the record stays valid until it is released. REQUIRES: 0 <= db < databases().
  const Record* Find(int db, std::string_view key) const;
  // Find, failing with WrongType(kWrongTypeMessage) if the key
  // holds a value of another kind.
  Result<const Record*> Find(int db, std::string_view key, RecordKind kind) const;

  // Starts fetching what reads or writes of these keys will touch (see
  // OnlineTable::Prefetch). REQUIRES: rcu::ReadLock held.
  void Prefetch(int db, std::span<const std::string_view> keys) const {
    table_.Prefetch(ViewOf(db), keys);
  }

  // Starts fetching where a large hash's fields are, if key holds one (and
  // its lock is free). REQUIRES: rcu::ReadLock held.
  void PrefetchFields(int db, std::string_view key, std::span<const std::string_view> fields) const;

  // The atomic read-modify-write of one key (see OnlineTable::Mutate).
  // Meeting an expired record, a Mutator that keeps the key removes it.
  // REQUIRES: rcu::ReadLock held.
  Result<Change::Kind> Mutate(int db, std::string_view key, Mutator fn);

  // A new plain record with a fresh stamp, its value left for the caller
  // to fill; nullptr if memory ran out (or the key is too long).
  Record* NewRecord(int db, std::string_view key, RecordKind kind, size_t value_size,
                    int64_t expire_at_ms) const;
  // Whether a value of this many bytes more fits under the memory limit:
  // checked before building a large value, so that a refused write does
  // not allocate it first.
  bool Fits(size_t bytes) const;
  // NewRecord with the value copied in.
  Record* NewRecord(int db, std::string_view key, RecordKind kind, std::string_view value,
                    int64_t expire_at_ms) const;
  // (Both NewRecords REQUIRE kind != kList: list records come from these.)
  // A new record of `kind` (a list, or a large hash) holding `box`, which
  // it references.
  Record* NewBoxed(int db, std::string_view key, RecordKind kind, Box& box,
                   int64_t expire_at_ms) const;
  // A new record of key with the kind and value of `from` (a boxed one:
  // the same box) and a fresh stamp: EXPIRE, PERSIST, RENAME.
  Record* Copy(int db, std::string_view key, const Record& from, int64_t expire_at_ms) const;
  // Whether the key's live record holds this box. REQUIRES: rcu::ReadLock held.
  bool HoldsBox(int db, std::string_view key, const Box& box) const;
  // Deletes the key if its record holds this box (emptied by the caller,
  // who holds its lock). REQUIRES: rcu::ReadLock held.
  Status EraseIfHolds(int db, std::string_view key, const Box& box);

  // The log keys are persisted to, or nullptr.
  KeyLog* log() const { return log_.get(); }
  // What a new box of database db is persisted with.
  Box::Persistence BoxPersistence(int db) const { return {log_, Physical(db), 0}; }
  // Adds to out what puts the key on disk as it is now: its kv entry (or
  // its deletion) and, for a box never written, the box's items. Returns
  // the lock of the key's box, if it has one: hold it until out is
  // submitted, so that the box's later changes reach the log after it.
  // With unless_stamp, adds nothing if the key's Stamp is still that one
  // (a write that changed nothing).
  // REQUIRES: rcu::ReadLock held, log() != nullptr, no box lock held.
  [[nodiscard]] std::unique_lock<std::mutex> Snapshot(int db, std::string_view key,
                                                      HistoryBatch* out,
                                                      const uint64_t* unless_stamp = nullptr) const;
  // Held from a Snapshot until its batch is submitted, so that the
  // snapshots of one key reach the log in the order they were taken.
  std::unique_lock<std::mutex> LockForLog(int db, std::string_view key) const;
  // Rebuilds the keys from the log (nothing without one); keys expired
  // meanwhile and items of boxes no key refers to are deleted.
  // REQUIRES: the thread is registered with RCU; nothing else runs yet.
  Status Recover();

  // SWAPDB: databases a and b exchange their keys, at once whatever their
  // size (each database is a view of the table, and they exchange views).
  // With a log, adds the new mapping to *out, so a restart keeps it.
  // REQUIRES: the exclusive gate; 0 <= a, b < databases().
  void SwapDatabases(int a, int b, HistoryBatch* out);

  // Keys of the database, expired ones included until they are swept.
  int64_t Size(int db) const;
  // Keys of the database that have a TTL.
  int64_t Expiring(int db) const;
  // Removes every key of one database (db = -1: of all); returns how
  // many. With a log, adds their deletion from disk to *log.
  size_t Flush(int db, HistoryBatch* log = nullptr);
  // Redis's SCAN over one database: fn gets every live record; returns the
  // next cursor (0 at the end). REQUIRES: rcu::ReadLock held.
  uint64_t Scan(int db, uint64_t cursor, size_t count, FunctionRef<void(const Record&)> fn) const;
  // Every live record of one database. REQUIRES: rcu::ReadLock held.
  void ForEach(int db, FunctionRef<void(const Record&)> fn) const;
  // A live key chosen at random, or nullptr. REQUIRES: rcu::ReadLock held.
  const Record* Random(int db) const;
  // The stamp of the key's live version (a boxed one's includes its box's
  // version). An absent key's stamp changes whenever a key of its presence
  // stripe (one of kPresenceStripes, by hash) is created or deleted, so a
  // key created and deleted again in between is seen, at the price of a
  // rare false alarm from another key of the stripe.
  // REQUIRES: rcu::ReadLock held.
  uint64_t Stamp(int db, std::string_view key) const;
  // Bookkeeping for a plain record the table's sweep removed; with a log
  // or a KeyEvents that wants expired keys, notes its key for FinishSweep.
  // Called by the sweep only (one thread).
  void Swept(const Record& r);
  // Tells KeyEvents of the keys swept since the last call, and deletes
  // them from the disk (as they are now: one written again meanwhile keeps
  // its new value), so that expired keys leave the disk as they leave
  // memory. Called by the sweep's thread after its slice, outside the
  // table's locks. The disk is skipped while it refuses writes: a restart
  // drops expired entries anyway.
  // REQUIRES: the thread is registered with RCU, no rcu::ReadLock held.
  void FinishSweep();
  // Plain keys the sweep removed because they expired, since start.
  int64_t expired() const { return expired_.load(std::memory_order_relaxed); }

  // Shared by single-key writers, exclusive for multi-key ones. A thread
  // takes its own stripe shared; the exclusive gate takes every stripe in
  // use, which is as many as there are writer threads (up to kStripes),
  // not all of them.
  //
  // A gate taken with give_up waits in slices (util/timed_lock.h), asking
  // give_up() after each whether to go on (no longer, once a script has
  // run past busy-reply-threshold): if not, held() is false and the gate
  // holds nothing.
  using GiveUp = quiver::GiveUp;
  class SharedGate {
   public:
    explicit SharedGate(KeySpace& ks) : SharedGate(ks, nullptr) {}
    SharedGate(KeySpace& ks, GiveUp give_up) : SharedGate(ks, &give_up) {}
    ~SharedGate();
    SharedGate(const SharedGate&) = delete;
    SharedGate& operator=(const SharedGate&) = delete;
    bool held() const { return held_; }

   private:
    SharedGate(KeySpace& ks, int stripe, const GiveUp* give_up);
    SharedGate(KeySpace& ks, const GiveUp* give_up);
    std::shared_timed_mutex& mu_;
    bool held_ = false;
  };
  class ExclusiveGate {
   public:
    explicit ExclusiveGate(KeySpace& ks) : ExclusiveGate(ks, nullptr) {}
    ExclusiveGate(KeySpace& ks, GiveUp give_up) : ExclusiveGate(ks, &give_up) {}
    ~ExclusiveGate();
    ExclusiveGate(const ExclusiveGate&) = delete;
    ExclusiveGate& operator=(const ExclusiveGate&) = delete;
    bool held() const { return stripes_ >= 0; }

   private:
    ExclusiveGate(KeySpace& ks, const GiveUp* give_up);
    KeySpace& ks_;
    std::unique_lock<std::timed_mutex> growth_;  // no stripe comes into use meanwhile
    int stripes_ = -1;                           // taken; -1: not held
  };

  OnlineTable& table() { return table_; }

 private:
  struct alignas(64) Stripe {
    std::shared_timed_mutex mu;
  };
  // Makes stripes [0, n) the ones an exclusive gate takes; false if
  // give_up stopped the wait for growth_mu_.
  bool UseStripes(int n, const GiveUp* give_up);

  struct alignas(64) Counters {
    std::atomic<int64_t> keys{0};
    std::atomic<int64_t> expiring{0};
  };
  // Threads beyond this many share stripes. (ThreadSanitizer tracks at most
  // 64 locks held by one thread: the exclusive gate stays well below.)
  static constexpr int kStripes = 32;

  // Database db's keys are in view kPlainViewBase + Physical(db): SWAPDB
  // exchanges two databases by exchanging their views.
  int Physical(int db) const { return physical_[db].load(std::memory_order_acquire); }
  uint32_t ViewOf(int db) const { return kPlainViewBase + static_cast<uint32_t>(Physical(db)); }
  // One past the last view of plain keys.
  uint32_t ViewEnd() const { return kPlainViewBase + static_cast<uint32_t>(databases_); }
  // The database whose keys a view holds.
  int DbOfView(uint32_t view_id) const {
    return logical_[view_id - kPlainViewBase].load(std::memory_order_acquire);
  }
  // Applies the databases' mapping kept on disk by SwapDatabases (a meta
  // entry: each database's view, 4 bytes each).
  Status RecoverSwaps();
  static constexpr char kSwapsPrefix[] = "keyspace/";
  static constexpr char kSwapsName[] = "databases";
  Counters& CountersOf(uint32_t view_id) const { return counters_[view_id - kPlainViewBase]; }
  // The Stamp of key, whose live record (or nullptr) is r.
  uint64_t StampOf(int db, std::string_view key, const Record* r) const;
  // Counts a record entering (+1) or leaving (-1) the table.
  void Count(const Record* r, int delta) const;
  // Tells events_ that a write removed the key's expired record, and/or
  // created the key.
  void Tell(int db, std::string_view key, bool expired, bool created) const;
  std::atomic<uint64_t>& PresenceOf(int db, std::string_view key) const;
  static constexpr size_t kPresenceStripes = 4096;
  static constexpr size_t kLogLocks = 1024;

  static thread_local Frozen frozen_now_;

  OnlineTable& table_;
  int databases_;
  std::function<int64_t()> now_ms_;
  std::unique_ptr<Counters[]> counters_;  // per view
  // Database -> its view's index, and back (a permutation; the identity
  // until a SWAPDB).
  std::unique_ptr<std::atomic<int>[]> physical_, logical_;
  std::unique_ptr<Stripe[]> stripes_;
  std::atomic<int64_t> expired_{0};
  std::vector<std::pair<int, std::string>> swept_;  // the sweep's thread only
  std::atomic<int> stripes_in_use_{0};              // only grows, under growth_mu_
  std::timed_mutex growth_mu_;
  // Per stripe of keys: creations and deletions so far (see Stamp).
  std::unique_ptr<std::atomic<uint64_t>[]> presence_;
  std::shared_ptr<KeyLog> log_;
  std::unique_ptr<std::mutex[]> log_locks_;
  KeyEvents* events_ = nullptr;
};

}  // namespace quiver
