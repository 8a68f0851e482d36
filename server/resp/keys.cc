// Generic key commands (DEL, EXPIRE, TTL, RENAME, SCAN, ...) and the
// keyspace-wide ones (DBSIZE, FLUSHDB, FLUSHALL), with Redis 7 semantics.
#include <charconv>
#include <optional>
#include <string>
#include <vector>

#include "server/cluster/changelog.h"
#include "server/cluster/slots.h"
#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/set_access.h"
#include "server/resp/zset_access.h"

namespace quiver::resp {

std::string_view TypeName(RecordKind kind) {
  switch (kind) {
    case RecordKind::kString:
      return "string";
    case RecordKind::kHash:
      return "hash";
    case RecordKind::kList:
      return "list";
    case RecordKind::kSet:
      return "set";
    case RecordKind::kZSet:
      return "zset";
    default:
      return "none";
  }
}

Result<ScanOptions> ParseScanOptions(Args args, size_t from, bool novalues_allowed) {
  ScanOptions o;
  for (size_t i = from; i < args.size(); i += 2) {
    if (novalues_allowed && EqualsNoCase(args[i], "NOVALUES")) {
      o.novalues = true;
      --i;  // a flag without a value
      continue;
    }
    if (i + 1 >= args.size()) return Status::InvalidArgument("syntax error");
    const std::string_view name = args[i], value = args[i + 1];
    if (EqualsNoCase(name, "MATCH")) {
      o.match = value == "*" ? std::string_view() : value;
    } else if (EqualsNoCase(name, "COUNT")) {
      int64_t n = 0;
      if (!ParseInt64(value, &n))
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      if (n < 1) return Status::InvalidArgument("syntax error");
      o.count = static_cast<size_t>(std::min<int64_t>(n, 1 << 20));
    } else if (EqualsNoCase(name, "TYPE") && !novalues_allowed) {
      for (RecordKind k : {RecordKind::kString, RecordKind::kHash, RecordKind::kList,
                           RecordKind::kSet, RecordKind::kZSet}) {
        if (EqualsNoCase(value, TypeName(k))) o.type = k;
      }
      o.unknown_type = !o.type.has_value();
    } else {
      return Status::InvalidArgument("syntax error");
    }
  }
  return o;
}

Result<std::pair<uint64_t, ScanOptions>> ParseScan(Args args, size_t at, bool novalues_allowed) {
  // As Redis's strtoul: a sign is allowed, and a negative cursor wraps.
  std::string_view text = args[at];
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) text.remove_prefix(1);
  uint64_t cursor = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), cursor);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
    return Status::InvalidArgument("invalid cursor");
  }
  if (negative) cursor = 0 - cursor;
  Result<ScanOptions> o = ParseScanOptions(args, at + 1, novalues_allowed);
  if (!o.ok()) return o.status();
  return std::pair{cursor, *o};
}

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng(std::random_device{}());
  return rng;
}

void ReplyScan(Context& ctx, uint64_t next, std::span<const std::string_view> items) {
  ctx.out.Array(2);
  ctx.out.Bulk(std::to_string(next));
  ctx.out.Array(items.size());
  for (std::string_view item : items)
    ctx.out.Bulk(item);
}

void NotifyExpiry(Context& ctx, std::string_view key, int64_t at, bool had_ttl) {
  if (at == kNeverExpires) {
    if (had_ttl) ctx.Notify(kNotifyGeneric, "persist", key);
  } else {
    ctx.Notify(kNotifyGeneric, at <= ctx.now() ? "del" : "expire", key);
  }
}

void NotifyEdit(Context& ctx, uint32_t cls, std::string_view event, std::string_view key) {
  ctx.Notify(cls, event, key);
  if (ctx.shared.notifier.Wants(kNotifyGeneric) && ctx.ks.Find(ctx.db(), key) == nullptr)
    ctx.Notify(kNotifyGeneric, "del", key);
}

void NotifyStored(Context& ctx, uint32_t cls, std::string_view event, std::string_view key,
                  bool stored, bool existed) {
  if (stored) {
    ctx.Notify(cls, event, key);
  } else if (existed) {
    ctx.Notify(kNotifyGeneric, "del", key);
  }
}

Status StoreRecord(Context& ctx, std::string_view key, bool empty, FunctionRef<Record*()> build) {
  using Change = KeySpace::Change;
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (empty) return Change{cur != nullptr ? Change::kErase : Change::kKeep};
        Record* r = build();
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  return done.status();
}

