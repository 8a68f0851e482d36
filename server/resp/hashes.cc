// Hash commands, with Redis 7 semantics, on packed or boxed hashes and,
// for reads, on feature rows (server/resp/hash_access.h).
#include <charconv>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/hash_access.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

// HSET and HMSET: sets fields; *added counts the new ones.
Status SetFields(Context& ctx, Args args, int64_t* added) {
  return UpdateHash(ctx, args[1], [&](HashEditor& hash) {
    *added = 0;
    for (size_t i = 2; i + 1 < args.size(); i += 2)
      *added += hash.Set(args[i], args[i + 1]) ? 1 : 0;
    return Status::Ok();
  });
}

void HSet(Context& ctx, Args args) {
  if (args.size() % 2 != 0) return ReplyWrongArity(ctx, "hset");
  int64_t added = 0;
  if (Status st = SetFields(ctx, args, &added); !st.ok()) return ctx.Fail(st);
  ctx.Notify(kNotifyHash, "hset", args[1]);
  ctx.out.Integer(added);
}

void HMSet(Context& ctx, Args args) {
  if (args.size() % 2 != 0) return ReplyWrongArity(ctx, "hmset");
  int64_t added = 0;
  if (Status st = SetFields(ctx, args, &added); !st.ok()) return ctx.Fail(st);
  ctx.Notify(kNotifyHash, "hset", args[1]);
  ctx.out.Ok();
}

void HSetNx(Context& ctx, Args args) {
  bool set = false;
  Status st = UpdateHash(ctx, args[1], [&](HashEditor& hash) {
    set = !hash.Get(args[2]).has_value();
    if (set) hash.Set(args[2], args[3]);
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  if (set) ctx.Notify(kNotifyHash, "hset", args[1]);
  ctx.out.Integer(set ? 1 : 0);
}

void HGet(Context& ctx, Args args) {
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const std::optional<std::string_view> v = read.Get(args[2]);
  if (!v) return ctx.out.Null();
  ctx.out.Bulk(*v);
}

void HMGet(Context& ctx, Args args) {
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Array(args.size() - 2);
  for (size_t i = 2; i < args.size(); ++i) {
    const std::optional<std::string_view> v = read.Get(args[i]);
    if (v) {
      ctx.out.Bulk(*v);
    } else {
      ctx.out.Null();
    }
  }
}

// HGETALL, HKEYS, HVALS: every field, value or both.
void ReplyAll(Context& ctx, std::string_view key, bool fields, bool values) {
  HashRead read;
  if (Status st = FindHash(ctx, key, &read); !st.ok()) return ctx.Fail(st);
  const Items& items = read.items();
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
  Status st = UpdateHash(ctx, args[1], [&](HashEditor& hash) {
    removed = 0;
    for (size_t i = 2; i < args.size(); ++i)
      removed += hash.Erase(args[i]) ? 1 : 0;
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  if (removed > 0) NotifyEdit(ctx, kNotifyHash, "hdel", args[1]);
  ctx.out.Integer(removed);
}

// HEXISTS, HSTRLEN: something of one field (0 if it is absent).
template <typename Measure>
void ReplyOfField(Context& ctx, Args args, Measure measure) {
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const std::optional<std::string_view> v = read.Get(args[2]);
  ctx.out.Integer(v ? measure(*v) : 0);
}

void HExists(Context& ctx, Args args) {
  ReplyOfField(ctx, args, [](std::string_view) { return int64_t{1}; });
}
void HStrLen(Context& ctx, Args args) {
  ReplyOfField(ctx, args, [](std::string_view v) { return static_cast<int64_t>(v.size()); });
}

void HLen(Context& ctx, Args args) {
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(static_cast<int64_t>(read.size()));
}

// HINCRBY and HINCRBYFLOAT: replaces a field's number with what add makes
// of it (the field's text, or nullopt if absent); *text gets the result.
template <typename Add>
Status IncrementField(Context& ctx, Args args, std::string_view event, Add add, std::string* text) {
  Status st = UpdateHash(ctx, args[1], [&](HashEditor& hash) {
    QUIVER_RETURN_IF_ERROR(add(hash.Get(args[2]), text));
    hash.Set(args[2], *text);
    return Status::Ok();
  });
  if (st.ok()) ctx.Notify(kNotifyHash, event, args[1]);
  return st;
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
  if (Status st = IncrementField(ctx, args, "hincrby", add, &text); !st.ok()) return ctx.Fail(st);
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
  if (Status st = IncrementField(ctx, args, "hincrbyfloat", add, &text); !st.ok())
    return ctx.Fail(st);
  ctx.out.Bulk(text);
}

// HSCAN returns a whole (packed, small) hash in one call, as Redis does for
// its small encodings: the cursor is always 0 afterwards.
void HScan(Context& ctx, Args args) {
  auto scan = ParseScan(args, 2, true);
  if (!scan.ok()) return ctx.Fail(scan.status());
  const ScanOptions& o = scan->second;
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const Items& items = read.items();
  Items out;
  for (size_t i = 0; i < items.size(); i += 2) {
    if (!o.match.empty() && !GlobMatch(o.match, items[i])) continue;
    out.push_back(items[i]);
    if (!o.novalues) out.push_back(items[i + 1]);
  }
  ReplyScan(ctx, 0, out);
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
  HashRead read;
  if (Status st = FindHash(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const Items& items = read.items();
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
    {"hset", -4, kW | kFast | kHashField, 1, 1, 1, "hash", "Sets fields of a hash.", HSet},
    {"hmset", -4, kW | kFast | kHashField, 1, 1, 1, "hash", "Sets fields of a hash (replies OK).",
     HMSet},
    {"hsetnx", 4, kW | kFast | kHashField, 1, 1, 1, "hash",
     "Sets a field only if it does not exist.", HSetNx},
    {"hget", 3, kReadOnly | kFast | kHashField, 1, 1, 1, "hash", "Returns a field's value.", HGet},
    {"hmget", -3, kReadOnly | kFast | kHashField, 1, 1, 1, "hash", "Returns the values of fields.",
     HMGet},
    {"hgetall", 2, kReadOnly, 1, 1, 1, "hash", "Returns every field and value.", HGetAll},
    {"hkeys", 2, kReadOnly, 1, 1, 1, "hash", "Returns every field.", HKeys},
    {"hvals", 2, kReadOnly, 1, 1, 1, "hash", "Returns every value.", HVals},
    {"hdel", -3, kWrite | kFast | kHashField, 1, 1, 1, "hash", "Deletes fields.", HDel},
    {"hexists", 3, kReadOnly | kFast | kHashField, 1, 1, 1, "hash", "Whether a field exists.",
     HExists},
    {"hlen", 2, kReadOnly | kFast, 1, 1, 1, "hash", "Returns the number of fields.", HLen},
    {"hstrlen", 3, kReadOnly | kFast | kHashField, 1, 1, 1, "hash",
     "Returns the length of a field's value.", HStrLen},
    {"hincrby", 4, kW | kFast | kHashField, 1, 1, 1, "hash", "Increments a field's integer value.",
     HIncrBy},
    {"hincrbyfloat", 4, kW | kFast | kHashField, 1, 1, 1, "hash",
     "Increments a field's floating-point value.", HIncrByFloat},
    {"hscan", -3, kReadOnly, 1, 1, 1, "hash", "Iterates over the fields of a hash.", HScan},
    {"hrandfield", -2, kReadOnly, 1, 1, 1, "hash", "Returns random fields.", HRandField},
};

}  // namespace

std::span<const Command> HashCommands() {
  return kCommands;
}

}  // namespace quiver::resp
