// List commands, with Redis 7 semantics. A list is a ListBox changed in
// place under its lock (storage/keyspace/box.h); an emptied list is deleted,
// as in Redis. The blocking commands (BLPOP, BLMOVE, ...) wait as
// server/resp/blocking.h describes.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

Record* NewListRecord(Context& ctx, std::string_view key, std::span<const std::string_view> items,
                      int64_t expire_at_ms) {
  ListBox* box = ListBox::New(ctx.ks.table(), ctx.ks.BoxPersistence(ctx.db()));
  if (box == nullptr) return nullptr;
  {
    std::lock_guard lock(box->mu());
    for (std::string_view item : items)
      box->Push(false, item);
  }
  Record* r = ctx.ks.NewBoxed(ctx.db(), key, RecordKind::kList, *box, expire_at_ms);
  box->Unref();  // the record holds it now (or nobody does)
  return r;
}

namespace {

using Change = KeySpace::Change;

// The live list at key (nullptr if absent), counting a hit or a miss;
// WRONGTYPE for another kind.
Result<const Record*> FindList(Context& ctx, std::string_view key) {
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kList);
  if (r.ok()) ctx.Looked(*r != nullptr, key);
  return r;
}

// A new list at key made by edit from an empty box: true if it was
// installed (or edit left it empty), false if another writer created the
// key first (the caller starts again).
template <typename Edit>
Result<bool> CreateList(Context& ctx, std::string_view key, Edit& edit) {
  ListBox* box = ListBox::New(ctx.ks.table(), ctx.ks.BoxPersistence(ctx.db()));
  if (box == nullptr) return Oom();
  struct Release {
    ListBox* box;
    ~Release() { box->Unref(); }
  } release{box};
  {
    std::lock_guard lock(box->mu());
    QUIVER_RETURN_IF_ERROR(edit(*box));
    if (box->empty()) return true;
  }
  bool raced = false;
  Result<Change::Kind> put = ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
    raced = cur != nullptr;
    if (raced) return Change{};
    Record* r = ctx.ks.NewBoxed(ctx.db(), key, RecordKind::kList, *box, kNeverExpires);
    if (r == nullptr) return Oom();
    return Change{Change::kPut, r};
  });
  if (!put.ok()) return put.status();
  return !raced;
}

// Runs edit(box) on the list at key under the box's lock; with create, on
// a new list if there is none. Returns false (edit not run) if the key is
// absent and !create. edit may run more than once: it must keep its
// outputs from its last run only. Once it has run, `event` is notified
// (unless empty: the edit clears it when it changed nothing), then "del"
// if the list was emptied (and deleted), which *emptied tells too.
template <typename Edit>
Result<bool> EditList(Context& ctx, std::string_view key, bool create,
                      const std::string_view& event, Edit edit, bool* emptied = nullptr) {
  const auto notify = [&](bool deleted) {
    if (emptied != nullptr) *emptied = deleted;
    if (!event.empty()) ctx.Notify(kNotifyList, event, key);
    if (deleted && !event.empty()) ctx.Notify(kNotifyGeneric, "del", key);
  };
  for (;;) {
    Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kList);
    if (!r.ok()) return r.status();
    if (*r == nullptr) {
      if (!create) return false;
      Result<bool> made = CreateList(ctx, key, edit);
      if (made.ok() && *made) notify(false);
      if (!made.ok() || *made) return made;
      continue;
    }
    ListBox& box = ListBox::Of(**r);
    std::unique_lock lock(box.mu());
    if (!ctx.ks.HoldsBox(ctx.db(), key, box)) continue;  // removed meanwhile
    const Status edited = edit(box);
    ctx.LogBox(box);
    QUIVER_RETURN_IF_ERROR(edited);
    const bool deleted = box.empty();
    if (deleted) QUIVER_RETURN_IF_ERROR(ctx.ks.EraseIfHolds(ctx.db(), key, box));
    lock.unlock();
    notify(deleted);
    return true;
  }
}

// Whether `items` more items fit under the memory limit.
bool ItemsFit(Context& ctx, Args items) {
  int64_t bytes = 0;
  for (std::string_view item : items)
    bytes += Box::Cost(item);
  return ctx.ks.Fits(static_cast<size_t>(bytes));
}

