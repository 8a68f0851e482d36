// Looking commands up and running them: authentication, arity, MULTI
// queueing, the gate, and the per-connection counters.
#include <algorithm>
#include <array>
#include <new>
#include <string>
#include <unordered_map>

#include "server/resp/acl_catalog.h"
#include "server/resp/arguments.h"
#include "server/resp/command.h"
#include "server/resp/errors.h"
#include "server/resp/features.h"
#include "server/resp/helpers.h"
#include "server/resp/replicated.h"
#include "server/resp/script_host.h"
#include "util/ascii.h"
#include "util/clock.h"
#include "util/rcu.h"

namespace quiver::resp {

int64_t LastKey(const Command& cmd, size_t argc) {
  const auto n = static_cast<int64_t>(argc);
  return std::min(n - 1, cmd.last_key < 0 ? n + cmd.last_key : int64_t{cmd.last_key});
}

namespace {

struct Table {
  std::vector<const Command*> all;
  std::unordered_map<std::string_view, const Command*> by_name;
  std::vector<std::pair<const Command*, size_t>> by_address;  // (command, place in all), sorted

  Table() {
    for (auto group :
         {StringCommands(),     KeyCommands(),    HashCommands(),        ListCommands(),
          SetCommands(),        ZSetCommands(),   ZRangeCommands(),      ZCombineCommands(),
          PubSubCommands(),     ObjectCommands(), LcsCommands(),         BitmapCommands(),
          BitFieldCommands(),   HllCommands(),    ScriptingCommands(),   FunctionCommands(),
          CopyCommands(),       DumpCommands(),   MemoryCommands(),      SortCommands(),
          ConnectionCommands(), ServerCommands(), TransactionCommands(), ClusterCommands(),
          SentinelCommands(),   AclCommands()}) {
      for (const Command& c : group) {
        all.push_back(&c);
        by_name.emplace(c.name, &c);
      }
    }
    std::sort(all.begin(), all.end(),
              [](const Command* a, const Command* b) { return a->name < b->name; });
    for (size_t i = 0; i < all.size(); ++i)
      by_address.emplace_back(all[i], i);
    std::sort(by_address.begin(), by_address.end());
  }
};

const Table& TheTable() {
  static const Table table;
  return table;
}

// Redis's text for an unknown command: the name and the first arguments,
// each quoted, cut at 128 bytes.
std::string UnknownCommand(Args args) {
  std::string text = "ERR unknown command '" + std::string(args[0].substr(0, 128)) +
                     "', with args beginning with: ";
  std::string listed;
  for (size_t i = 1; i < args.size() && listed.size() < 128; ++i) {
    listed += "'" + std::string(args[i].substr(0, 128 - listed.size())) + "' ";
  }
  return text + listed;
}

// How many keys a request names.
int64_t KeyCount(const Command& cmd, size_t argc) {
  const int64_t last = LastKey(cmd, argc);
  if (cmd.first_key <= 0 || last < cmd.first_key) return 0;
  return (last - cmd.first_key) / std::max(cmd.key_step, 1) + 1;
}

// Whether a write names a feature row's key (read-only through RESP).
// A script's keys are checked as it uses them: one that only reads a
// feature row is no write of it.
bool WritesFeatureKey(const Command& cmd, Args args) {
  if (!(cmd.flags & kWrite) || (cmd.flags & kRunsScript)) return false;
  bool found = false;
  ForEachKey(cmd, args, [&](size_t i) { found = found || IsFeatureKey(args[i]); });
  return found;
}

bool OverMemory(const Context& ctx) {
  const MemoryBudget& budget = ctx.ks.table().budget();
  return budget.limit() > 0 && budget.total() >= budget.limit();
}

// Inside MULTI: a refused command makes EXEC fail.
void Refuse(Context& ctx, std::string_view error) {
  if (ctx.session.in_multi) ctx.session.multi_failed = true;
  ctx.out.Error(error);
}
void Refuse(Context& ctx, const Status& status) {
  Refuse(ctx, ErrorReply(status));
}

// Queues a command of a transaction, within the queue's bounds.
void Queue(Context& ctx, const Command& cmd, Args args) {
  Session& s = ctx.session;
  size_t bytes = 0;
  for (std::string_view a : args)
    bytes += a.size() + sizeof(std::string);
  if (s.queued.size() >= Session::kMaxQueued || s.queued_bytes + bytes > Session::kMaxQueuedBytes) {
    return Refuse(ctx, "ERR transaction too large: at most " + std::to_string(Session::kMaxQueued) +
                           " commands and " + std::to_string(Session::kMaxQueuedBytes >> 20) +
                           " MB may be queued; EXEC or DISCARD");
  }
  s.queued.emplace_back(args.begin(), args.end());
  s.queued_bytes += bytes;
  s.queued_writes = s.queued_writes || (cmd.flags & kWrite) != 0;
  s.info->multi_count.store(static_cast<int64_t>(s.queued.size()), std::memory_order_relaxed);
  s.info->multi_mem.store(static_cast<int64_t>(s.queued_bytes), std::memory_order_relaxed);
  ctx.out.Simple("QUEUED");
}

}  // namespace

Shared::Shared(RuntimeConfig& c, std::string v)
    : config(c),
      version(std::move(v)),
      users(AclCatalog(), c.Snapshot().requirepass),
      start_ms(SystemNowMs()) {
  config.OnChange("requirepass",
                  [this](const ServerOptions& o) { users.SetDefaultPassword(o.requirepass); });
  notifier.SetFlags(c.Snapshot().notify_keyspace_events);
  config.OnChange("notify_keyspace_events",
                  [this](const ServerOptions& o) { notifier.SetFlags(o.notify_keyspace_events); });
}

bool ArityOk(const Command& cmd, size_t argc) {
  const auto n = static_cast<int64_t>(argc);
  return cmd.arity >= 0 ? n == cmd.arity : n >= -cmd.arity;
}

const Command* FindCommand(std::string_view name) {
  char lower[32];
  if (name.size() > sizeof(lower)) return nullptr;
  for (size_t i = 0; i < name.size(); ++i)
    lower[i] = AsciiLower(name[i]);
  const auto& by_name = TheTable().by_name;
  auto it = by_name.find(std::string_view(lower, name.size()));
  return it == by_name.end() ? nullptr : it->second;
}

std::span<const Command* const> AllCommands() {
  return TheTable().all;
}

size_t CommandId(const Command* cmd) {
  const auto& by_address = TheTable().by_address;
  auto it = std::lower_bound(by_address.begin(), by_address.end(), cmd,
                             [](const auto& entry, const Command* c) {
                               return std::less<const Command*>()(entry.first, c);
                             });
  return it != by_address.end() && it->first == cmd ? it->second : by_address.size();
}

void ReplyWrongArity(Context& ctx, std::string_view name) {
  ctx.out.Error("ERR wrong number of arguments for '" + std::string(name) + "' command");
}

void ReplyHelp(Context& ctx, std::span<const char* const> lines) {
  ctx.out.Array(lines.size());
  for (const char* line : lines)
    ctx.out.Simple(line);
}

void ReplyUnknownSubcommand(Context& ctx, std::string_view sub, std::string_view command) {
  ctx.out.Error("ERR unknown subcommand '" + std::string(sub.substr(0, 128)) + "'. Try " +
                std::string(command) + " HELP.");
}

void Context::Fail(const Status& status) {
  out.Error(ErrorReply(status));
}

void Context::Log(HistoryBatch&& ops) {
  if (ops.empty()) return;
  if (txn != nullptr) return txn->Append(ops);
  ks.log()->Submit(std::move(ops), nullptr);
  session.logged = true;
}

void Context::LogBox(Box& box) {
  if (ks.log() == nullptr) return;
  HistoryBatch ops;
  box.TakeJournal(&ops);
  Log(std::move(ops));
}

void Context::LogKey(std::string_view key, const uint64_t* unless_stamp) {
  if (ks.log() == nullptr) return;
  if (txn != nullptr) {  // under the exclusive gate: no other writer runs
    (void)ks.Snapshot(db(), key, txn, unless_stamp);
    return;
  }
  std::unique_lock<std::mutex> key_lock = ks.LockForLog(db(), key);
  HistoryBatch ops;
  std::unique_lock<std::mutex> box_lock = ks.Snapshot(db(), key, &ops, unless_stamp);
  Log(std::move(ops));
}

namespace {

// The stamps of the first keys a write names, taken before it runs: a key
// whose stamp is the same after it was not written (a PFADD that changed
// no register, an SREM of no member), and is not logged again. (Another
// writer that changed it meanwhile logs its own change.)
struct KeyStamps {
  static constexpr size_t kMax = 8;
  std::array<uint64_t, kMax> stamps{};
  size_t taken = 0;
};

// Calls fn(key, k) for each key a write may change, k counting them:
// those at its fixed positions (a STORE form's destination), or, if it
// has none, those after its count (ZMPOP's).
template <typename Fn>
void ForEachLoggedKey(const Command& cmd, Args args, Fn fn) {
  size_t k = 0;
  ForEachKey(cmd, args, [&](size_t i) {
    if (cmd.first_key > 0 && cmd.numkeys_at > 0 && i > static_cast<size_t>(cmd.numkeys_at)) return;
    fn(args[i], k++);
  });
}

KeyStamps TakeStamps(Context& ctx, const Command& cmd, Args args) {
  KeyStamps s;
  ForEachLoggedKey(cmd, args, [&](std::string_view key, size_t k) {
    if (k < KeyStamps::kMax) s.stamps[s.taken++] = ctx.ks.Stamp(ctx.db(), key);
  });
  return s;
}

// Logs the state of every key a write changed, now that it has run.
void LogKeys(Context& ctx, const Command& cmd, Args args, const KeyStamps& before) {
  ForEachLoggedKey(cmd, args, [&](std::string_view key, size_t k) {
    ctx.LogKey(key, k < before.taken ? &before.stamps[k] : nullptr);
  });
}

// Runs the handler, then logs what a write changed. Under the exclusive
// gate (atomic), every write of the command gathers in one batch.
void RunLogged(Context& ctx, const Command& cmd, Args args, bool exclusive) {
  if (!(cmd.flags & kWrite) || ctx.ks.log() == nullptr) {
    cmd.handler(ctx, args);
    ctx.drop_writes = false;  // nothing is logged
    return;
  }
  HistoryBatch batch;
  const bool own = exclusive && ctx.txn == nullptr;
  if (own) ctx.txn = &batch;
  const HistoryBatch::Mark start = ctx.txn != nullptr ? ctx.txn->End() : HistoryBatch::Mark{};
  const KeyStamps before = TakeStamps(ctx, cmd, args);
  cmd.handler(ctx, args);
  if (ctx.drop_writes) {  // a script's: under the exclusive gate, so with a txn
    ctx.drop_writes = false;
    ctx.txn->Truncate(start);
  } else {
    LogKeys(ctx, cmd, args, before);
  }
  if (own) {
    ctx.txn = nullptr;
    ctx.Log(std::move(batch));
  }
}

}  // namespace

namespace {

// After a write: the keys it names that clients wait on, to serve them
// once the command (or its EXEC) is done.
void NoteReadyKeys(Context& ctx, const Command& cmd, Args args) {
  if (!(cmd.flags & kWrite) || !ctx.shared.blocked.any()) return;
  ForEachKey(cmd, args, [&](size_t i) {
    if (ctx.shared.blocked.WaitsOn(ctx.db(), args[i]))
      ctx.session.ready.emplace_back(ctx.db(), args[i]);
  });
}

// The count at numkeys_at if it is a number from 1 to the words after it;
// else 0 (and for a command without one).
size_t CountedKeys(const Command& cmd, Args args) {
  const auto at = static_cast<size_t>(cmd.numkeys_at);
  int64_t n = 0;
  const bool valid = at != 0 && at < args.size() && ParseInt64(args[at], &n) && n > 0 &&
                     n <= static_cast<int64_t>(args.size() - at - 1);
  return valid ? static_cast<size_t>(n) : 0;
}

}  // namespace

void ForEachKey(const Command& cmd, Args args, FunctionRef<void(size_t)> fn) {
  const int64_t last = LastKey(cmd, args.size());
  for (int64_t i = cmd.first_key; cmd.first_key > 0 && i <= last; i += std::max(cmd.key_step, 1))
    fn(static_cast<size_t>(i));
  const auto at = static_cast<size_t>(cmd.numkeys_at);
  const size_t counted = CountedKeys(cmd, args);
  for (size_t i = at + 1; i <= at + counted; ++i)
    fn(i);
  if (cmd.more_keys != nullptr) cmd.more_keys(args, fn);
}

bool KeyCountValid(const Command& cmd, Args args) {
  return cmd.numkeys_at == 0 || CountedKeys(cmd, args) > 0;
}

void Run(Context& ctx, const Command& cmd, Args args, bool gate) {
  ClientInfo& info = *ctx.session.info;
  info.last_command.store(&cmd, std::memory_order_relaxed);
  ClientInfo::Add(info.commands, 1);
  // A changelog record's writer checked before proposing it.
  if (!ctx.applying && (cmd.flags & kDenyOom) && OverMemory(ctx)) return ctx.Fail(Oom());
  // Inside EXEC (ctx.txn set), the transaction as a whole was checked.
  if ((cmd.flags & kWrite) && ctx.txn == nullptr && !ctx.applying) {
    if (Status refused = DiskRefusal(ctx); !refused.ok()) return ctx.Fail(refused);
  }
  if (WritesFeatureKey(cmd, args)) return ctx.out.Error(kFeatureKeyReadOnly);
  rcu::ReadLock read_lock;
  // A command whose keys move (first_key 0, as SINTERCARD's) counts as
  // naming several.
  const bool many =
      (cmd.flags & kMultiKey) && (cmd.first_key == 0 || cmd.numkeys_at > 0 ||
                                  cmd.more_keys != nullptr || KeyCount(cmd, args.size()) > 1);
  // Waiting for the gate, a command gives up once a script holding it has
  // run past busy-reply-threshold: BUSY, as Redis answers then.
  GiveUpWhenBusy busy(ctx.shared);
  if (gate && ((many && (cmd.flags & kWrite)) || (cmd.flags & kExclusive))) {
    KeySpace::ExclusiveGate exclusive(ctx.ks, busy);
    if (!exclusive.held()) return ctx.out.Error(busy.reply());
    RunLogged(ctx, cmd, args, true);
  } else if (gate && (many || (cmd.flags & kWrite))) {
    KeySpace::SharedGate shared(ctx.ks, busy);
    if (!shared.held()) return ctx.out.Error(busy.reply());
    RunLogged(ctx, cmd, args, false);
  } else {
    RunLogged(ctx, cmd, args, false);  // inside EXEC (ctx.txn set), or a read
  }
  NoteReadyKeys(ctx, cmd, args);
}

void Execute(Context& ctx, Args args) {
  Execute(ctx, args, FindCommand(args[0]));
}

bool RunsLong(const Session& session, const Command* cmd) {
  if (cmd == nullptr || !session.authenticated) return false;
  if ((cmd->flags & kLong) != 0) return true;
  // Checked for every command: the cheap tests first.
  return session.in_multi && session.queued.size() >= kLongExec && cmd->name == "exec";
}

void Execute(Context& ctx, Args args, const Command* cmd) {
  Session& s = ctx.session;
  if (!StillPermitted(ctx.shared, s)) {  // a user changed: the session's looked up again
    s.close = true;
    return ctx.out.Error("ERR the user of this connection was deleted, or lost its permissions");
  }
  if (cmd == nullptr) return Refuse(ctx, UnknownCommand(args));
  if (!s.authenticated && !(cmd->flags & kNoAuth)) {
    return Refuse(ctx, Status::NoAuth("Authentication required."));
  }
  if (!ArityOk(*cmd, args.size())) {
    if (s.in_multi) s.multi_failed = true;
    return ReplyWrongArity(ctx, cmd->name);
  }
  if (!s.unrestricted) {
    std::string denied;
    if (!AclAllows(ctx, *cmd, args, s.in_multi ? AclWhere::kQueued : AclWhere::kTopLevel,
                   &denied)) {
      return Refuse(ctx, denied);
    }
  }
  // A RESP2 connection with subscriptions takes only what handles them.
  if (s.proto == 2 && s.subscriptions() > 0 && !(cmd->flags & kSubscribed)) {
    return ctx.out.Error("ERR Can't execute '" + std::string(cmd->name) +
                         "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                         "allowed in this context");
  }
  if (ctx.shared.changelog != nullptr && (cmd->flags & kReadOnly) && !(cmd->flags & kWrite)) {
    if (Status stale = ctx.shared.changelog->ReadsAllowed(); !stale.ok()) {
      return Refuse(ctx, stale);
    }
  }
  if (s.in_multi && !(cmd->flags & kNoQueue)) {
    // As Redis: over the limit, nothing more is queued (EXEC then aborts).
    if (OverMemory(ctx)) return Refuse(ctx, Oom());
    if (cmd->flags & kWrite) {
      if (Status refused = DiskRefusal(ctx); !refused.ok()) return Refuse(ctx, refused);
    }
    return Queue(ctx, *cmd, args);
  }
  if (ctx.proposal != nullptr && (cmd->flags & kWrite)) {  // a cluster member's write
    s.info->last_command.store(cmd, std::memory_order_relaxed);
    ClientInfo::Add(s.info->commands, 1);
    if ((cmd->flags & kDenyOom) && OverMemory(ctx)) return ctx.Fail(Oom());
    if (WritesFeatureKey(*cmd, args)) return ctx.out.Error(kFeatureKeyReadOnly);
    const std::vector<std::string_view> words(args.begin(), args.end());
    return Propose(ctx, std::span(&words, 1), /*transaction=*/false);
  }
  // A command that cannot get its memory fails alone: its partial reply is
  // dropped and the server goes on.
  const size_t mark = ctx.out.out()->size();
  ctx.may_block = (cmd->flags & kBlocking) && !ctx.applying;
  try {
    Run(ctx, *cmd, args, /*gate=*/true);
  } catch (const std::bad_alloc&) {
    ctx.out.out()->resize(mark);
    Refuse(ctx, Status::OutOfMemory("command not run: the server could not allocate its memory"));
  }
  ctx.may_block = false;
  if (!s.ready.empty()) ServeReady(ctx);
}

}  // namespace quiver::resp
