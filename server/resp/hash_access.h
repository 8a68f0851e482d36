// How the hash commands reach a hash's fields, whichever form it has: a
// small hash is packed in its record (storage/keyspace/packed_items.h) and rebuilt
// on each change, so reads take no lock; past kMaxPackedFields fields or
// kMaxPackedBytes bytes it moves, for good, into a HashBox changed in
// place under its lock (storage/keyspace/box.h). Reads of quiver: keys serve
// feature rows (server/resp/features.h).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "server/resp/command.h"
#include "util/function_ref.h"

namespace quiver::resp {

inline constexpr size_t kMaxPackedFields = 128;
inline constexpr size_t kMaxPackedBytes = 16 * 1024;

using Items = std::vector<std::string_view>;

// A hash's fields as one read sees them. A boxed hash stays locked (its
// writers wait) while the HashRead lives: keep it for one reply.
class HashRead {
 public:
  std::optional<std::string_view> Get(std::string_view field) const;
  size_t size() const;
  // field, value, field, value, ...
  const Items& items();

 private:
  friend Status FindHash(Context& ctx, std::string_view key, HashRead* read);
  Items items_;
  std::string text_;  // a feature row's values, which items_ view
  const HashBox* box_ = nullptr;
  std::unique_lock<std::mutex> lock_;
  bool flat_ = true;  // items_ holds every field
};

// Reads the hash at key, or the feature row a quiver: key names (nothing
// if absent), counting a keyspace hit or miss; WRONGTYPE for a key of
// another kind.
Status FindHash(Context& ctx, std::string_view key, HashRead* read);

// A hash's fields as a writer changes them. Values given to Set must stay
// alive until UpdateHash returns.
class HashEditor {
 public:
  virtual std::optional<std::string_view> Get(std::string_view field) const = 0;
  // Sets a field; true if it is new.
  virtual bool Set(std::string_view field, std::string_view value) = 0;
  // Removes a field; false if it was absent.
  virtual bool Erase(std::string_view field) = 0;

 protected:
  ~HashEditor() = default;
};

// Makes key hold a hash of exactly these items (field, value, ...: distinct
// fields), with this expiry, whatever it held before (deleted if items is
// empty): RESTORE. REQUIRES: the exclusive gate.
Status StoreHash(Context& ctx, std::string_view key, const Items& items, int64_t expire_at_ms);

// Changes the hash at key (a new one if it is absent) by edit, atomically,
// keeping its TTL; a hash left empty is deleted, as in Redis. edit may run
// more than once: it must keep its outputs from its last run only. edit
// must fail, if it does, before it changes anything.
Status UpdateHash(Context& ctx, std::string_view key, FunctionRef<Status(HashEditor&)> edit);

// The loop under UpdateHash, UpdateSet (server/resp/set_access.h) and
// UpdateZSet (server/resp/zset_access.h): if key's record (of `kind`) is boxed,
// on_box(box) runs under the box's lock, the box's journal goes to the log,
// and a box left empty deletes the key; else on_packed(seen, &boxed)
// changes the packed (or absent: seen null) value, setting boxed if it met
// a box another writer made meanwhile, and the loop starts again.
Status UpdateBoxedOrPacked(Context& ctx, std::string_view key, RecordKind kind,
                           FunctionRef<Status(Box&)> on_box,
                           FunctionRef<Status(const Record* seen, bool* boxed)> on_packed);

// UpdateBoxedOrPacked with `edit` run on an EditorOfBox made from the box
// (of its type EditorOfBox::Boxed), or given to update_packed for the
// packed form.
template <typename EditorOfBox, typename Editor>
Status UpdateEdited(Context& ctx, std::string_view key, RecordKind kind,
                    FunctionRef<Status(Editor&)> edit,
                    Status (*update_packed)(Context&, std::string_view,
                                            FunctionRef<Status(Editor&)>, const Record*, bool*)) {
  return UpdateBoxedOrPacked(
      ctx, key, kind,
      [&](Box& box) {
        EditorOfBox editor(static_cast<typename EditorOfBox::Boxed&>(box));
        return edit(editor);
      },
      [&](const Record* seen, bool* boxed) { return update_packed(ctx, key, edit, seen, boxed); });
}

}  // namespace quiver::resp