// An index argument (LINDEX, LSET, LRANGE, LTRIM).
Result<int64_t> ParseIndex(std::string_view text) {
  int64_t v = 0;
  if (!ParseInt64(text, &v)) return Status::InvalidArgument(std::string(kNotInteger).substr(4));
  return v;
}

// A negative index counts from the tail; kNoIndex if out of range.
constexpr size_t kNoIndex = static_cast<size_t>(-1);
size_t Position(int64_t index, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (index < 0) index += n;
  return index < 0 || index >= n ? kNoIndex : static_cast<size_t>(index);
}

// The items [start, stop) LRANGE and LTRIM select, as Redis clamps them.
std::pair<size_t, size_t> Range(int64_t start, int64_t stop, size_t size) {
  const auto n = static_cast<int64_t>(size);
  if (start < 0) start += n;
  if (stop < 0) stop += n;
  start = std::max<int64_t>(start, 0);
  if (start > stop || start >= n) return {0, 0};
  return {static_cast<size_t>(start), static_cast<size_t>(std::min(stop, n - 1) + 1)};
}

// LEFT or RIGHT (LMOVE): true for LEFT.
Result<bool> ParseSide(std::string_view text) {
  if (EqualsNoCase(text, "left")) return true;
  if (EqualsNoCase(text, "right")) return false;
  return Status::InvalidArgument(std::string(kSyntaxError).substr(4));
}

