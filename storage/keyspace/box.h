// Boxes: the values of plain keys that are changed in place rather than
// rebuilt whole on every change: lists always (LPUSH onto a long list must
// not copy it), and hashes, sets and sorted sets once they grow large
// (storage/keyspace/packed_items.h and its siblings hold the small ones). Such a key's record holds
// only a pointer to its box, and the record's kBoxed flag is set.
//
// Sharing: every record that holds a box (a key's successive versions
// after EXPIRE, RENAME) owns one reference; Record::Free drops it, after
// the RCU grace period that follows the record's removal, so a box found
// through a record under rcu::ReadLock stays valid until the lock ends.
//
// Locking: readers and writers lock mu(). A writer that found the box
// through a record locks it, then checks that the key still holds this
// box (KeySpace::HoldsBox) before changing it: a DEL, a FLUSH or the last
// LPOP may have removed the key meanwhile.
//
// Memory: a box charges what its items cost to the table's memory count,
// and gives it back when it is freed.
//
// Persistence (storage/keyspace/key_log.h): once Persist() has written a box's
// items, each change appends its own item writes to the box's journal,
// which the writer hands to the log (TakeJournal) before it unlocks the
// box, so the log sees a box's changes in the order they were made. A
// freed box that was persisted deletes its items.
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "storage/history/commit_queue.h"
#include "storage/keyspace/flat_map.h"
#include "storage/keyspace/packed_list.h"
#include "storage/keyspace/zset_index.h"
#include "storage/online/record.h"

namespace quiver {

class KeyLog;
class OnlineTable;

class Box : public RecordBox {
 public:
  // Where a box is kept on disk: log null for none.
  struct Persistence {
    std::shared_ptr<KeyLog> log;
    int db = 0;
    uint64_t id = 0;  // 0: a new id from the log
  };

  // The box a record holds. REQUIRES: r.boxed().
  static Box& Of(const Record& r);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  // Drops a reference; the last one frees the box.
  void Unref() final;

  std::mutex& mu() { return mu_; }
  // Bumped by every change: WATCH sees a change in place through it.
  uint64_t version() const { return version_.load(std::memory_order_relaxed); }

  // What a string costs in the memory count (std::string and its heap bytes).
  static int64_t Cost(std::string_view s) {
    return static_cast<int64_t>(sizeof(std::string) + (s.size() > 15 ? s.size() + 1 : 0));
  }

  // The bytes the box's items cost in the memory count. REQUIRES: mu() held.
  int64_t charged() const { return charged_; }

  uint64_t id() const { return id_; }
  // The first call writes every item into out; from then on changes are
  // journaled. REQUIRES: mu() held.
  void Persist(HistoryBatch* out);
  // Moves the changes journaled so far into out. REQUIRES: mu() held.
  void TakeJournal(HistoryBatch* out) {
    out->Append(journal_);
    journal_.Clear();
  }
  // Ends loading items read from disk: the box is persisted from now on
  // (out gets the writes that repair what loading found inconsistent).
  void Loaded(HistoryBatch* out);
  // A new box holding a copy of this one's items (COPY), with one
  // reference (the caller's); nullptr if out of memory. REQUIRES: mu() held.
  virtual Box* Clone(Persistence p) const = 0;
  // Whether the box holds no items (its key is then deleted). REQUIRES: mu() held.
  virtual bool empty() const = 0;

 protected:
  Box(OnlineTable& table, Persistence p);
  ~Box() override;
  OnlineTable& table() const { return table_; }
  // Records a change that added (or, negative, freed) this many bytes.
  // REQUIRES: mu() held.
  void Changed(int64_t bytes);
  bool journaling() const { return persisted_; }
  // Journals one item operation (kPut, kDelete or kDeleteRange; suffix:
  // see key_log.h); for a range delete, value is the end suffix.
  // REQUIRES: mu() held, journaling().
  void Journal(HistoryBatch::Op op, std::string_view suffix, std::string_view value);
  // Journals a rewrite: every item deleted, then written again.
  void JournalRewrite();
  // Journals a write of every item. REQUIRES: mu() held.
  virtual void WriteAll() = 0;
  // Whether what was loaded must be written again (Loaded()).
  virtual bool NeedsRepair() const { return false; }

