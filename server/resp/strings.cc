// String commands, with Redis 7 semantics.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

using Change = KeySpace::Change;

Result<int64_t> ExpireAt(std::string_view text, ExpireUnit unit, int64_t now_ms,
                         std::string_view command, bool positive_only) {
  const Status bad =
      Status::InvalidArgument("invalid expire time in '" + std::string(command) + "' command");
  int64_t n = 0;
  if (!ParseInt64(text, &n)) return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
  if (positive_only && n <= 0) return bad;
  int64_t ms = n;
  const bool seconds = unit == ExpireUnit::kSeconds || unit == ExpireUnit::kUnixSeconds;
  if (seconds && __builtin_mul_overflow(n, int64_t{1000}, &ms)) return bad;
  const bool relative = unit == ExpireUnit::kSeconds || unit == ExpireUnit::kMillis;
  if (relative && __builtin_add_overflow(ms, now_ms, &ms)) return bad;
  // INT64_MAX is how a key without a time to live is kept: a key set to
  // expire then keeps a time to live, as in Redis, a millisecond sooner.
  return std::min(ms, kNeverExpires - 1);
}

Result<const Record*> FindString(Context& ctx, std::string_view key) {
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kString);
  if (r.ok()) ctx.Looked(*r != nullptr, key);
  return r;
}

Status EditString(Context& ctx, std::string_view key, uint64_t min_size,
                  FunctionRef<void(std::span<uint8_t>)> edit, bool* grew) {
  if (min_size > kMaxStringSize) return TooBig();
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur != nullptr && cur->kind != RecordKind::kString) return WrongType();
        const std::string_view old = cur != nullptr ? ValueOf(cur) : std::string_view();
        const size_t size = std::max<size_t>(old.size(), min_size);
        if (grew != nullptr) *grew = cur == nullptr || size > old.size();
        const int64_t expire = cur != nullptr ? cur->expire_at_ms : kNeverExpires;
        Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, size, expire);
        if (r == nullptr) return Oom();
        uint8_t* bytes = r->mutable_value();
        if (!old.empty()) std::memcpy(bytes, old.data(), old.size());
        std::memset(bytes + old.size(), 0, size - old.size());
        edit({bytes, size});
        return Change{Change::kPut, r};
      });
  return done.status();
}

void ReplyValue(Context& ctx, const Record* r) {
  if (r == nullptr) {
    ctx.out.Null();
  } else {
    ctx.out.Bulk(ValueOf(r));
  }
}

namespace {

struct SetSpec {
  enum Cond { kAny, kIfAbsent, kIfPresent } cond = kAny;
  bool get = false;  // reply the old value
  bool keep_ttl = false;
  int64_t expire_at = kNeverExpires;
};

struct SetOutcome {
  bool applied = false;
  const Record* old = nullptr;  // the live value before (valid under the read lock)
};

// The one write path of every string-setting command.
Result<SetOutcome> SetString(Context& ctx, std::string_view key, std::string_view value,
                             const SetSpec& spec) {
  SetOutcome out;
  const int64_t now = ctx.now();
  if (spec.get) ctx.Looked(ctx.ks.Find(ctx.db(), key) != nullptr, key);  // as GET
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        out = {false, cur};
        if (spec.get && cur != nullptr && cur->kind != RecordKind::kString) return WrongType();
        if ((spec.cond == SetSpec::kIfAbsent && cur) ||
            (spec.cond == SetSpec::kIfPresent && !cur)) {
          return Change{};
        }
        out.applied = true;
        const int64_t expire = spec.keep_ttl && cur ? cur->expire_at_ms : spec.expire_at;
        if (expire <= now) return Change{Change::kErase};
        Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, value, expire);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  if (!done.ok()) return done.status();
  if (out.applied) {
    ctx.Notify(kNotifyString, "set", key);
    if (spec.expire_at != kNeverExpires) ctx.Notify(kNotifyGeneric, "expire", key);
  }
  return out;
}