Status ForEachElement(Context& ctx, std::string_view key, const Record& r,
                      FunctionRef<void(std::string_view, double)> fn) {
  if (r.kind == RecordKind::kList) {
    ctx.Looked(true, key);
    ListBox& box = ListBox::Of(r);
    std::lock_guard lock(box.mu());
    box.items().ForEach(0, box.size(), false, [&](size_t, std::string_view item) {
      fn(item, 0);
      return true;
    });
    return Status::Ok();
  }
  if (r.kind == RecordKind::kSet) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, key, &read));
    for (std::string_view m : read.members())
      fn(m, 0);
    return Status::Ok();
  }
  if (r.kind != RecordKind::kZSet) return WrongType();
  ZSetRead read;
  QUIVER_RETURN_IF_ERROR(FindZSet(ctx, key, &read));
  const ZItems& items = read.items();
  items.ForRange(0, items.size(), false, [&](const ZItem& item) {
    fn(item.member, item.score);
    return true;
  });
  return Status::Ok();
}

namespace {

using Change = KeySpace::Change;

// Removes a key; true if it existed.
Result<bool> DeleteKey(Context& ctx, std::string_view key) {
  bool existed = false;
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        existed = cur != nullptr;
        return Change{Change::kErase};
      });
  if (!done.ok()) return done.status();
  return existed;
}

void Del(Context& ctx, Args args) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    Result<bool> deleted = DeleteKey(ctx, args[i]);
    if (!deleted.ok()) return ctx.Fail(deleted.status());
    if (*deleted) ctx.Notify(kNotifyGeneric, "del", args[i]);
    n += *deleted ? 1 : 0;
  }
  ctx.out.Integer(n);
}

void Exists(Context& ctx, Args args) {
  int64_t n = 0;
  for (size_t i = 1; i < args.size(); ++i) {
    const bool found = ctx.ks.Find(ctx.db(), args[i]) != nullptr;
    ctx.Looked(found, args[i]);
    n += found ? 1 : 0;
  }
  ctx.out.Integer(n);
}

void Type(Context& ctx, Args args) {
  const Record* r = ctx.ks.Find(ctx.db(), args[1]);
  ctx.Looked(r != nullptr, args[1]);
  ctx.out.Simple(r == nullptr ? "none" : TypeName(r->kind));
}

// EXPIRE's NX | XX | GT | LT.
struct ExpireCondition {
  bool nx = false, xx = false, gt = false, lt = false;

  bool Allows(int64_t current, int64_t fresh) const {
    const bool has_ttl = current != kNeverExpires;
    if ((nx && has_ttl) || (xx && !has_ttl)) return false;
    if (gt && (!has_ttl || fresh <= current)) return false;
    if (lt && has_ttl && fresh >= current) return false;
    return true;
  }
};

Result<ExpireCondition> ParseExpireCondition(Args args) {
  ExpireCondition c;
  for (size_t i = 3; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (EqualsNoCase(a, "NX")) {
      c.nx = true;
    } else if (EqualsNoCase(a, "XX")) {
      c.xx = true;
    } else if (EqualsNoCase(a, "GT")) {
      c.gt = true;
    } else if (EqualsNoCase(a, "LT")) {
      c.lt = true;
    } else {
      return Status::InvalidArgument("Unsupported option " + std::string(a));
    }
  }
  if (c.nx && (c.xx || c.gt || c.lt)) {
    return Status::InvalidArgument(
        "NX and XX, GT or LT options at the same time are not compatible");
  }
  if (c.gt && c.lt) {
    return Status::InvalidArgument("GT and LT options at the same time are not compatible");
  }
  return c;
}

// Sets (or, with at == kNeverExpires, removes) a key's TTL, if `allow`
// agrees; an expiry in the past deletes the key. True if anything changed.
template <typename Allow>
Result<bool> SetExpiry(Context& ctx, std::string_view key, int64_t at, Allow allow) {
  bool changed = false;
  const int64_t now = ctx.now();
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        changed = cur != nullptr && allow(cur->expire_at_ms);
        if (!changed) return Change{};
        if (at <= now) return Change{Change::kErase};
        Record* r = ctx.ks.Copy(ctx.db(), key, *cur, at);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  if (!done.ok()) return done.status();
  if (changed) NotifyExpiry(ctx, key, at, true);
  return changed;
}