 private:
  OnlineTable& table_;
  std::shared_ptr<KeyLog> log_;
  int db_;
  uint64_t id_ = 0;
  std::string prefix_;  // of the box's item keys
  bool persisted_ = false;
  HistoryBatch journal_;
  std::string scratch_;  // an item key being built
  std::atomic<int32_t> refs_{1};
  std::atomic<uint64_t> version_{0};
  int64_t charged_ = 0;  // guarded by mu_
  std::mutex mu_;
};

// A list's items. Methods other than New and Of REQUIRE mu() held.
class ListBox final : public Box {
 public:
  // A new empty box with one reference (the caller's); nullptr if out of memory.
  static ListBox* New(OnlineTable& table, Persistence p);
  // REQUIRES: r.kind == RecordKind::kList.
  static ListBox& Of(const Record& r) { return static_cast<ListBox&>(Box::Of(r)); }

  const PackedList& items() const { return items_; }
  size_t size() const { return items_.size(); }
  bool empty() const override { return items_.empty(); }
  void Push(bool front, std::string_view item);
  std::string Pop(bool front);
  void Set(size_t index, std::string_view item);
  void Insert(size_t index, std::string_view item);
  // Keeps items [start, stop) only.
  void Keep(size_t start, size_t stop);
  // Removes up to `limit` items equal to `item` (0: all), from the head
  // or, if from_tail, from the tail; returns how many.
  size_t Remove(std::string_view item, size_t limit, bool from_tail);
  // Appends an item read from disk at its position (in order).
  void Load(int64_t position, std::string_view item);
  Box* Clone(Persistence p) const override;

 private:
  using Box::Box;
  void WriteAll() override;
  bool NeedsRepair() const override { return gaps_; }
  void JournalItem(size_t index) {
    Journal(HistoryBatch::Op::kPut, Suffix(index), items_.at(index));
  }
  std::string Suffix(size_t index) const;
  // Counts the change of the items' memory since `before` (their bytes()).
  void ChangedFrom(size_t before) {
    Changed(static_cast<int64_t>(items_.bytes()) - static_cast<int64_t>(before));
  }
  PackedList items_;   // guarded by mu()
  int64_t head_ = 0;   // the position on disk of items_[0]
  bool gaps_ = false;  // loaded positions were not consecutive
};

// A large hash's fields, or a large set's members (the fields, with empty
// values). Methods other than New and Of REQUIRE mu() held, or the box not
// yet reachable from any record (a box being built).
class HashBox final : public Box {
 public:
  static HashBox* New(OnlineTable& table, Persistence p);
  // REQUIRES: r.kind is kHash or kSet, and r.boxed().
  static HashBox& Of(const Record& r) { return static_cast<HashBox&>(Box::Of(r)); }

  const FlatMap& fields() const { return fields_; }
  bool empty() const override { return fields_.empty(); }
  std::optional<std::string_view> Find(std::string_view field) const { return fields_.Find(field); }
  // Sets a field; true if it was new.
  bool Set(std::string_view field, std::string_view value);
  // Removes a field; false if it was absent.
  bool Erase(std::string_view field);
  Box* Clone(Persistence p) const override;

 private:
  using Box::Box;
  void WriteAll() override;
  static int64_t Cost(std::string_view field, size_t value_size) {
    return static_cast<int64_t>(FlatMap::Cost(field.size(), value_size));
  }
  FlatMap fields_;  // guarded by mu()
};

// A large sorted set's members and scores. Methods other than New and Of
// REQUIRE mu() held, or the box not yet reachable from any record. On
// disk, each member is an item whose value is its score's 8 bytes.
class ZSetBox final : public Box {
 public:
  static ZSetBox* New(OnlineTable& table, Persistence p);
  // REQUIRES: r.kind is kZSet, and r.boxed().
  static ZSetBox& Of(const Record& r) { return static_cast<ZSetBox&>(Box::Of(r)); }

  const ZIndex& index() const { return index_; }
  bool empty() const override { return index_.empty(); }
  // Sets member's score; true if the member is new.
  bool Set(std::string_view member, double score);
  // Removes member; false if it was absent.
  bool Erase(std::string_view member);
  // Loads a member read from disk; false if its value is not a score.
  bool Load(std::string_view member, std::string_view value);
  Box* Clone(Persistence p) const override;

 private:
  using Box::Box;
  void WriteAll() override;
  void JournalSet(std::string_view member, double score);
  ZIndex index_;  // guarded by mu()
};

}  // namespace quiver
