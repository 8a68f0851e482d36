// COPY source destination [DB destination-db] [REPLACE], with Redis 7's
// semantics: the value and its TTL, into the same database or another; a
// list's, a large hash's or a large set's items are copied into a box of
// the destination's own (RENAME, by contrast, moves the box).
#include <string>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;

struct CopyOptions {
  int db;
  bool replace = false;
};

Result<CopyOptions> ParseCopyOptions(Context& ctx, Args args) {
  CopyOptions o{ctx.db()};
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "replace")) {
      o.replace = true;
    } else if (EqualsNoCase(args[i], "db") && i + 1 < args.size()) {
      int64_t db = 0;
      if (!ParseInt64(args[++i], &db)) {
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      }
      if (db < 0 || db >= ctx.ks.databases()) {
        return Status::InvalidArgument("DB index is out of range");
      }
      o.db = static_cast<int>(db);
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  return o;
}

// The box a boxed source's copy will hold (one reference, the caller's),
// copied under the source box's lock before any shard lock is taken.
Result<Box*> CloneBox(Context& ctx, const Record& src, int db) {
  if (!src.boxed()) return nullptr;
  Box& box = Box::Of(src);
  std::lock_guard lock(box.mu());
  Box* copy = box.Clone(ctx.ks.BoxPersistence(db));
  if (copy == nullptr) return Oom();
  return copy;
}

void Copy(Context& ctx, Args args) {
  Result<CopyOptions> o = ParseCopyOptions(ctx, args);
  if (!o.ok()) return ctx.Fail(o.status());
  const std::string_view dst = args[2];
  if (o->db == ctx.db() && args[1] == dst) {
    return ctx.out.Error("ERR source and destination objects are the same");
  }
  const Record* src = ctx.ks.Find(ctx.db(), args[1]);
  if (src == nullptr) return ctx.out.Integer(0);
  Result<Box*> box = CloneBox(ctx, *src, o->db);
  if (!box.ok()) return ctx.Fail(box.status());
  bool copied = false, replaced = false;
  Result<Change::Kind> done = ctx.ks.Mutate(o->db, dst, [&](const Record* cur) -> Result<Change> {
    copied = cur == nullptr || o->replace;
    replaced = cur != nullptr;
    if (!copied) return Change{};
    Record* r = *box != nullptr ? ctx.ks.NewBoxed(o->db, dst, src->kind, **box, src->expire_at_ms)
                                : ctx.ks.Copy(o->db, dst, *src, src->expire_at_ms);
    if (r == nullptr) return Oom();
    return Change{Change::kPut, r};
  });
  if (*box != nullptr) (*box)->Unref();  // the record holds it now (or nobody does)
  if (!done.ok()) return ctx.Fail(done.status());
  // The command's keys are logged in its own database: a copy into
  // another one is logged here (under the exclusive gate, into its batch).
  if (copied && o->db != ctx.db() && ctx.txn != nullptr) (void)ctx.ks.Snapshot(o->db, dst, ctx.txn);
  if (copied) {
    // Redis deletes a replaced destination and adds the copy anew: "new" either way.
    if (replaced) ctx.shared.notifier.Notify(kNotifyNew, "new", o->db, dst);
    ctx.shared.notifier.Notify(kNotifyGeneric, "copy_to", o->db, dst);
  }
  ctx.out.Integer(copied ? 1 : 0);
}

const Command kCommands[] = {
    {"copy", -3, kWrite | kDenyOom | kMultiKey, 1, 2, 1, "generic",
     "Copies a key's value to another key.", Copy},
};

}  // namespace

std::span<const Command> CopyCommands() {
  return kCommands;
}

}  // namespace quiver::resp