void ExpireCommand(Context& ctx, Args args, ExpireUnit unit, std::string_view name) {
  Result<ExpireCondition> cond = ParseExpireCondition(args);
  if (!cond.ok()) return ctx.Fail(cond.status());
  Result<int64_t> at = ExpireAt(args[2], unit, ctx.now(), name, false);
  if (!at.ok()) return ctx.Fail(at.status());
  Result<bool> changed =
      SetExpiry(ctx, args[1], *at, [&](int64_t current) { return cond->Allows(current, *at); });
  if (!changed.ok()) return ctx.Fail(changed.status());
  ctx.out.Integer(*changed ? 1 : 0);
}

void Expire(Context& ctx, Args args) {
  ExpireCommand(ctx, args, ExpireUnit::kSeconds, "expire");
}
void PExpire(Context& ctx, Args args) {
  ExpireCommand(ctx, args, ExpireUnit::kMillis, "pexpire");
}
void ExpireAtCommand(Context& ctx, Args args) {
  ExpireCommand(ctx, args, ExpireUnit::kUnixSeconds, "expireat");
}
void PExpireAt(Context& ctx, Args args) {
  ExpireCommand(ctx, args, ExpireUnit::kUnixMillis, "pexpireat");
}

void Persist(Context& ctx, Args args) {
  Result<bool> changed = SetExpiry(ctx, args[1], kNeverExpires,
                                   [](int64_t current) { return current != kNeverExpires; });
  if (!changed.ok()) return ctx.Fail(changed.status());
  ctx.out.Integer(*changed ? 1 : 0);
}

// TTL, PTTL, EXPIRETIME, PEXPIRETIME: -2 without the key, -1 without a TTL.
void ReplyTtl(Context& ctx, std::string_view key, bool millis, bool absolute) {
  const Record* r = ctx.ks.Find(ctx.db(), key);
  ctx.Looked(r != nullptr, key);
  if (r == nullptr) return ctx.out.Integer(-2);
  if (r->expire_at_ms == kNeverExpires) return ctx.out.Integer(-1);
  int64_t ms = absolute ? r->expire_at_ms : std::max<int64_t>(0, r->expire_at_ms - ctx.now());
  if (!millis) ms = absolute ? ms / 1000 : (ms + 500) / 1000;
  ctx.out.Integer(ms);
}

void Ttl(Context& ctx, Args args) {
  ReplyTtl(ctx, args[1], false, false);
}
void PTtl(Context& ctx, Args args) {
  ReplyTtl(ctx, args[1], true, false);
}
void ExpireTime(Context& ctx, Args args) {
  ReplyTtl(ctx, args[1], false, true);
}
void PExpireTime(Context& ctx, Args args) {
  ReplyTtl(ctx, args[1], true, true);
}

// RENAME and RENAMENX (under the exclusive gate: no writer interleaves).
void RenameCommand(Context& ctx, Args args, bool nx) {
  const Record* src = ctx.ks.Find(ctx.db(), args[1]);
  if (src == nullptr) return ctx.out.Error("ERR no such key");
  if (args[1] == args[2]) return nx ? ctx.out.Integer(0) : ctx.out.Ok();
  const bool replaced = ctx.ks.Find(ctx.db(), args[2]) != nullptr;
  if (nx && replaced) return ctx.out.Integer(0);
  Result<Change::Kind> put = ctx.ks.Mutate(ctx.db(), args[2], [&](const Record*) -> Result<Change> {
    Record* r = ctx.ks.Copy(ctx.db(), args[2], *src, src->expire_at_ms);
    if (r == nullptr) return Oom();
    return Change{Change::kPut, r};
  });
  if (!put.ok()) return ctx.Fail(put.status());
  // Redis deletes the old destination and adds the key anew: "new" either way.
  if (replaced) ctx.Notify(kNotifyNew, "new", args[2]);
  if (Result<bool> d = DeleteKey(ctx, args[1]); !d.ok()) return ctx.Fail(d.status());
  ctx.Notify(kNotifyGeneric, "rename_from", args[1]);
  ctx.Notify(kNotifyGeneric, "rename_to", args[2]);
  return nx ? ctx.out.Integer(1) : ctx.out.Ok();
}

