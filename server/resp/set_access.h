// How the set commands reach a set's members, whichever form it has: a
// small set is packed in its record as an intset or a listpack
// (storage/keyspace/packed_set.h) and rebuilt on each change, so reads take
// no lock; past the packed limits it moves, for good, into a HashBox whose
// fields are the members (with empty values), changed in place under its
// lock (storage/keyspace/box.h).
#pragma once

#include <cstdint>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp/command.h"
#include "storage/keyspace/packed_set.h"
#include "util/function_ref.h"

namespace quiver::resp {

using Members = std::vector<std::string_view>;

// A set's members as one read sees them. A boxed set stays locked (its
// writers wait) while the SetRead lives: keep it for one reply, and hold
// one at a time (the multi-key commands read their sets one after another).
class SetRead {
 public:
  bool Contains(std::string_view member) const;
  size_t size() const;
  // Every member (an intset's as text): an intset's ascending, a
  // listpack's in the order they were added, a box's in no order.
  const Members& members();
  // A member chosen by r: a random one for a random r. REQUIRES: size() > 0.
  std::string_view Pick(uint64_t r);
  // OBJECT ENCODING's name: "intset", "listpack" or "hashtable".
  std::string_view encoding() const;

 private:
  friend Status FindSet(Context& ctx, std::string_view key, SetRead* read);
  PackedSet packed_;
  Members members_;
  bool flat_ = false;               // members_ holds every member
  std::vector<std::string> texts_;  // an intset's members as text
  std::string scratch_;             // Pick's text of an integer
  const HashBox* box_ = nullptr;
  std::unique_lock<std::mutex> lock_;
};

// Reads the set at key (empty if absent), counting a keyspace hit or miss;
// WRONGTYPE for a key of another kind.
Status FindSet(Context& ctx, std::string_view key, SetRead* read);

// A set's members as a writer changes them. Members given to Add must stay
// alive until UpdateSet returns.
class SetEditor {
 public:
  virtual bool Contains(std::string_view member) const = 0;
  // Adds a member; true if it is new.
  virtual bool Add(std::string_view member) = 0;
  // Removes a member; false if it was absent.
  virtual bool Remove(std::string_view member) = 0;
  virtual size_t size() const = 0;
  // A member chosen by r (random for a random r), copied. REQUIRES: size() > 0.
  virtual std::string Pick(uint64_t r) const = 0;
  // Calls fn for every member, in no particular order.
  virtual void ForEach(FunctionRef<void(std::string_view)> fn) const = 0;

 protected:
  ~SetEditor() = default;
};

// Changes the set at key (a new one if it is absent) by edit, atomically,
// keeping its TTL; a set left empty is deleted, as in Redis. edit may run
// more than once: it must keep its outputs from its last run only, and
// fail, if it does, before it changes anything.
Status UpdateSet(Context& ctx, std::string_view key, FunctionRef<Status(SetEditor&)> edit);

// Makes key hold a set of exactly these distinct members, with this
// expiry, whatever it held before (deleted if members is empty): the
// STORE forms, RESTORE. REQUIRES: the exclusive gate (no other writer of key).
Status StoreSet(Context& ctx, std::string_view key, std::span<const std::string_view> members,
                int64_t expire_at_ms = kNeverExpires);

}  // namespace quiver::resp