// Parses SET's options (from args[3]) into *spec.
Status ParseSetOptions(Context& ctx, Args args, SetSpec* spec) {
  bool have_expire = false;
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string_view a = args[i];
    const bool has_next = i + 1 < args.size();
    std::optional<ExpireUnit> unit;
    if (EqualsNoCase(a, "NX") && spec->cond == SetSpec::kAny) {
      spec->cond = SetSpec::kIfAbsent;
    } else if (EqualsNoCase(a, "XX") && spec->cond == SetSpec::kAny) {
      spec->cond = SetSpec::kIfPresent;
    } else if (EqualsNoCase(a, "GET") && !spec->get) {
      spec->get = true;
    } else if (EqualsNoCase(a, "KEEPTTL") && !have_expire) {
      spec->keep_ttl = have_expire = true;
    } else if (EqualsNoCase(a, "EX")) {
      unit = ExpireUnit::kSeconds;
    } else if (EqualsNoCase(a, "PX")) {
      unit = ExpireUnit::kMillis;
    } else if (EqualsNoCase(a, "EXAT")) {
      unit = ExpireUnit::kUnixSeconds;
    } else if (EqualsNoCase(a, "PXAT")) {
      unit = ExpireUnit::kUnixMillis;
    } else {
      return Status::InvalidArgument("syntax error");
    }
    if (!unit) continue;
    if (have_expire || !has_next) return Status::InvalidArgument("syntax error");
    Result<int64_t> at = ExpireAt(args[++i], *unit, ctx.now(), "set", true);
    if (!at.ok()) return at.status();
    spec->expire_at = *at;
    have_expire = true;
  }
  return Status::Ok();
}

void Set(Context& ctx, Args args) {
  SetSpec spec;
  if (Status st = ParseSetOptions(ctx, args, &spec); !st.ok()) return ctx.Fail(st);
  Result<SetOutcome> r = SetString(ctx, args[1], args[2], spec);
  if (!r.ok()) return ctx.Fail(r.status());
  if (spec.get) return ReplyValue(ctx, r->old);
  if (r->applied) return ctx.out.Ok();
  ctx.out.Null();
}

void SetNx(Context& ctx, Args args) {
  Result<SetOutcome> r = SetString(ctx, args[1], args[2], {.cond = SetSpec::kIfAbsent});
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Integer(r->applied ? 1 : 0);
}

void SetWithExpiry(Context& ctx, Args args, ExpireUnit unit, std::string_view command) {
  Result<int64_t> at = ExpireAt(args[2], unit, ctx.now(), command, true);
  if (!at.ok()) return ctx.Fail(at.status());
  Result<SetOutcome> r = SetString(ctx, args[1], args[3], {.expire_at = *at});
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Ok();
}

void SetEx(Context& ctx, Args args) {
  SetWithExpiry(ctx, args, ExpireUnit::kSeconds, "setex");
}

void PSetEx(Context& ctx, Args args) {
  SetWithExpiry(ctx, args, ExpireUnit::kMillis, "psetex");
}

void GetSet(Context& ctx, Args args) {
  Result<SetOutcome> r = SetString(ctx, args[1], args[2], {.get = true});
  if (!r.ok()) return ctx.Fail(r.status());
  ReplyValue(ctx, r->old);
}

