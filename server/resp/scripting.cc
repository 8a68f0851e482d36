// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD,
// EXISTS, FLUSH, KILL, HELP), with Redis 7.0's replies and errors. A script
// runs in the server's one Lua VM (server/scripting/lua_vm.h) under the
// keyspace's exclusive gate, as EXEC does: no other write runs meanwhile,
// and its writes reach the log as one atomic batch. FUNCTION and FCALL are
// in server/resp/functions.cc.
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/resp/acl_catalog.h"
#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/script_host.h"
#include "server/scripting/sha1.h"
#include "util/clock.h"

namespace quiver::resp {

ScriptCalls::ScriptCalls(Context& ctx, bool read_only) : ctx_(ctx), read_only_(read_only) {
  session_.info = ctx.session.info;
  session_.db = ctx.session.db;
  session_.authenticated = true;
  session_.user = ctx.session.user;  // the script runs as its caller
  session_.unrestricted = ctx.session.unrestricted;
}

ScriptCalls::~ScriptCalls() {
  Session& s = ctx_.session;
  s.logged = s.logged || session_.logged;
  s.hits += session_.hits;
  s.misses += session_.misses;
  for (auto& key : session_.ready)
    s.ready.push_back(std::move(key));
}

std::string ScriptCalls::Call(std::span<const std::string_view> args, int resp) {
  const Command* cmd = FindCommand(args[0]);
  if (cmd == nullptr) return "-ERR Unknown Redis command called from script\r\n";
  if (!ArityOk(*cmd, args.size())) {
    return "-ERR Wrong number of args calling Redis command from script\r\n";
  }
  if (cmd->flags & (kNoScript | kBlocking)) {
    return "-ERR This Redis command is not allowed from script\r\n";
  }
  if (read_only_ && (cmd->flags & kWrite)) {
    return "-ERR Write commands are not allowed from read-only scripts.\r\n";
  }
  if (std::string denied;
      !session_.unrestricted && !AclAllows(ctx_, *cmd, args, AclWhere::kScript, &denied)) {
    return "-" + denied + "\r\n";
  }
  // From its first write on, a script can no longer be killed; once killed,
  // it writes nothing more.
  if (cmd->flags & kWrite) {
    int state = Shared::kScriptClean;
    if (!ctx_.shared.script_state.compare_exchange_strong(state, Shared::kScriptWrote) &&
        state == Shared::kScriptKilled) {
      return "-ERR Script killed by user with SCRIPT KILL...\r\n";
    }
  }
  std::string reply;
  protocol::RespWriter out(&reply);
  out.SetVersion(resp);
  session_.proto = resp;
  Context inner{ctx_.ks, ctx_.store, ctx_.shared, session_, out};
  inner.txn = ctx_.txn;
  inner.applying = ctx_.applying;
  inner.partition = ctx_.partition;
  Run(inner, *cmd, args, /*gate=*/false);
  return reply;
}

void ScriptCalls::Log(int level, std::string_view message) {
  constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::debug,
                                                   spdlog::level::info, spdlog::level::warn};
  spdlog::log(kLevels[level], "script: {}", message);
}

RunningScript::RunningScript(Context& ctx, std::string_view function, Args command)
    : ctx_(ctx), reply_at_(ctx.out.out()->size()) {
  Shared& s = ctx.shared;
  if (!function.empty()) {
    std::lock_guard lock(s.running_mu);
    s.running_name = function;
    s.running_command = command;
  }
  s.script_started_ms.store(MonotonicMs(), std::memory_order_relaxed);
  s.script_is_function.store(!function.empty(), std::memory_order_relaxed);
  s.script_io_thread.store(IoThreadIndex(), std::memory_order_relaxed);
  s.script_kill.store(false);
  s.script_state.store(Shared::kScriptClean);
  // After the store above: a stop that came before it is seen here, one
  // that comes after sets the flag itself (StopScripts).
  if (s.stopping.load()) s.script_kill.store(true);
}

