// Hash commands, with Redis 7 semantics. A hash is one packed record
// (storage/packed_items.h), rebuilt whole on each change.
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "server/resp_helpers.h"
#include "server/resp_util.h"
#include "storage/packed_items.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;
using Items = std::vector<std::string_view>;
constexpr size_t kNone = static_cast<size_t>(-1);

// A hash's items: field, value, field, value, ... (none for nullptr).
void ItemsOf(const Record* r, Items* items) {
  items->clear();
  if (r != nullptr) DecodeItems(r->value(), items);
}

// The index of a field's item, or kNone.
size_t FieldIndex(const Items& items, std::string_view field) {
  for (size_t i = 0; i < items.size(); i += 2) {
    if (items[i] == field) return i;
  }
  return kNone;
}

// The live hash at key, nullptr if absent; WRONGTYPE for another kind.
Result<const Record*> FindHash(Context& ctx, std::string_view key, Items* items) {
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kHash);
  if (r.ok()) {
    ++(*r != nullptr ? ctx.session.hits : ctx.session.misses);
    ItemsOf(*r, items);
  }
  return r;
}

// Replaces the hash at key with what edit(items, &changed) makes of its
// items, keeping its TTL; a hash left empty is deleted, as in Redis.
template <typename Edit>
Status UpdateHash(Context& ctx, std::string_view key, Edit edit) {
  Items items;
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur != nullptr && cur->kind != RecordKind::kHash) return WrongType();
        ItemsOf(cur, &items);
        bool changed = false;
        QUIVER_RETURN_IF_ERROR(edit(items, &changed));
        if (!changed) return Change{};
        if (items.empty()) return Change{Change::kErase};
        const size_t size = PackedSize(items);
        Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kHash, size,
                                     cur != nullptr ? cur->expire_at_ms : kNeverExpires);
        if (r == nullptr) return Oom();
        PackItems(items, r->mutable_value());
        return Change{Change::kPut, r};
      });
  return done.status();
}

// HSET and HMSET: sets fields; *added counts the new ones.
Status SetFields(Context& ctx, Args args, int64_t* added) {
  return UpdateHash(ctx, args[1], [&](Items& items, bool* changed) {
    *added = 0;
    for (size_t i = 2; i + 1 < args.size(); i += 2) {
      const size_t at = FieldIndex(items, args[i]);
      if (at == kNone) {
        items.push_back(args[i]);
        items.push_back(args[i + 1]);
        ++*added;
      } else {
        items[at + 1] = args[i + 1];
      }
    }
    *changed = true;
    return Status::Ok();
  });
}