void Get(Context& ctx, Args args) {
  Result<const Record*> r = FindString(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  ReplyValue(ctx, *r);
}

void MGet(Context& ctx, Args args) {
  ctx.out.Array(args.size() - 1);
  for (size_t i = 1; i < args.size(); ++i) {
    const Record* r = ctx.ks.Find(ctx.db(), args[i]);
    ctx.Looked(r != nullptr, args[i]);
    ReplyValue(ctx, r != nullptr && r->kind == RecordKind::kString ? r : nullptr);
  }
}

void MSet(Context& ctx, Args args) {
  if (args.size() % 2 == 0) return ReplyWrongArity(ctx, "mset");
  for (size_t i = 1; i < args.size(); i += 2) {
    Result<SetOutcome> r = SetString(ctx, args[i], args[i + 1], {});
    if (!r.ok()) return ctx.Fail(r.status());
  }
  ctx.out.Ok();
}

void MSetNx(Context& ctx, Args args) {
  if (args.size() % 2 == 0) return ReplyWrongArity(ctx, "msetnx");
  for (size_t i = 1; i < args.size(); i += 2) {
    if (ctx.ks.Find(ctx.db(), args[i]) != nullptr) return ctx.out.Integer(0);
  }
  for (size_t i = 1; i < args.size(); i += 2) {
    Result<SetOutcome> r = SetString(ctx, args[i], args[i + 1], {});
    if (!r.ok()) return ctx.Fail(r.status());
  }
  ctx.out.Integer(1);
}

void GetDel(Context& ctx, Args args) {
  const Record* old = nullptr;
  ctx.Looked(ctx.ks.Find(ctx.db(), args[1]) != nullptr, args[1]);
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), args[1], [&](const Record* cur) -> Result<Change> {
        old = cur;
        if (cur == nullptr) return Change{};
        if (cur->kind != RecordKind::kString) return WrongType();
        return Change{Change::kErase};
      });
  if (!done.ok()) return ctx.Fail(done.status());
  if (old != nullptr) ctx.Notify(kNotifyGeneric, "del", args[1]);
  ReplyValue(ctx, old);
}

// GETEX's option: the new expiry (kNeverExpires for PERSIST), or nullopt
// for none.
Result<std::optional<int64_t>> ParseGetExOption(Context& ctx, Args args) {
  if (args.size() == 2) return std::optional<int64_t>();
  const std::string_view a = args[2];
  if (EqualsNoCase(a, "PERSIST") && args.size() == 3) return std::optional<int64_t>(kNeverExpires);
  std::optional<ExpireUnit> unit;
  if (EqualsNoCase(a, "EX")) unit = ExpireUnit::kSeconds;
  if (EqualsNoCase(a, "PX")) unit = ExpireUnit::kMillis;
  if (EqualsNoCase(a, "EXAT")) unit = ExpireUnit::kUnixSeconds;
  if (EqualsNoCase(a, "PXAT")) unit = ExpireUnit::kUnixMillis;
  if (!unit || args.size() != 4) return Status::InvalidArgument("syntax error");
  Result<int64_t> at = ExpireAt(args[3], *unit, ctx.now(), "getex", true);
  if (!at.ok()) return at.status();
  return std::optional<int64_t>(*at);
}

void GetEx(Context& ctx, Args args) {
  Result<std::optional<int64_t>> expire = ParseGetExOption(ctx, args);
  if (!expire.ok()) return ctx.Fail(expire.status());
  if (!expire->has_value()) return Get(ctx, args);
  const int64_t at = **expire;
  const int64_t now = ctx.now();
  const Record* value = nullptr;
  bool had_ttl = false;
  ctx.Looked(ctx.ks.Find(ctx.db(), args[1]) != nullptr, args[1]);
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), args[1], [&](const Record* cur) -> Result<Change> {
        value = cur;
        had_ttl = cur != nullptr && cur->expire_at_ms != kNeverExpires;
        if (cur == nullptr) return Change{};
        if (cur->kind != RecordKind::kString) return WrongType();
        if (at <= now) return Change{Change::kErase};
        Record* r = ctx.ks.NewRecord(ctx.db(), args[1], RecordKind::kString, ValueOf(cur), at);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  if (!done.ok()) return ctx.Fail(done.status());
  if (value != nullptr) NotifyExpiry(ctx, args[1], at, had_ttl);
  ReplyValue(ctx, value);
}