RunningScript::~RunningScript() {
  Shared& s = ctx_.shared;
  if (s.script_is_function.load(std::memory_order_relaxed)) {
    std::lock_guard lock(s.running_mu);
    s.running_name = {};
    s.running_command = {};
  }
  s.script_state.store(Shared::kScriptIdle);
  s.script_io_thread.store(-1, std::memory_order_relaxed);
  s.script_kill.store(false);
  if (!s.stopping.load()) return;
  ctx_.out.out()->resize(reply_at_);
  ctx_.out.Error(
      "ERR The server is shutting down: the script was stopped, and none of its "
      "writes were kept");
  ctx_.drop_writes = true;
  ctx_.session.close = true;
}

int& IoThreadIndex() {
  thread_local int index = -1;
  return index;
}

void StopScripts(Shared& shared) {
  shared.stopping.store(true);
  shared.script_kill.store(true);
}

scripting::LuaVm& LuaVmOf(Shared& shared) {
  if (shared.lua == nullptr) {
    shared.lua = std::make_unique<scripting::LuaVm>(
        scripting::LuaVm::Options{.redis_version = std::string(kRedisCompatVersion),
                                  .max_instructions = shared.script_instruction_limit,
                                  .kill = &shared.script_kill});
  }
  return *shared.lua;
}

std::string_view BusyReply(bool function) {
  return function ? "BUSY Redis is busy running a script. You can only call FUNCTION KILL or "
                    "SHUTDOWN NOSAVE."
                  : "BUSY Redis is busy running a script. You can only call SCRIPT KILL or "
                    "SHUTDOWN NOSAVE.";
}

std::optional<std::string_view> BusyError(const Shared& shared) {
  if (shared.script_state.load() == Shared::kScriptIdle) return std::nullopt;
  const int64_t started = shared.script_started_ms.load(std::memory_order_relaxed);
  const int64_t threshold = shared.busy_reply_threshold_ms.load(std::memory_order_relaxed);
  if (MonotonicMs() - started < threshold) return std::nullopt;
  return BusyReply(shared.script_is_function.load(std::memory_order_relaxed));
}

std::unique_lock<std::timed_mutex> LockVm(Context& ctx) {
  std::unique_lock lock(ctx.shared.lua_mu, std::defer_lock);
  GiveUpWhenBusy busy(ctx.shared);
  const GiveUp give_up = busy;
  if (!LockUnless(lock, &give_up)) ctx.out.Error(busy.reply());
  return lock;
}

void KillScript(Context& ctx, bool function) {
  Shared& s = ctx.shared;
  if (s.script_state.load() != Shared::kScriptIdle && s.script_is_function.load() != function) {
    return ctx.out.Error(BusyReply(!function));  // Redis's answer to the wrong KILL
  }
  int state = Shared::kScriptClean;
  if (s.script_state.compare_exchange_strong(state, Shared::kScriptKilled) ||
      state == Shared::kScriptKilled) {
    s.script_kill.store(true, std::memory_order_relaxed);
    return ctx.out.Ok();
  }
  if (state == Shared::kScriptIdle) {
    return ctx.out.Error("NOTBUSY No scripts in execution right now.");
  }
  ctx.out.Error(
      "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
      "can either wait the script termination or kill the server in a hard way using the "
      "SHUTDOWN NOSAVE command.");
}

Result<ScriptArgs> ParseScriptArgs(Args args, std::string_view not_integer) {
  int64_t n = 0;
  if (!ParseInt64(args[2], &n)) return Status::InvalidArgument(std::string(not_integer));
  if (n < 0) return Status::InvalidArgument("Number of keys can't be negative");
  if (n > static_cast<int64_t>(args.size() - 3)) {
    return Status::InvalidArgument("Number of keys can't be greater than number of args");
  }
  const auto keys = static_cast<size_t>(n);
  return ScriptArgs{args.subspan(3, keys), args.subspan(3 + keys)};
}

const Subcommand* FindSubcommand(Context& ctx, Args args, std::span<const Subcommand> known,
                                 std::string_view command) {
  const std::string_view sub = args[1];
  for (const Subcommand& s : known) {
    if (!EqualsNoCase(s.name, sub)) continue;
    const auto n = static_cast<int64_t>(args.size());
    if (s.arity >= 0 ? n != s.arity : n < -s.arity) {
      ReplyWrongArity(ctx, AsciiLowerCopy(command) + "|" + std::string(s.name));
      return nullptr;
    }
    return &s;
  }
  ReplyUnknownSubcommand(ctx, sub, command);
  return nullptr;
}

