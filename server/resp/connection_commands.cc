// Connection commands: PING ECHO HELLO AUTH SELECT QUIT RESET CLIENT, and
// the transaction commands MULTI EXEC DISCARD WATCH UNWATCH.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "server/resp/acl_catalog.h"
#include "server/resp/arguments.h"
#include "server/resp/errors.h"
#include "server/resp/helpers.h"
#include "server/resp/replicated.h"
#include "server/resp/script_host.h"

namespace quiver::resp {

const std::string_view kRedisCompatVersion = "7.2.0";

namespace {

void Ping(Context& ctx, Args args) {
  if (args.size() > 2) return ReplyWrongArity(ctx, "ping");
  if (ctx.session.proto == 2 && ctx.session.subscriptions() > 0) {  // as Redis: a message's shape
    ctx.out.Array(2);
    ctx.out.Bulk("pong");
    return ctx.out.Bulk(args.size() == 2 ? args[1] : std::string_view());
  }
  if (args.size() == 2) return ctx.out.Bulk(args[1]);
  ctx.out.Simple("PONG");
}

void Echo(Context& ctx, Args args) {
  ctx.out.Bulk(args[1]);
}

Status WrongPass() {
  return Status::WrongPass("invalid username-password pair or user is disabled.");
}

void Auth(Context& ctx, Args args) {
  if (args.size() > 3) return ctx.out.Error(kSyntaxError);
  const bool with_user = args.size() == 3;
  if (!with_user && ctx.shared.users.Default()->nopass()) {
    return ctx.out.Error(
        "ERR AUTH <password> called without any password configured for the default user. "
        "Are you sure your configuration is correct?");
  }
  if (!AuthenticateAs(ctx, args[0], with_user ? args[1] : acl::kDefaultUser, args.back())) {
    return ctx.Fail(WrongPass());
  }
  ctx.out.Ok();
}

void SetName(Context& ctx, std::string_view name) {
  std::lock_guard<std::mutex> lock(ctx.session.info->mu);
  ctx.session.info->name = name;
}

void Hello(Context& ctx, Args args) {
  int64_t proto = ctx.session.proto;
  size_t i = 1;
  if (args.size() >= 2) {
    if (!ParseInt64(args[1], &proto)) {
      return ctx.out.Error("ERR Protocol version is not an integer or out of range");
    }
    if (proto < 2 || proto > 3) return ctx.out.Error("NOPROTO unsupported protocol version");
    i = 2;
  }
  std::optional<std::pair<std::string_view, std::string_view>> auth;  // user, password
  std::string_view name;
  bool set_name = false;
  for (; i < args.size(); ++i) {
    const bool more = i + 1 < args.size();
    if (EqualsNoCase(args[i], "AUTH") && i + 2 < args.size()) {
      auth.emplace(args[i + 1], args[i + 2]);
      i += 2;
    } else if (EqualsNoCase(args[i], "SETNAME") && more) {
      name = args[++i];
      set_name = true;
      if (!IsPrintableToken(name)) {
        return ctx.out.Error(
            "ERR Client names cannot contain spaces, newlines or special characters.");
      }
    } else {
      return ctx.out.Error("ERR Syntax error in HELLO option '" + std::string(args[i]) + "'");
    }
  }
  if (auth && !AuthenticateAs(ctx, args[0], auth->first, auth->second)) {
    return ctx.Fail(WrongPass());
  }
  if (!ctx.session.authenticated) {
    return ctx.Fail(Status::NoAuth(
        "HELLO must be called with the client already authenticated, otherwise the "
        "HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and "
        "select the RESP protocol version at the same time"));
  }
  if (set_name) SetName(ctx, name);
  ctx.session.proto = static_cast<int>(proto);
  if (ctx.session.subscriber != nullptr) {
    ctx.session.subscriber->proto.store(ctx.session.proto, std::memory_order_relaxed);
  }
  ctx.session.info->proto.store(ctx.session.proto, std::memory_order_relaxed);
  ctx.out.SetVersion(ctx.session.proto);
  ctx.out.Map(7);
  ctx.out.Bulk("server");
  ctx.out.Bulk("redis");
  ctx.out.Bulk("version");
  ctx.out.Bulk(kRedisCompatVersion);
  ctx.out.Bulk("proto");
  ctx.out.Integer(proto);
  ctx.out.Bulk("id");
  ctx.out.Integer(static_cast<int64_t>(ctx.session.info->id));
  ctx.out.Bulk("mode");
  ctx.out.Bulk("standalone");
  ctx.out.Bulk("role");
  ctx.out.Bulk("master");
  ctx.out.Bulk("modules");
  ctx.out.Array(0);
}

void Select(Context& ctx, Args args) {
  int64_t db = 0;
  if (!ParseInt64(args[1], &db)) return ctx.out.Error(kNotInteger);
  if (db < 0 || db >= ctx.ks.databases()) return ctx.out.Error("ERR DB index is out of range");
  ctx.session.db = static_cast<int>(db);
  ctx.session.info->db.store(ctx.session.db, std::memory_order_relaxed);
  ctx.out.Ok();
}

void Quit(Context& ctx, Args) {
  ctx.session.close = true;
  ctx.out.Ok();
}

void ClearTransaction(Session& s) {
  s.in_multi = false;
  s.multi_failed = false;
  s.queued.clear();
  s.queued_bytes = 0;
  s.queued_writes = false;
  s.watched.clear();
  s.watched_bytes = 0;
  s.info->in_multi.store(false, std::memory_order_relaxed);
  s.info->multi_count.store(-1, std::memory_order_relaxed);
  s.info->multi_mem.store(0, std::memory_order_relaxed);
}

void Reset(Context& ctx, Args) {
  Session& s = ctx.session;
  ClearTransaction(s);
  UnsubscribeAll(ctx.shared, s);
  s.db = 0;
  s.proto = 2;
  s.info->db.store(0, std::memory_order_relaxed);
  s.info->proto.store(2, std::memory_order_relaxed);
  ctx.out.SetVersion(2);
  SetName(ctx, "");
  StartAsDefaultUser(ctx.shared, s);
  ctx.out.Simple("RESET");
}

void Multi(Context& ctx, Args) {
  if (ctx.session.in_multi) return ctx.out.Error("ERR MULTI calls can not be nested");
  ctx.session.in_multi = true;
  ctx.session.info->in_multi.store(true, std::memory_order_relaxed);
  ctx.session.info->multi_count.store(0, std::memory_order_relaxed);
  ctx.out.Ok();
}

void Discard(Context& ctx, Args) {
  if (!ctx.session.in_multi) return ctx.out.Error("ERR DISCARD without MULTI");
  ClearTransaction(ctx.session);
  ctx.out.Ok();
}

// True if no watched key changed (and nothing was flushed) since WATCH.
bool WatchesHold(Context& ctx) {
  const Session& s = ctx.session;
  if (s.watched.empty()) return true;
  if (ctx.shared.flushes.load(std::memory_order_relaxed) != s.watch_flushes) return false;
  for (const Session::Watched& w : s.watched) {
    if (ctx.ks.Stamp(w.db, w.key) != w.stamp) return false;
  }
  return true;
}

// A cluster member's EXEC of writes: the transaction is one changelog
// record (its WATCHes judged here, when it is proposed).
void ProposeExec(Context& ctx) {
  Session& s = ctx.session;
  std::vector<std::vector<std::string>> queued = std::move(s.queued);
  const bool run = WatchesHold(ctx);
  ClearTransaction(s);
  if (!run) return ctx.out.NullArray();
  std::vector<std::vector<std::string_view>> commands;
  commands.reserve(queued.size());
  for (const auto& request : queued)
    commands.emplace_back(request.begin(), request.end());
  Propose(ctx, commands, /*transaction=*/true);
}

void Exec(Context& ctx, Args) {
  Session& s = ctx.session;
  if (!s.in_multi) return ctx.out.Error("ERR EXEC without MULTI");
  if (s.multi_failed) {
    ClearTransaction(s);
    return ctx.out.Error("EXECABORT Transaction discarded because of previous errors.");
  }
  if (ctx.proposal != nullptr && s.queued_writes) return ProposeExec(ctx);
  if (Status refused = s.queued_writes ? DiskRefusal(ctx) : Status::Ok(); !refused.ok()) {
    ClearTransaction(s);
    // Redis's words when EXEC itself is refused.
    return ctx.out.Error("EXECABORT Transaction discarded because of: " + ErrorReply(refused));
  }
  // Past busy-reply-threshold, BUSY; the transaction stays, as in Redis.
  GiveUpWhenBusy busy(ctx.shared);
  KeySpace::ExclusiveGate exclusive(ctx.ks, busy);
  if (!exclusive.held()) return ctx.out.Error(busy.reply());
  std::vector<std::vector<std::string>> queued = std::move(s.queued);
  const bool run = WatchesHold(ctx);
  ClearTransaction(s);
  if (!run) return ctx.out.NullArray();
  ctx.out.Array(queued.size());
  // The transaction's writes reach the log as one atomic batch.
  HistoryBatch batch;
  ctx.txn = ctx.ks.log() != nullptr ? &batch : nullptr;
  std::vector<std::string_view> args;
  std::string denied;
  for (const auto& request : queued) {
    args.assign(request.begin(), request.end());
    const Command& cmd = *FindCommand(args[0]);
    // Permissions are checked again: a user may have changed since MULTI.
    if (!s.unrestricted && !AclAllows(ctx, cmd, args, AclWhere::kExec, &denied)) {
      ctx.out.Error(denied);
      continue;
    }
    Run(ctx, cmd, args, /*gate=*/false);
  }
  ctx.txn = nullptr;
  if (ctx.ks.log() != nullptr) ctx.Log(std::move(batch));
}

void Watch(Context& ctx, Args args) {
  Session& s = ctx.session;
  if (s.in_multi) return ctx.out.Error("ERR WATCH inside MULTI is not allowed");
  size_t bytes = 0;
  for (size_t i = 1; i < args.size(); ++i)
    bytes += args[i].size() + sizeof(Session::Watched);
  if (s.watched.size() + args.size() - 1 > Session::kMaxWatched ||
      s.watched_bytes + bytes > Session::kMaxWatchedBytes) {
    return ctx.out.Error("ERR too many watched keys (at most " +
                         std::to_string(Session::kMaxWatched) + " keys and " +
                         std::to_string(Session::kMaxWatchedBytes >> 20) + " MB per connection)");
  }
  if (s.watched.empty()) s.watch_flushes = ctx.shared.flushes.load(std::memory_order_relaxed);
  for (size_t i = 1; i < args.size(); ++i) {
    s.watched.push_back({s.db, std::string(args[i]), ctx.ks.Stamp(s.db, args[i])});
  }
  s.watched_bytes += bytes;
  ctx.out.Ok();
}

void Unwatch(Context& ctx, Args) {
  ctx.session.watched.clear();
  ctx.session.watched_bytes = 0;
  ctx.out.Ok();
}

constexpr uint32_t kConn = kNoAuth | kFast | kStale;

const Command kConnectionCommands[] = {
    {"ping", -1, kFast | kStale | kSubscribed, 0, 0, 0, "connection",
     "Returns PONG, or the message given.", Ping},
    {"echo", 2, kFast, 0, 0, 0, "connection", "Returns the message given.", Echo},
    {"hello", -1, kConn | kNoQueue | kNoScript, 0, 0, 0, "connection",
     "Handshakes: protocol version, authentication, client name.", Hello},
    {"auth", -2, kConn | kNoQueue | kNoScript, 0, 0, 0, "connection",
     "Authenticates the connection.", Auth},
    {"select", 2, kFast | kStale, 0, 0, 0, "connection", "Changes the selected database.", Select},
    {"quit", -1, kConn | kNoQueue | kSubscribed | kNoScript, 0, 0, 0, "connection",
     "Closes the connection.", Quit},
    {"reset", 1, kConn | kNoQueue | kSubscribed | kNoScript, 0, 0, 0, "connection",
     "Resets the connection.", Reset},
};

const Command kTransactionCommands[] = {
    {"multi", 1, kFast | kNoQueue | kNoScript, 0, 0, 0, "transactions", "Starts a transaction.",
     Multi},
    {"exec", 1, kNoQueue | kNoScript, 0, 0, 0, "transactions",
     "Runs the commands of a transaction.", Exec},
    {"discard", 1, kFast | kNoQueue | kNoScript, 0, 0, 0, "transactions", "Discards a transaction.",
     Discard},
    {"watch", -2, kFast | kNoQueue | kNoScript, 1, -1, 1, "transactions",
     "Makes EXEC fail if any of the keys changes.", Watch},
    {"unwatch", 1, kFast | kNoQueue | kNoScript, 0, 0, 0, "transactions",
     "Forgets the watched keys.", Unwatch},
};

}  // namespace

std::span<const Command> ConnectionCommands() {
  return kConnectionCommands;
}

std::span<const Command> TransactionCommands() {
  return kTransactionCommands;
}

}  // namespace quiver::resp
