// KeyLog: the plain keys of the RESP port (KeySpace) kept on disk, in two
// column families of the history store that the key log owns (kv and
// kv_items), so they survive a restart under the same durability modes as
// feature rows.
//
// Layout (integers big-endian, so keys sort by database, then box):
//   kv        [db u32][key]                 -> [kind u8][flags u8][expire_at_ms i64][payload]
//             payload: the record's value, or (flags & kBoxedValue) the id of its box
//   kv_items  [db u32][box id u64][suffix]  -> the item
//             suffix: a list item's position (i64, sign bit flipped), a
//             hash field's name, a set's member (its item is empty)
//
// A key's entry in kv is rewritten whole after each command that names
// it; a box's items are written one by one as they change (a push onto a
// long list writes one item), and deleted as a range when the box is
// freed. Items of a box no key refers to (a crash came between) are
// deleted at the next start.
//
// Threads: every method may be called from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "storage/history/commit_queue.h"
#include "storage/history/history_store.h"
#include "storage/online/record.h"

namespace quiver {

class KeyLog {
 public:
  static constexpr char kKvColumn[] = "kv";
  static constexpr char kItemsColumn[] = "kv_items";

  // Opens (creating if missing) the key log's columns in the store.
  static Result<std::shared_ptr<KeyLog>> Open(HistoryStore& store);
  KeyLog(const KeyLog&) = delete;
  KeyLog& operator=(const KeyLog&) = delete;

  HistoryStore& store() const { return *store_; }
  Durability durability() const { return store_->durability(); }
  // The columns of the keys and of the boxes' items.
  ColumnFamily kv() const { return kv_; }
  ColumnFamily items() const { return items_; }

  // Queues a batch for the group commit (see HistoryStore::Submit).
  // REQUIRES: not after Detach().
  void Submit(HistoryBatch batch, CommitQueue::Done done) {
    store_->Submit(std::move(batch), std::move(done));
  }
  // Deletes the items of a box just freed (any thread); nothing after
  // Detach(): at shutdown the freed boxes' items must stay.
  void BoxFreed(int db, uint64_t box_id);
  // Called before the history store closes.
  void Detach();

  uint64_t NewBoxId() { return next_box_id_.fetch_add(1, std::memory_order_relaxed); }
  // Box ids from now on are above this one (recovery).
  void SawBoxId(uint64_t id);

  // Encodings.
  static std::string KvKey(int db, std::string_view key);
  // The kv entry of a record (its box id if boxed).
  static std::string KvValue(const Record& r, uint64_t box_id);
  // [begin, end) of kv and kv_items keys of one database.
  static std::string DbBegin(int db);
  static std::string ItemPrefix(int db, uint64_t box_id);
  static std::string ListSuffix(int64_t position);

  struct DecodedKv {
    int db;
    std::string_view key;
    RecordKind kind;
    bool boxed;
    int64_t expire_at_ms;
    std::string_view value;  // unboxed
    uint64_t box_id;         // boxed
  };
  static std::optional<DecodedKv> DecodeKv(std::string_view key, std::string_view value);
  struct DecodedItem {
    int db;
    uint64_t box_id;
    std::string_view suffix;
  };
  static std::optional<DecodedItem> DecodeItem(std::string_view key);
  static std::optional<int64_t> DecodeListSuffix(std::string_view suffix);

  static constexpr uint8_t kBoxedValue = 1;

 private:
  KeyLog(HistoryStore& store, ColumnFamily kv, ColumnFamily items)
      : store_(&store), kv_(kv), items_(items) {}

  HistoryStore* store_;
  const ColumnFamily kv_, items_;
  std::mutex detach_mu_;  // BoxFreed against Detach
  bool detached_ = false;
  std::atomic<uint64_t> next_box_id_{1};
};

}  // namespace quiver