void PushCommand(Context& ctx, Args args, bool front, bool only_existing) {
  if (!ItemsFit(ctx, args.subspan(2))) return ctx.Fail(Oom());
  size_t length = 0;
  const std::string_view event = front ? "lpush" : "rpush";
  Result<bool> done = EditList(ctx, args[1], !only_existing, event, [&](ListBox& box) {
    for (std::string_view item : args.subspan(2))
      box.Push(front, item);
    length = box.size();
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  ctx.out.Integer(*done ? static_cast<int64_t>(length) : 0);
}

void LPush(Context& ctx, Args args) {
  PushCommand(ctx, args, true, false);
}
void RPush(Context& ctx, Args args) {
  PushCommand(ctx, args, false, false);
}
void LPushX(Context& ctx, Args args) {
  PushCommand(ctx, args, true, true);
}
void RPushX(Context& ctx, Args args) {
  PushCommand(ctx, args, false, true);
}

// LPOP and RPOP, with an optional count.
void PopCommand(Context& ctx, Args args, bool front, std::string_view name) {
  if (args.size() > 3) return ReplyWrongArity(ctx, name);
  const bool with_count = args.size() == 3;
  int64_t count = 1;
  if (with_count && (!ParseInt64(args[2], &count) || count < 0)) {
    return ctx.out.Error("ERR value is out of range, must be positive");
  }
  std::vector<std::string> popped;
  std::string_view event;
  Result<bool> done = EditList(ctx, args[1], false, event, [&](ListBox& box) {
    popped.clear();
    while (static_cast<int64_t>(popped.size()) < count && !box.empty())
      popped.push_back(box.Pop(front));
    event = popped.empty() ? "" : name;
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  if (!*done) return with_count ? ctx.out.NullArray() : ctx.out.Null();
  if (!with_count) return ctx.out.Bulk(popped.front());
  ctx.out.Array(popped.size());
  for (const std::string& item : popped)
    ctx.out.Bulk(item);
}

void LPop(Context& ctx, Args args) {
  PopCommand(ctx, args, true, "lpop");
}
void RPop(Context& ctx, Args args) {
  PopCommand(ctx, args, false, "rpop");
}

void LLen(Context& ctx, Args args) {
  Result<const Record*> r = FindList(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  if (*r == nullptr) return ctx.out.Integer(0);
  ListBox& box = ListBox::Of(**r);
  std::lock_guard lock(box.mu());
  ctx.out.Integer(static_cast<int64_t>(box.size()));
}

void LIndex(Context& ctx, Args args) {
  Result<int64_t> index = ParseIndex(args[2]);
  if (!index.ok()) return ctx.Fail(index.status());
  Result<const Record*> r = FindList(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  if (*r == nullptr) return ctx.out.Null();
  ListBox& box = ListBox::Of(**r);
  std::lock_guard lock(box.mu());
  const size_t at = Position(*index, box.size());
  if (at == kNoIndex) return ctx.out.Null();
  ctx.out.Bulk(box.items().at(at));
}

void LRange(Context& ctx, Args args) {
  Result<int64_t> start = ParseIndex(args[2]);
  Result<int64_t> stop = ParseIndex(args[3]);
  if (!start.ok() || !stop.ok()) return ctx.Fail(start.ok() ? stop.status() : start.status());
  Result<const Record*> r = FindList(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  if (*r == nullptr) return ctx.out.Array(0);
  ListBox& box = ListBox::Of(**r);
  std::lock_guard lock(box.mu());
  const auto [from, to] = Range(*start, *stop, box.size());
  ctx.out.Array(to - from);
  box.items().ForEach(from, to, false, [&](size_t, std::string_view item) {
    ctx.out.Bulk(item);
    return true;
  });
}

void LSet(Context& ctx, Args args) {
  Result<int64_t> index = ParseIndex(args[2]);
  if (!index.ok()) return ctx.Fail(index.status());
  if (!ItemsFit(ctx, args.subspan(3))) return ctx.Fail(Oom());
  const std::string_view event = "lset";
  Result<bool> done = EditList(ctx, args[1], false, event, [&](ListBox& box) {
    const size_t at = Position(*index, box.size());
    if (at == kNoIndex) return Status::InvalidArgument("index out of range");
    box.Set(at, args[3]);
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  if (!*done) return ctx.out.Error("ERR no such key");
  ctx.out.Ok();
}

void LTrim(Context& ctx, Args args) {
  Result<int64_t> start = ParseIndex(args[2]);
  Result<int64_t> stop = ParseIndex(args[3]);
  if (!start.ok() || !stop.ok()) return ctx.Fail(start.ok() ? stop.status() : start.status());
  const std::string_view event = "ltrim";
  Result<bool> done = EditList(ctx, args[1], false, event, [&](ListBox& box) {
    const auto [from, to] = Range(*start, *stop, box.size());
    box.Keep(from, to);
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  ctx.out.Ok();
}

void LRem(Context& ctx, Args args) {
  Result<int64_t> count = ParseIndex(args[2]);
  if (!count.ok()) return ctx.Fail(count.status());
  // |INT64_MIN| does not fit an int64: any limit that large means "all".
  const size_t limit = *count == std::numeric_limits<int64_t>::min()
                           ? 0
                           : static_cast<size_t>(*count < 0 ? -*count : *count);
  size_t removed = 0;
  std::string_view event;
  Result<bool> done = EditList(ctx, args[1], false, event, [&](ListBox& box) {
    removed = box.Remove(args[3], limit, *count < 0);
    event = removed > 0 ? "lrem" : "";
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  ctx.out.Integer(static_cast<int64_t>(removed));
}

void LInsert(Context& ctx, Args args) {
  const bool before = EqualsNoCase(args[2], "before");
  if (!before && !EqualsNoCase(args[2], "after")) return ctx.out.Error(kSyntaxError);
  if (!ItemsFit(ctx, args.subspan(4))) return ctx.Fail(Oom());
  int64_t length = -1;
  std::string_view event;
  Result<bool> done = EditList(ctx, args[1], false, event, [&](ListBox& box) {
    size_t pivot = box.size();
    box.items().ForEach(0, box.size(), false, [&](size_t i, std::string_view item) {
      if (item == args[3]) pivot = i;
      return pivot == box.size();
    });
    length = -1;
    event = "";
    if (pivot == box.size()) return Status::Ok();
    box.Insert(pivot + (before ? 0 : 1), args[4]);
    length = static_cast<int64_t>(box.size());
    event = "linsert";
    return Status::Ok();
  });
  if (!done.ok()) return ctx.Fail(done.status());
  ctx.out.Integer(*done ? length : 0);
}

// LPOS's options.
struct PosOptions {
  int64_t rank = 1;
  int64_t count = -1;  // -1: no COUNT (one index or nil)
  int64_t maxlen = 0;  // 0: the whole list
};

Result<PosOptions> ParsePosOptions(Args args) {
  PosOptions o;
  for (size_t i = 3; i < args.size(); i += 2) {
    if (i + 1 >= args.size()) return Status::InvalidArgument(std::string(kSyntaxError).substr(4));
    int64_t v = 0;
    const bool integer = ParseInt64(args[i + 1], &v);
    if (EqualsNoCase(args[i], "rank")) {
      if (!integer) return Status::InvalidArgument(std::string(kNotInteger).substr(4));
      if (v == std::numeric_limits<int64_t>::min()) {
        return Status::InvalidArgument(
            "value is out of range, must be between -9223372036854775807 and "
            "9223372036854775807");
      }
      if (v == 0) {
        return Status::InvalidArgument(
            "RANK can't be zero: use 1 to start from the first match, 2 from the second ... "
            "or use negative to start from the end of the list");
      }
      o.rank = v;
    } else if (EqualsNoCase(args[i], "count")) {
      if (!integer || v < 0) return Status::InvalidArgument("COUNT can't be negative");
      o.count = v;
    } else if (EqualsNoCase(args[i], "maxlen")) {
      if (!integer || v < 0) return Status::InvalidArgument("MAXLEN can't be negative");
      o.maxlen = v;
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError).substr(4));
    }
  }
  return o;
}

// The indexes LPOS answers, scanning from the head (rank > 0) or the tail.
std::vector<int64_t> Positions(const ListBox& box, std::string_view item, const PosOptions& o) {
  std::vector<int64_t> found;
  const size_t n = box.size();
  const bool from_tail = o.rank < 0;
  const int64_t skip = (from_tail ? -o.rank : o.rank) - 1;
  const int64_t want = o.count < 0 ? 1 : o.count;  // 0: every match
  const size_t scan = o.maxlen == 0 ? n : std::min(n, static_cast<size_t>(o.maxlen));
  int64_t matches = 0;
  box.items().ForEach(from_tail ? n - scan : 0, from_tail ? n : scan, from_tail,
                      [&](size_t i, std::string_view v) {
                        if (v != item || matches++ < skip) return true;
                        found.push_back(static_cast<int64_t>(i));
                        return want == 0 || static_cast<int64_t>(found.size()) < want;
                      });
  return found;
}

void LPos(Context& ctx, Args args) {
  Result<PosOptions> o = ParsePosOptions(args);
  if (!o.ok()) return ctx.Fail(o.status());
  Result<const Record*> r = FindList(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  std::vector<int64_t> found;
  if (*r != nullptr) {
    ListBox& box = ListBox::Of(**r);
    std::lock_guard lock(box.mu());
    found = Positions(box, args[2], *o);
  }
  if (o->count < 0) return found.empty() ? ctx.out.Null() : ctx.out.Integer(found.front());
  ctx.out.Array(found.size());
  for (int64_t i : found)
    ctx.out.Integer(i);
}

bool Move(Context& ctx, std::string_view src, std::string_view dst, bool from_left, bool to_left);

// The rest of LMOVE's family: moves an item, or (block) waits on the
// source for one until the timeout (the last argument).
template <bool block>
void MoveOrBlock(Context& ctx, Args args, bool from_left, bool to_left) {
  int64_t deadline = 0;
  if (block) {
    Result<int64_t> d = ParseBlockTimeout(args.back(), ctx.now());
    if (!d.ok()) return ctx.Fail(d.status());
    deadline = *d;
  }
  if (Move(ctx, args[1], args[2], from_left, to_left)) return;
  if (!block || !Block(ctx, {{args[1]}, deadline, /*null_array=*/false})) ctx.out.Null();
}

// Pops up to count items from the first non-empty list of keys (front or
// back); false if every one is empty (nothing replied), else replies
// [key, [items]] (with_count) or [key, item], or an error.
bool PopFirst(Context& ctx, Args keys, bool front, int64_t count, bool with_count) {
  for (std::string_view key : keys) {
    std::vector<std::string> popped;
    const std::string_view event = front ? "lpop" : "rpop";
    Result<bool> done = EditList(ctx, key, false, event, [&](ListBox& box) {
      popped.clear();
      while (static_cast<int64_t>(popped.size()) < count && !box.empty())
        popped.push_back(box.Pop(front));
      return Status::Ok();
    });
    if (!done.ok()) return ctx.Fail(done.status()), true;
    if (popped.empty()) continue;
    ctx.out.Array(2);
    ctx.out.Bulk(key);
    if (!with_count) return ctx.out.Bulk(popped.front()), true;
    ctx.out.Array(popped.size());
    for (const std::string& item : popped)
      ctx.out.Bulk(item);
    return true;
  }
  return false;
}

// BLPOP and BRPOP key [key ...] timeout
template <bool front>
void BPop(Context& ctx, Args args) {
  Result<int64_t> deadline = ParseBlockTimeout(args.back(), ctx.now());
  if (!deadline.ok()) return ctx.Fail(deadline.status());
  const Args keys = args.subspan(1, args.size() - 2);
  if (PopFirst(ctx, keys, front, 1, false)) return;
  if (!Block(ctx, {{keys.begin(), keys.end()}, *deadline})) ctx.out.NullArray();
}

// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count], and BLMPOP
// timeout numkeys ... (block).
template <bool block>
void LMPop(Context& ctx, Args args) {
  int64_t deadline = 0;
  MPopArgs m;
  if (!ParseMPopCommand(ctx, args, block, "left", "right", &m, &deadline)) return;
  const Args keys = args.subspan(m.first_key, m.keys);
  if (PopFirst(ctx, keys, m.first, m.count, true)) return;
  if (!block || !Block(ctx, {{keys.begin(), keys.end()}, deadline})) ctx.out.NullArray();
}

// What the end item of a list costs where it is pushed.
int64_t PeekCost(const Record& r, bool front) {
  ListBox& box = ListBox::Of(r);
  std::lock_guard lock(box.mu());
  return Box::Cost(front ? box.items().front() : box.items().back());
}

// LMOVE and RPOPLPUSH, under the exclusive gate (two keys): no other
// writer runs between the pop and the push. Replies the item moved and
// returns true, or returns false if src is empty (nothing replied).
bool Move(Context& ctx, std::string_view src, std::string_view dst, bool from_left, bool to_left) {
  Result<const Record*> s = ctx.ks.Find(ctx.db(), src, RecordKind::kList);
  if (!s.ok()) return ctx.Fail(s.status()), true;
  if (*s == nullptr) return false;
  std::string item;
  // As Redis: the push's event, then the pop's (and "del" if src emptied).
  const std::string_view quiet, pushed_event = to_left ? "lpush" : "rpush";
  const auto notify_pop = [&](bool emptied) {
    ctx.Notify(kNotifyList, from_left ? "lpop" : "rpop", src);
    if (emptied) ctx.Notify(kNotifyGeneric, "del", src);
  };
  if (src == dst) {  // a rotation: the list never empties, its TTL stays
    Result<bool> done = EditList(ctx, src, false, quiet, [&](ListBox& box) {
      item = box.Pop(from_left);
      box.Push(to_left, item);
      return Status::Ok();
    });
    if (!done.ok()) return ctx.Fail(done.status()), true;
    ctx.Notify(kNotifyList, pushed_event, dst);
    notify_pop(false);
    return ctx.out.Bulk(item), true;
  }
  if (Result<const Record*> d = ctx.ks.Find(ctx.db(), dst, RecordKind::kList); !d.ok()) {
    return ctx.Fail(d.status()), true;
  }
  if (!ctx.ks.Fits(Record::AllocationSize(dst.size(), sizeof(void*)) +
                   static_cast<size_t>(PeekCost(**s, from_left)))) {
    return ctx.Fail(Oom()), true;
  }
  bool emptied = false;
  Result<bool> popped = EditList(
      ctx, src, false, quiet,
      [&](ListBox& box) {
        item = box.Pop(from_left);
        return Status::Ok();
      },
      &emptied);
  if (!popped.ok()) return ctx.Fail(popped.status()), true;
  Result<bool> pushed = EditList(ctx, dst, true, pushed_event, [&](ListBox& box) {
    box.Push(to_left, item);
    return Status::Ok();
  });
  if (!pushed.ok()) return ctx.Fail(pushed.status()), true;
  notify_pop(emptied);
  ctx.out.Bulk(item);
  return true;
}

// LMOVE src dst LEFT|RIGHT LEFT|RIGHT, and BLMOVE with a timeout (block).
template <bool block>
void LMove(Context& ctx, Args args) {
  Result<bool> from_left = ParseSide(args[3]);
  Result<bool> to_left = ParseSide(args[4]);
  if (!from_left.ok() || !to_left.ok()) return ctx.out.Error(kSyntaxError);
  MoveOrBlock<block>(ctx, args, *from_left, *to_left);
}

// RPOPLPUSH src dst, and BRPOPLPUSH with a timeout (block).
template <bool block>
void RPopLPush(Context& ctx, Args args) {
  MoveOrBlock<block>(ctx, args, false, true);
}

constexpr uint32_t kW = kWrite | kDenyOom;

const Command kCommands[] = {
    {"lpush", -3, kW | kFast, 1, 1, 1, "list", "Prepends elements to a list.", LPush},
    {"rpush", -3, kW | kFast, 1, 1, 1, "list", "Appends elements to a list.", RPush},
    {"lpushx", -3, kW | kFast, 1, 1, 1, "list", "Prepends elements to an existing list.", LPushX},
    {"rpushx", -3, kW | kFast, 1, 1, 1, "list", "Appends elements to an existing list.", RPushX},
    {"lpop", -2, kWrite | kFast, 1, 1, 1, "list", "Removes and returns the first elements.", LPop},
    {"rpop", -2, kWrite | kFast, 1, 1, 1, "list", "Removes and returns the last elements.", RPop},
    {"llen", 2, kReadOnly | kFast, 1, 1, 1, "list", "Returns the length of a list.", LLen},
    {"lindex", 3, kReadOnly, 1, 1, 1, "list", "Returns an element by its index.", LIndex},
    {"lrange", 4, kReadOnly, 1, 1, 1, "list", "Returns a range of elements.", LRange},
    {"lset", 4, kW, 1, 1, 1, "list", "Sets an element by its index.", LSet},
    {"ltrim", 4, kWrite, 1, 1, 1, "list", "Keeps only a range of elements.", LTrim},
    {"lrem", 4, kWrite, 1, 1, 1, "list", "Removes elements equal to a value.", LRem},
    {"linsert", 5, kW, 1, 1, 1, "list", "Inserts an element before or after another.", LInsert},
    {"lpos", -3, kReadOnly, 1, 1, 1, "list", "Returns the indexes of matching elements.", LPos},
    {"lmove", 5, kW | kMultiKey, 1, 2, 1, "list",
     "Pops an element from one list and pushes it onto another.", LMove<false>},
    {"rpoplpush", 3, kW | kMultiKey, 1, 2, 1, "list",
     "Pops the last element of a list and prepends it to another.", RPopLPush<false>},
    {"blmove", 6, kW | kMultiKey | kBlocking, 1, 2, 1, "list",
     "Pops an element from one list and pushes it onto another, or waits for one.", LMove<true>},
    {"brpoplpush", 4, kW | kMultiKey | kBlocking, 1, 2, 1, "list",
     "Pops the last element of a list and prepends it to another, or waits for one.",
     RPopLPush<true>},
    {"blpop", -3, kWrite | kMultiKey | kBlocking, 1, -2, 1, "list",
     "Removes and returns the first element of the first non-empty list, or waits for one.",
     BPop<true>},
    {"brpop", -3, kWrite | kMultiKey | kBlocking, 1, -2, 1, "list",
     "Removes and returns the last element of the first non-empty list, or waits for one.",
     BPop<false>},
    {"lmpop", -4, kWrite | kMultiKey, 0, 0, 0, "list",
     "Removes and returns elements from the first non-empty list.", LMPop<false>, 1},
    {"blmpop", -5, kWrite | kMultiKey | kBlocking, 0, 0, 0, "list",
     "Removes and returns elements from the first non-empty list, or waits for one.", LMPop<true>,
     2},
};

}  // namespace

std::span<const Command> ListCommands() {
  return kCommands;
}

}  // namespace quiver::resp