void Rename(Context& ctx, Args args) {
  RenameCommand(ctx, args, false);
}
void RenameNx(Context& ctx, Args args) {
  RenameCommand(ctx, args, true);
}

bool HasGlob(std::string_view pattern) {
  return pattern.find_first_of("*?[\\") != std::string_view::npos;
}

void Keys(Context& ctx, Args args) {
  const std::string_view pattern = args[1];
  std::vector<std::string_view> keys;
  if (!HasGlob(pattern)) {
    if (ctx.ks.Find(ctx.db(), pattern) != nullptr) keys.push_back(pattern);
  } else {
    ctx.ks.ForEach(ctx.db(), [&](const Record& r) {
      if (GlobMatch(pattern, r.key())) keys.push_back(r.key());
    });
  }
  ctx.out.Array(keys.size());
  for (std::string_view k : keys)
    ctx.out.Bulk(k);
}

void Scan(Context& ctx, Args args) {
  auto scan = ParseScan(args, 1, false);
  if (!scan.ok()) return ctx.Fail(scan.status());
  const ScanOptions& o = scan->second;
  std::vector<std::string_view> keys;
  if (ctx.ks.Size(ctx.db()) == 0) return ReplyScan(ctx, 0, keys);  // as Redis: done at once
  const uint64_t next = ctx.ks.Scan(ctx.db(), scan->first, o.count, [&](const Record& r) {
    if (o.unknown_type || (o.type && r.kind != *o.type)) return;
    if (!o.match.empty() && !GlobMatch(o.match, r.key())) return;
    keys.push_back(r.key());
  });
  ReplyScan(ctx, next, keys);
}

void RandomKey(Context& ctx, Args) {
  const Record* r = ctx.ks.Random(ctx.db());
  if (r == nullptr) return ctx.out.Null();
  ctx.out.Bulk(r->key());
}

void DbSize(Context& ctx, Args) {
  ctx.out.Integer(ctx.ks.Size(ctx.db()));
}

// A cluster member applies FLUSHDB and FLUSHALL as one record in every
// changelog partition, each removing the keys of its own partition, in
// that partition's order (docs/cluster.md).
void FlushPartition(Context& ctx, int db) {
  const int partitions = ctx.shared.changelog->partitions();
  std::vector<std::string> keys;
  ctx.ks.ForEach(db, [&](const Record& r) {
    if (cluster::PartitionOf(r.key(), partitions) == ctx.partition) keys.emplace_back(r.key());
  });
  for (const std::string& key : keys) {
    (void)ctx.ks.Mutate(db, key,
                        [](const Record*) -> Result<Change> { return Change{Change::kErase}; });
    if (ctx.txn != nullptr) (void)ctx.ks.Snapshot(db, key, ctx.txn);  // its removal, logged
  }
}

// SWAPDB a b: the two databases exchange their keys at once (their views
// of the table are exchanged). Clients waiting on a key of either are
// served if it now holds something; a WATCHed key that changed aborts
// its EXEC (its stamp is another record's). Not on a cluster member,
// as Redis Cluster has one database.
void SwapDb(Context& ctx, Args args) {
  int64_t a = 0, b = 0;
  if (!ParseInt64(args[1], &a)) return ctx.out.Error("ERR invalid first DB index");
  if (!ParseInt64(args[2], &b)) return ctx.out.Error("ERR invalid second DB index");
  if (ctx.shared.changelog != nullptr) {
    return ctx.out.Error("ERR SWAPDB is not allowed in cluster mode");
  }
  if (a < 0 || b < 0 || a >= ctx.ks.databases() || b >= ctx.ks.databases()) {
    return ctx.out.Error("ERR DB index is out of range");
  }
  if (a != b) {
    ctx.ks.SwapDatabases(static_cast<int>(a), static_cast<int>(b), ctx.txn);
    for (const int db : {static_cast<int>(a), static_cast<int>(b)}) {
      for (std::string& key : ctx.shared.blocked.KeysOf(db))
        ctx.session.ready.emplace_back(db, std::move(key));
    }
  }
  ctx.out.Ok();
}

