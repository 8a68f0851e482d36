// How the sorted set commands reach a sorted set's items, whichever form it
// has: a small one is packed in its record (storage/keyspace/packed_zset.h)
// and rebuilt on each change, so reads take no lock; past the packed
// limits it moves, for good, into a ZSetBox (storage/keyspace/box.h)
// changed in place under its lock.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "server/resp/command.h"
#include "storage/keyspace/zset_index.h"
#include "util/function_ref.h"

namespace quiver::resp {

// A sorted set's items in order (score, then member), in either form.
class ZItems {
 public:
  ZItems() = default;
  explicit ZItems(std::span<const ZItem> packed) : packed_(packed) {}
  explicit ZItems(const ZIndex& index) : index_(&index) {}

  size_t size() const { return index_ != nullptr ? index_->size() : packed_.size(); }
  std::optional<double> Score(std::string_view member) const;
  // member's rank from the lowest, or nothing if it is absent.
  std::optional<size_t> Rank(std::string_view member) const;
  // How many items come before the first for which before(item) is false;
  // before must be true for a prefix of the order.
  size_t CountBefore(FunctionRef<bool(const ZItem&)> before) const;
  // REQUIRES: rank < size().
  ZItem At(size_t rank) const { return index_ != nullptr ? index_->At(rank) : packed_[rank]; }
  // Calls fn for ranks [from, to), ascending, or descending if reverse,
  // until it returns false. REQUIRES: to <= size().
  void ForRange(size_t from, size_t to, bool reverse, FunctionRef<bool(const ZItem&)> fn) const;

 private:
  std::span<const ZItem> packed_;
  const ZIndex* index_ = nullptr;
};

// A sorted set as one read sees it. A boxed one stays locked (its writers
// wait) while the ZSetRead lives: keep it for one reply, and hold one at a
// time.
class ZSetRead {
 public:
  const ZItems& items() const { return items_; }
  // OBJECT ENCODING's name: "listpack" or "skiplist".
  std::string_view encoding() const { return lock_.owns_lock() ? "skiplist" : "listpack"; }

 private:
  friend Status FindZSet(Context& ctx, std::string_view key, ZSetRead* read);
  std::vector<ZItem> packed_;
  ZItems items_;
  std::unique_lock<std::mutex> lock_;
};

// Reads the sorted set at key (empty if absent), counting a keyspace hit
// or miss; WRONGTYPE for a key of another kind.
Status FindZSet(Context& ctx, std::string_view key, ZSetRead* read);

// A sorted set as a writer changes it. Members given to Set must stay
// alive until UpdateZSet returns.
class ZSetEditor {
 public:
  virtual ZItems items() const = 0;
  // Sets member's score; true if the member is new.
  virtual bool Set(std::string_view member, double score) = 0;
  // Removes member; false if it was absent.
  virtual bool Erase(std::string_view member) = 0;
  size_t size() const { return items().size(); }

 protected:
  ~ZSetEditor() = default;
};

// Changes the sorted set at key (a new one if it is absent) by edit,
// atomically, keeping its TTL; one left empty is deleted, as in Redis.
// edit may run more than once: it must keep its outputs from its last run
// only, and fail, if it does, before it changes anything.
Status UpdateZSet(Context& ctx, std::string_view key, FunctionRef<Status(ZSetEditor&)> edit);

// Makes key hold a sorted set of exactly these items (distinct members, in
// any order), with this expiry, whatever it held before (deleted if items
// is empty): the STORE forms, RESTORE. REQUIRES: the exclusive gate.
Status StoreZSet(Context& ctx, std::string_view key, std::span<const ZItem> items,
                 int64_t expire_at_ms = kNeverExpires);

}  // namespace quiver::resp
