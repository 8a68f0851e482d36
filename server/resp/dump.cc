// DUMP and RESTORE in Redis's serialization format (protocol/rdb/rdb.h):
// a value DUMPed from redis-server RESTOREs into quiverd and the other way
// round, for every type both have. RESTORE replaces a key in one step: the
// new value, with its TTL, is built and swapped in by one compare-and-swap.
#include <algorithm>
#include <string>

#include "protocol/rdb/rdb.h"
#include "server/resp/arguments.h"
#include "server/resp/hash_access.h"
#include "server/resp/helpers.h"
#include "server/resp/set_access.h"
#include "server/resp/zset_access.h"

namespace quiver::resp {

namespace {

// The most a restored value may take when no memory limit is set.
constexpr size_t kMaxRestoreBytes = size_t{4} << 30;

// The payload of the value r holds (the live record of key).
Result<std::string> DumpValue(Context& ctx, std::string_view key, const Record& r) {
  if (r.kind == RecordKind::kString) {
    ctx.Looked(true, key);
    return rdb::Writer::String(ValueOf(&r));
  }
  if (r.kind == RecordKind::kHash) {
    HashRead read;
    QUIVER_RETURN_IF_ERROR(FindHash(ctx, key, &read));
    rdb::Writer w(rdb::Type::kHash);
    for (std::string_view item : read.items())
      w.Add(item);
    return std::move(w).Finish();
  }
  const rdb::Type type = r.kind == RecordKind::kList  ? rdb::Type::kList
                         : r.kind == RecordKind::kSet ? rdb::Type::kSet
                                                      : rdb::Type::kZSet;
  rdb::Writer w(type);
  QUIVER_RETURN_IF_ERROR(ForEachElement(ctx, key, r, [&](std::string_view e, double score) {
    type == rdb::Type::kZSet ? w.Add(e, score) : w.Add(e);
  }));
  return std::move(w).Finish();
}

void Dump(Context& ctx, Args args) {
  const Record* r = ctx.ks.Find(ctx.db(), args[1]);
  if (r == nullptr) {
    ctx.Looked(false, args[1]);
    return ctx.out.Null();
  }
  Result<std::string> payload = DumpValue(ctx, args[1], *r);
  if (!payload.ok()) return ctx.Fail(payload.status());
  ctx.out.Bulk(*payload);
}

struct RestoreOptions {
  int64_t ttl = 0;
  bool replace = false, absttl = false;
};

// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME s] [FREQ f], checked
// in Redis's order. IDLETIME and FREQ are checked and ignored: quiver keeps
// neither an access clock nor a frequency.
Result<RestoreOptions> ParseRestore(Args args) {
  RestoreOptions o;
  bool idletime = false, freq = false;
  for (size_t i = 4; i < args.size(); ++i) {
    const bool more = i + 1 < args.size();
    int64_t n = 0;
    if (EqualsNoCase(args[i], "replace")) {
      o.replace = true;
    } else if (EqualsNoCase(args[i], "absttl")) {
      o.absttl = true;
    } else if (EqualsNoCase(args[i], "idletime") && more && !freq) {
      if (!ParseInt64(args[++i], &n))
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      if (n < 0) return Status::InvalidArgument("Invalid IDLETIME value, must be >= 0");
      idletime = true;
    } else if (EqualsNoCase(args[i], "freq") && more && !idletime) {
      if (!ParseInt64(args[++i], &n))
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      if (n < 0 || n > 255) {
        return Status::InvalidArgument("Invalid FREQ value, must be >= 0 and <= 255");
      }
      freq = true;
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  return o;
}

// The most a restored value may take: what the memory limit leaves.
size_t RestoreBudget(const Context& ctx) {
  const MemoryBudget& budget = ctx.ks.table().budget();
  if (budget.limit() <= 0) return kMaxRestoreBytes;
  return static_cast<size_t>(std::max<int64_t>(budget.limit() - budget.total(), 0));
}

// Makes key hold v, expiring at `at`. REQUIRES: the exclusive gate.
Status StoreValue(Context& ctx, std::string_view key, const rdb::Value& v, int64_t at) {
  const std::vector<std::string_view> views(v.items.begin(), v.items.end());
  switch (v.type) {
    case rdb::Type::kString:
      return StoreRecord(ctx, key, false, [&] {
        return ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, v.text, at);
      });
    case rdb::Type::kList:
      return StoreRecord(ctx, key, false, [&] { return NewListRecord(ctx, key, views, at); });
    case rdb::Type::kSet:
      return StoreSet(ctx, key, views, at);
    case rdb::Type::kHash:
      return StoreHash(ctx, key, views, at);
    case rdb::Type::kZSet: {
      std::vector<ZItem> items(views.size());
      for (size_t i = 0; i < views.size(); ++i)
        items[i] = ZItem{views[i], v.scores[i]};
      return StoreZSet(ctx, key, items, at);
    }
  }
  return Status::Internal("an unknown value type");
}

// The absolute expiry a RESTORE's TTL asks for (kNeverExpires for 0).
Result<int64_t> RestoreExpiry(Context& ctx, std::string_view text, const RestoreOptions& o) {
  int64_t ttl = 0;
  if (!ParseInt64(text, &ttl)) return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
  if (ttl < 0) return Status::InvalidArgument("Invalid TTL value, must be >= 0");
  if (ttl == 0) return kNeverExpires;
  if (o.absttl) return ttl;
  if (ttl > kNeverExpires - 1 - ctx.now()) {
    return Status::InvalidArgument("invalid expire time in 'restore' command");
  }
  return ctx.now() + ttl;
}

void Restore(Context& ctx, Args args) {
  Result<RestoreOptions> o = ParseRestore(args);
  if (!o.ok()) return ctx.Fail(o.status());
  const std::string_view key = args[1];
  if (!o->replace && ctx.ks.Find(ctx.db(), key) != nullptr) {
    return ctx.out.Error("BUSYKEY Target key name already exists.");
  }
  Result<int64_t> at = RestoreExpiry(ctx, args[2], *o);
  if (!at.ok()) return ctx.Fail(at.status());
  Result<rdb::Value> value = rdb::Read(args[3], RestoreBudget(ctx));
  if (!value.ok()) return ctx.Fail(value.status());
  if (*at <= ctx.now()) {  // already expired: only the replaced key goes
    const bool existed = ctx.ks.Find(ctx.db(), key) != nullptr;
    if (Status st = StoreRecord(ctx, key, true, [] { return nullptr; }); !st.ok()) {
      return ctx.Fail(st);
    }
    if (existed) ctx.Notify(kNotifyGeneric, "del", key);
    return ctx.out.Ok();
  }
  if (Status st = StoreValue(ctx, key, *value, *at); !st.ok()) return ctx.Fail(st);
  ctx.Notify(kNotifyGeneric, "restore", key);
  ctx.out.Ok();
}

const Command kCommands[] = {
    {"dump", 2, kReadOnly, 1, 1, 1, "generic",
     "Returns a serialized representation of the value stored at a key.", Dump},
    {"restore", -4, kWrite | kDenyOom | kExclusive, 1, 1, 1, "generic",
     "Creates a key from the serialized representation of a value.", Restore},
};

}  // namespace

std::span<const Command> DumpCommands() {
  return kCommands;
}

}  // namespace quiver::resp