// Replaces a string key's value with what `make` builds from the old one
// (empty if absent), keeping its TTL, and notifies `event`. make returns
// an error to refuse.
template <typename Make>
Status UpdateString(Context& ctx, std::string_view key, std::string_view event, Make make) {
  std::string fresh;
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur != nullptr && cur->kind != RecordKind::kString) return WrongType();
        fresh.clear();
        QUIVER_RETURN_IF_ERROR(
            make(cur != nullptr ? ValueOf(cur) : std::string_view(), cur != nullptr, &fresh));
        const int64_t expire = cur != nullptr ? cur->expire_at_ms : kNeverExpires;
        Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, fresh, expire);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  if (done.ok()) ctx.Notify(kNotifyString, event, key);
  return done.status();
}

void Append(Context& ctx, Args args) {
  size_t length = 0;
  Status st =
      UpdateString(ctx, args[1], "append", [&](std::string_view old, bool, std::string* out) {
        if (old.size() + args[2].size() > kMaxStringSize) return TooBig();
        if (!ctx.ks.Fits(old.size() + args[2].size())) return Oom();
        out->reserve(old.size() + args[2].size());
        out->append(old).append(args[2]);
        length = out->size();
        return Status::Ok();
      });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(static_cast<int64_t>(length));
}

// A string's length (0 if absent), or the error of its lookup.
void ReplyLength(Context& ctx, const Result<const Record*>& r) {
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Integer(*r == nullptr ? 0 : static_cast<int64_t>((*r)->value_size));
}

void StrLen(Context& ctx, Args args) {
  ReplyLength(ctx, FindString(ctx, args[1]));
}

void IncrBy(Context& ctx, std::string_view key, int64_t by) {
  int64_t result = 0;
  Status st =
      UpdateString(ctx, key, "incrby", [&](std::string_view old, bool exists, std::string* out) {
        int64_t value = 0;
        if (exists && !ParseInt64(old, &value)) {
          return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
        }
        if (__builtin_add_overflow(value, by, &result)) {
          return Status::InvalidArgument("increment or decrement would overflow");
        }
        *out = std::to_string(result);
        return Status::Ok();
      });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(result);
}

void Incr(Context& ctx, Args args) {
  IncrBy(ctx, args[1], 1);
}

void Decr(Context& ctx, Args args) {
  IncrBy(ctx, args[1], -1);
}

void IncrByCommand(Context& ctx, Args args) {
  int64_t by = 0;
  if (!ParseInt64(args[2], &by)) return ctx.out.Error(kNotInteger);
  IncrBy(ctx, args[1], by);
}

void DecrByCommand(Context& ctx, Args args) {
  int64_t by = 0;
  if (!ParseInt64(args[2], &by)) return ctx.out.Error(kNotInteger);
  if (by == std::numeric_limits<int64_t>::min()) {
    return ctx.out.Error("ERR decrement would overflow");
  }
  IncrBy(ctx, args[1], -by);
}

void IncrByFloat(Context& ctx, Args args) {
  long double by = 0;
  if (!ParseLongDouble(args[2], &by)) return ctx.out.Error(kNotFloat);
  std::string text;
  Status st = UpdateString(
      ctx, args[1], "incrbyfloat", [&](std::string_view old, bool exists, std::string* out) {
        long double value = 0;
        if (exists && !ParseLongDouble(old, &value)) {
          return Status::InvalidArgument(std::string(kNotFloat.substr(4)));
        }
        value += by;
        if (std::isnan(value) || std::isinf(value)) {
          return Status::InvalidArgument("increment would produce NaN or Infinity");
        }
        *out = protocol::FormatLongDouble(value);
        text = *out;
        return Status::Ok();
      });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Bulk(text);
}

void GetRange(Context& ctx, Args args) {
  int64_t start = 0, end = 0;
  if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
    return ctx.out.Error(kNotInteger);
  }
  Result<const Record*> r = FindString(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  const std::string_view value = *r != nullptr ? ValueOf(*r) : std::string_view();
  const auto len = static_cast<int64_t>(value.size());
  if (start < 0 && end < 0 && start > end) return ctx.out.Bulk("");
  if (start < 0) start = std::max<int64_t>(0, len + start);
  if (end < 0) end = std::max<int64_t>(0, len + end);
  if (end >= len) end = len - 1;
  if (start > end || len == 0) return ctx.out.Bulk("");
  ctx.out.Bulk(value.substr(start, end - start + 1));
}