void HSet(Context& ctx, Args args) {
  if (args.size() % 2 != 0) return ReplyWrongArity(ctx, "hset");
  int64_t added = 0;
  if (Status st = SetFields(ctx, args, &added); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(added);
}

void HMSet(Context& ctx, Args args) {
  if (args.size() % 2 != 0) return ReplyWrongArity(ctx, "hmset");
  int64_t added = 0;
  if (Status st = SetFields(ctx, args, &added); !st.ok()) return ctx.Fail(st);
  ctx.out.Ok();
}

void HSetNx(Context& ctx, Args args) {
  bool set = false;
  Status st = UpdateHash(ctx, args[1], [&](Items& items, bool* changed) {
    set = FieldIndex(items, args[2]) == kNone;
    if (set) {
      items.push_back(args[2]);
      items.push_back(args[3]);
    }
    *changed = set;
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(set ? 1 : 0);
}

void HGet(Context& ctx, Args args) {
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  const size_t at = FieldIndex(items, args[2]);
  if (at == kNone) return ctx.out.Null();
  ctx.out.Bulk(items[at + 1]);
}

void HMGet(Context& ctx, Args args) {
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Array(args.size() - 2);
  for (size_t i = 2; i < args.size(); ++i) {
    const size_t at = FieldIndex(items, args[i]);
    if (at == kNone) {
      ctx.out.Null();
    } else {
      ctx.out.Bulk(items[at + 1]);
    }
  }
}

// HGETALL, HKEYS, HVALS: every field, value or both.
void ReplyAll(Context& ctx, std::string_view key, bool fields, bool values) {
  Items items;
  Result<const Record*> r = FindHash(ctx, key, &items);
  if (!r.ok()) return ctx.Fail(r.status());
  if (fields && values) {
    ctx.out.Map(items.size() / 2);
  } else {
    ctx.out.Array(items.size() / 2);
  }
  for (size_t i = 0; i < items.size(); i += 2) {
    if (fields) ctx.out.Bulk(items[i]);
    if (values) ctx.out.Bulk(items[i + 1]);
  }
}

void HGetAll(Context& ctx, Args args) {
  ReplyAll(ctx, args[1], true, true);
}
void HKeys(Context& ctx, Args args) {
  ReplyAll(ctx, args[1], true, false);
}
void HVals(Context& ctx, Args args) {
  ReplyAll(ctx, args[1], false, true);
}

void HDel(Context& ctx, Args args) {
  int64_t removed = 0;
  Status st = UpdateHash(ctx, args[1], [&](Items& items, bool* changed) {
    removed = 0;
    for (size_t i = 2; i < args.size(); ++i) {
      const size_t at = FieldIndex(items, args[i]);
      if (at == kNone) continue;
      items.erase(items.begin() + static_cast<ptrdiff_t>(at),
                  items.begin() + static_cast<ptrdiff_t>(at) + 2);
      ++removed;
    }
    *changed = removed > 0;
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(removed);
}

// HEXISTS, HSTRLEN: something of one field (0 if it is absent).
template <typename Measure>
void ReplyOfField(Context& ctx, Args args, Measure measure) {
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  const size_t at = FieldIndex(items, args[2]);
  ctx.out.Integer(at == kNone ? 0 : measure(items[at + 1]));
}

void HExists(Context& ctx, Args args) {
  ReplyOfField(ctx, args, [](std::string_view) { return int64_t{1}; });
}
void HStrLen(Context& ctx, Args args) {
  ReplyOfField(ctx, args, [](std::string_view v) { return static_cast<int64_t>(v.size()); });
}

void HLen(Context& ctx, Args args) {
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Integer(static_cast<int64_t>(items.size() / 2));
}

// HINCRBY and HINCRBYFLOAT: replaces a field's number with what add makes
// of it (the field's text, or nullopt if absent); *text gets the result.
template <typename Add>
Status IncrementField(Context& ctx, Args args, Add add, std::string* text) {
  return UpdateHash(ctx, args[1], [&](Items& items, bool* changed) {
    const size_t at = FieldIndex(items, args[2]);
    QUIVER_RETURN_IF_ERROR(add(at == kNone ? std::optional<std::string_view>()
                                           : std::optional<std::string_view>(items[at + 1]),
                               text));
    if (at == kNone) {
      items.push_back(args[2]);
      items.push_back(*text);
    } else {
      items[at + 1] = *text;
    }
    *changed = true;
    return Status::Ok();
  });
}

void HIncrBy(Context& ctx, Args args) {
  int64_t by = 0;
  if (!ParseInt64(args[3], &by)) return ctx.out.Error(kNotInteger);
  int64_t result = 0;
  std::string text;
  auto add = [&](std::optional<std::string_view> old, std::string* out) {
    int64_t value = 0;
    if (old && !ParseInt64(*old, &value)) {
      return Status::InvalidArgument("hash value is not an integer");
    }
    if (__builtin_add_overflow(value, by, &result)) {
      return Status::InvalidArgument("increment or decrement would overflow");
    }
    *out = std::to_string(result);
    return Status::Ok();
  };
  if (Status st = IncrementField(ctx, args, add, &text); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(result);
}

void HIncrByFloat(Context& ctx, Args args) {
  long double by = 0;
  if (!ParseLongDouble(args[3], &by)) return ctx.out.Error(kNotFloat);
  std::string text;
  auto add = [&](std::optional<std::string_view> old, std::string* out) {
    long double value = 0;
    if (old && !ParseLongDouble(*old, &value)) {
      return Status::InvalidArgument("hash value is not a float");
    }
    value += by;
    if (std::isnan(value) || std::isinf(value)) {
      return Status::InvalidArgument("increment would produce NaN or Infinity");
    }
    *out = protocol::FormatLongDouble(value);
    return Status::Ok();
  };
  if (Status st = IncrementField(ctx, args, add, &text); !st.ok()) return ctx.Fail(st);
  ctx.out.Bulk(text);
}

// HSCAN returns a whole (packed, small) hash in one call, as Redis does for
// its small encodings: the cursor is always 0 afterwards.
void HScan(Context& ctx, Args args) {
  auto scan = ParseScan(args, 2, true);
  if (!scan.ok()) return ctx.Fail(scan.status());
  const ScanOptions& o = scan->second;
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  Items out;
  for (size_t i = 0; i < items.size(); i += 2) {
    if (!o.match.empty() && !GlobMatch(o.match, items[i])) continue;
    out.push_back(items[i]);
    if (!o.novalues) out.push_back(items[i + 1]);
  }
  ReplyScan(ctx, 0, out);
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

// HRANDFIELD key [count [WITHVALUES]]: count > 0 distinct fields, count < 0
// |count| fields that may repeat.
void HRandField(Context& ctx, Args args) {
  int64_t count = 1;
  const bool with_count = args.size() >= 3;
  const bool with_values = args.size() == 4 && EqualsNoCase(args[3], "WITHVALUES");
  if (args.size() > 4 || (args.size() == 4 && !with_values)) return ctx.out.Error(kSyntaxError);
  if (with_count && !ParseInt64(args[2], &count)) return ctx.out.Error(kNotInteger);
  if (with_count && (count > (1 << 24) || count < -(1 << 24))) {
    return ctx.out.Error("ERR value is out of range");
  }
  Items items;
  Result<const Record*> r = FindHash(ctx, args[1], &items);
  if (!r.ok()) return ctx.Fail(r.status());
  const size_t n = items.size() / 2;
  if (!with_count) {
    if (n == 0) return ctx.out.Null();
    return ctx.out.Bulk(items[2 * (Rng()() % n)]);
  }
  std::vector<size_t> picks;
  if (count >= 0) {
    for (size_t i = 0; i < n; ++i)
      picks.push_back(i);
    std::shuffle(picks.begin(), picks.end(), Rng());
    picks.resize(std::min<size_t>(n, static_cast<size_t>(count)));
  } else if (n > 0) {
    for (int64_t i = 0; i < -count; ++i)
      picks.push_back(Rng()() % n);
  }
  const bool pairs = with_values && ctx.out.version() >= 3;
  ctx.out.Array(picks.size() * (with_values && !pairs ? 2 : 1));
  for (size_t p : picks) {
    if (pairs) ctx.out.Array(2);
    ctx.out.Bulk(items[2 * p]);
    if (with_values) ctx.out.Bulk(items[2 * p + 1]);
  }
}

constexpr uint32_t kW = kWrite | kDenyOom;

const Command kCommands[] = {
    {"hset", -4, kW | kFast, 1, 1, 1, "hash", "Sets fields of a hash.", HSet},
    {"hmset", -4, kW | kFast, 1, 1, 1, "hash", "Sets fields of a hash (replies OK).", HMSet},
    {"hsetnx", 4, kW | kFast, 1, 1, 1, "hash", "Sets a field only if it does not exist.", HSetNx},
    {"hget", 3, kReadOnly | kFast, 1, 1, 1, "hash", "Returns a field's value.", HGet},
    {"hmget", -3, kReadOnly | kFast, 1, 1, 1, "hash", "Returns the values of fields.", HMGet},
    {"hgetall", 2, kReadOnly, 1, 1, 1, "hash", "Returns every field and value.", HGetAll},
    {"hkeys", 2, kReadOnly, 1, 1, 1, "hash", "Returns every field.", HKeys},
    {"hvals", 2, kReadOnly, 1, 1, 1, "hash", "Returns every value.", HVals},
    {"hdel", -3, kWrite | kFast, 1, 1, 1, "hash", "Deletes fields.", HDel},
    {"hexists", 3, kReadOnly | kFast, 1, 1, 1, "hash", "Whether a field exists.", HExists},
    {"hlen", 2, kReadOnly | kFast, 1, 1, 1, "hash", "Returns the number of fields.", HLen},
    {"hstrlen", 3, kReadOnly | kFast, 1, 1, 1, "hash", "Returns the length of a field's value.",
     HStrLen},
    {"hincrby", 4, kW | kFast, 1, 1, 1, "hash", "Increments a field's integer value.", HIncrBy},
    {"hincrbyfloat", 4, kW | kFast, 1, 1, 1, "hash", "Increments a field's floating-point value.",
     HIncrByFloat},
    {"hscan", -3, kReadOnly, 1, 1, 1, "hash", "Iterates over the fields of a hash.", HScan},
    {"hrandfield", -2, kReadOnly, 1, 1, 1, "hash", "Returns random fields.", HRandField},
};

}  // namespace

std::span<const Command> HashCommands() {
  return kCommands;
}

}  // namespace quiver::resp