namespace {

void Eval(Context& ctx, Args args, bool by_sha, bool read_only) {
  Result<ScriptArgs> a = ParseScriptArgs(args, kNotInteger.substr(4));
  if (!a.ok()) return ctx.Fail(a.status());
  const std::string sha = by_sha ? AsciiLowerCopy(args[1]) : scripting::Sha1Hex(args[1]);
  std::lock_guard lock(ctx.shared.lua_mu);
  scripting::LuaVm& vm = LuaVmOf(ctx.shared);
  if (!vm.Has(sha)) {
    if (by_sha) return ctx.out.Error("NOSCRIPT No matching script. Please use EVAL.");
    if (Status st = vm.Load(sha, args[1], /*pinned=*/false); !st.ok()) return ctx.Fail(st);
  }
  ScriptCalls host(ctx, read_only);
  RunningScript running(ctx);
  vm.Run(sha, a->keys, a->argv, host, ctx.out);
}

void EvalCommand(Context& ctx, Args args) {
  Eval(ctx, args, false, false);
}
void EvalSha(Context& ctx, Args args) {
  Eval(ctx, args, true, false);
}
void EvalRo(Context& ctx, Args args) {
  Eval(ctx, args, false, true);
}
void EvalShaRo(Context& ctx, Args args) {
  Eval(ctx, args, true, true);
}

constexpr const char* kScriptHelp[] = {
    "SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
    "HELP",
    "    Print this help.",
};

constexpr Subcommand kSubcommands[] = {
    {"load", 3}, {"exists", -3}, {"flush", -2}, {"kill", 2}, {"help", 2}};

void Script(Context& ctx, Args args) {
  const Subcommand* sub = FindSubcommand(ctx, args, kSubcommands, "SCRIPT");
  if (sub == nullptr) return;
  if (sub->name == "help") return ReplyHelp(ctx, kScriptHelp);
  if (sub->name == "kill") return KillScript(ctx, /*function=*/false);
  std::unique_lock lock = LockVm(ctx);
  if (!lock.owns_lock()) return;
  scripting::LuaVm& vm = LuaVmOf(ctx.shared);
  if (sub->name == "load") {
    const std::string sha = scripting::Sha1Hex(args[2]);
    if (Status st = vm.Load(sha, args[2], /*pinned=*/true); !st.ok()) return ctx.Fail(st);
    return ctx.out.Bulk(sha);
  }
  if (sub->name == "exists") {
    ctx.out.Array(args.size() - 2);
    for (std::string_view sha : args.subspan(2))
      ctx.out.Integer(vm.Has(AsciiLowerCopy(sha)) ? 1 : 0);
    return;
  }
  const size_t n = args.size();
  if (n > 3 || (n == 3 && !EqualsNoCase(args[2], "sync") && !EqualsNoCase(args[2], "async"))) {
    return ctx.out.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  vm.Flush();
  ctx.out.Ok();
}

// A script's writes run under the exclusive gate (kExclusive) and gather
// in one batch for the log (kWrite); its keys follow its numkeys.
constexpr uint32_t kEval = kWrite | kExclusive | kNoScript | kMultiKey | kStale | kRunsScript;
constexpr uint32_t kEvalRo = kReadOnly | kExclusive | kNoScript | kMultiKey | kStale | kRunsScript;

const Command kCommands[] = {
    {"eval", -3, kEval, 0, 0, 0, "scripting", "Runs a Lua script.", EvalCommand, 2},
    {"evalsha", -3, kEval, 0, 0, 0, "scripting", "Runs a Lua script cached by its SHA-1.", EvalSha,
     2},
    {"eval_ro", -3, kEvalRo, 0, 0, 0, "scripting", "Runs a read-only Lua script.", EvalRo, 2},
    {"evalsha_ro", -3, kEvalRo, 0, 0, 0, "scripting",
     "Runs a read-only Lua script cached by its SHA-1.", EvalShaRo, 2},
    {"script", -2, kNoScript | kStale, 0, 0, 0, "scripting", "Manages the script cache.", Script},
};

}  // namespace

std::span<const Command> ScriptingCommands() {
  return kCommands;
}

}  // namespace quiver::resp