void SetRange(Context& ctx, Args args) {
  int64_t offset = 0;
  if (!ParseInt64(args[2], &offset)) return ctx.out.Error(kNotInteger);
  if (offset < 0) return ctx.out.Error("ERR offset is out of range");
  const std::string_view value = args[3];
  if (static_cast<uint64_t>(offset) + value.size() > kMaxStringSize) return ctx.Fail(TooBig());
  if (value.empty()) {  // changes nothing, creates nothing (and, a write, counts no miss)
    return ReplyLength(ctx, ctx.ks.Find(ctx.db(), args[1], RecordKind::kString));
  }
  size_t length = 0;
  Status st =
      UpdateString(ctx, args[1], "setrange", [&](std::string_view old, bool, std::string* out) {
        if (!ctx.ks.Fits(std::max<size_t>(old.size(), offset + value.size()))) return Oom();
        out->assign(old);
        if (out->size() < offset + value.size()) out->resize(offset + value.size(), '\0');
        out->replace(offset, value.size(), value);
        length = out->size();
        return Status::Ok();
      });
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(static_cast<int64_t>(length));
}

constexpr uint32_t kW = kWrite | kDenyOom;

const Command kCommands[] = {
    {"get", 2, kReadOnly | kFast, 1, 1, 1, "string", "Returns the string value of a key.", Get},
    {"set", -3, kW, 1, 1, 1, "string", "Sets the string value of a key, with options.", Set},
    {"setnx", 3, kW | kFast, 1, 1, 1, "string", "Sets a key only if it does not exist.", SetNx},
    {"setex", 4, kW, 1, 1, 1, "string", "Sets a key with a TTL in seconds.", SetEx},
    {"psetex", 4, kW, 1, 1, 1, "string", "Sets a key with a TTL in milliseconds.", PSetEx},
    {"getset", 3, kW | kFast, 1, 1, 1, "string", "Sets a key and returns its old value.", GetSet},
    {"getdel", 2, kWrite | kFast, 1, 1, 1, "string", "Returns a key's value and deletes it.",
     GetDel},
    {"getex", -2, kWrite | kFast, 1, 1, 1, "string", "Returns a key's value and sets its TTL.",
     GetEx},
    {"mget", -2, kReadOnly | kFast | kMultiKey, 1, -1, 1, "string",
     "Returns the values of several keys.", MGet},
    {"mset", -3, kW | kMultiKey, 1, -1, 2, "string", "Sets several keys atomically.", MSet},
    {"msetnx", -3, kW | kMultiKey, 1, -1, 2, "string",
     "Sets several keys atomically, only if none exists.", MSetNx},
    {"append", 3, kW | kFast, 1, 1, 1, "string", "Appends to a key's value.", Append},
    {"strlen", 2, kReadOnly | kFast, 1, 1, 1, "string", "Returns the length of a value.", StrLen},
    {"incr", 2, kW | kFast, 1, 1, 1, "string", "Increments an integer value by one.", Incr},
    {"decr", 2, kW | kFast, 1, 1, 1, "string", "Decrements an integer value by one.", Decr},
    {"incrby", 3, kW | kFast, 1, 1, 1, "string", "Increments an integer value.", IncrByCommand},
    {"decrby", 3, kW | kFast, 1, 1, 1, "string", "Decrements an integer value.", DecrByCommand},
    {"incrbyfloat", 3, kW | kFast, 1, 1, 1, "string", "Increments a floating-point value.",
     IncrByFloat},
    {"getrange", 4, kReadOnly, 1, 1, 1, "string", "Returns a substring of a value.", GetRange},
    {"setrange", 4, kW, 1, 1, 1, "string", "Overwrites part of a value at an offset.", SetRange},
};

}  // namespace

std::span<const Command> StringCommands() {
  return kCommands;
}

}  // namespace quiver::resp