// FLUSHDB and FLUSHALL take [ASYNC | SYNC]; both run synchronously here.
void FlushCommand(Context& ctx, Args args, bool all) {
  if (args.size() > 2 ||
      (args.size() == 2 && !EqualsNoCase(args[1], "ASYNC") && !EqualsNoCase(args[1], "SYNC"))) {
    return ctx.out.Error(kSyntaxError);
  }
  if (ctx.applying && ctx.partition >= 0 && ctx.shared.changelog != nullptr) {
    for (int db = all ? 0 : ctx.db(); db < (all ? ctx.ks.databases() : ctx.db() + 1); ++db)
      FlushPartition(ctx, db);
    if (ctx.partition == 0) ctx.shared.flushes.fetch_add(1, std::memory_order_relaxed);
    return ctx.out.Ok();
  }
  ctx.ks.Flush(all ? -1 : ctx.db(), ctx.txn);
  ctx.shared.flushes.fetch_add(1, std::memory_order_relaxed);
  ctx.out.Ok();
}

void FlushDb(Context& ctx, Args args) {
  FlushCommand(ctx, args, false);
}
void FlushAll(Context& ctx, Args args) {
  FlushCommand(ctx, args, true);
}

const Command kCommands[] = {
    {"del", -2, kWrite | kMultiKey, 1, -1, 1, "generic", "Deletes keys.", Del},
    {"unlink", -2, kWrite | kMultiKey | kFast, 1, -1, 1, "generic", "Deletes keys.", Del},
    {"exists", -2, kReadOnly | kFast | kMultiKey, 1, -1, 1, "generic",
     "Counts how many of the keys exist.", Exists},
    // Redis's TOUCH updates the keys' access times; quiver keeps none.
    {"touch", -2, kReadOnly | kFast | kMultiKey, 1, -1, 1, "generic",
     "Counts how many of the keys exist (touching them).", Exists},
    {"type", 2, kReadOnly | kFast, 1, 1, 1, "generic", "Returns the type of a key's value.", Type},
    {"expire", -3, kWrite | kFast, 1, 1, 1, "generic", "Sets a key's TTL in seconds.", Expire},
    {"pexpire", -3, kWrite | kFast, 1, 1, 1, "generic", "Sets a key's TTL in milliseconds.",
     PExpire},
    {"expireat", -3, kWrite | kFast, 1, 1, 1, "generic", "Sets a key's expiry as a Unix time.",
     ExpireAtCommand},
    {"pexpireat", -3, kWrite | kFast, 1, 1, 1, "generic",
     "Sets a key's expiry as a Unix time in milliseconds.", PExpireAt},
    {"expiretime", 2, kReadOnly | kFast, 1, 1, 1, "generic",
     "Returns a key's expiry as a Unix time.", ExpireTime},
    {"pexpiretime", 2, kReadOnly | kFast, 1, 1, 1, "generic",
     "Returns a key's expiry as a Unix time in milliseconds.", PExpireTime},
    {"ttl", 2, kReadOnly | kFast, 1, 1, 1, "generic", "Returns a key's TTL in seconds.", Ttl},
    {"pttl", 2, kReadOnly | kFast, 1, 1, 1, "generic", "Returns a key's TTL in milliseconds.",
     PTtl},
    {"persist", 2, kWrite | kFast, 1, 1, 1, "generic", "Removes a key's TTL.", Persist},
    {"rename", 3, kWrite | kMultiKey, 1, 2, 1, "generic", "Renames a key.", Rename},
    {"renamenx", 3, kWrite | kMultiKey | kFast, 1, 2, 1, "generic",
     "Renames a key only if the new name does not exist.", RenameNx},
    {"keys", 2, kReadOnly | kLong, 0, 0, 0, "generic", "Returns the keys matching a pattern.",
     Keys},
    {"scan", -2, kReadOnly, 0, 0, 0, "generic", "Iterates over the keys of the database.", Scan},
    {"randomkey", 1, kReadOnly, 0, 0, 0, "generic", "Returns a random key.", RandomKey},
    {"dbsize", 1, kReadOnly | kFast, 0, 0, 0, "server", "Returns the number of keys.", DbSize},
    {"swapdb", 3, kWrite | kExclusive | kFast, 0, 0, 0, "server", "Swaps two Redis databases.",
     SwapDb},
    {"flushdb", -1, kWrite | kExclusive | kLong, 0, 0, 0, "server",
     "Removes every key of the database.", FlushDb},
    {"flushall", -1, kWrite | kExclusive | kLong, 0, 0, 0, "server",
     "Removes every key of every database.", FlushAll},
};

}  // namespace

std::span<const Command> KeyCommands() {
  return kCommands;
}

}  // namespace quiver::resp
