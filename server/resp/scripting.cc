// Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT (LOAD,
// EXISTS, FLUSH, KILL, HELP), with Redis 7.0's replies and errors. A script
// runs in the server's one Lua VM (server/scripting/lua_vm.h) under the
// keyspace's exclusive gate, as EXEC does: no other write runs meanwhile,
// and its writes reach the log as one atomic batch. Its redis.call runs
// the command as a client of its own would (its SELECT stays in the
// script), replying in the protocol redis.setresp chose.
#include <mutex>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/scripting/sha1.h"

namespace quiver::resp {

namespace {

// What the scripts of one EVAL call back into.
class Host final : public scripting::ScriptHost {
 public:
  Host(Context& ctx, bool read_only) : ctx_(ctx), read_only_(read_only) {
    session_.info = ctx.session.info;
    session_.db = ctx.session.db;
    session_.authenticated = true;
  }
  // Hands what the script's commands left to do to the caller's session.
  ~Host() {
    Session& s = ctx_.session;
    s.logged = s.logged || session_.logged;
    s.hits += session_.hits;
    s.misses += session_.misses;
    for (auto& key : session_.ready)
      s.ready.push_back(std::move(key));
  }

  std::string Call(std::span<const std::string_view> args, int resp) override {
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
    // From its first write on, a script can no longer be killed.
    if (cmd->flags & kWrite) ctx_.shared.script_wrote.store(true, std::memory_order_relaxed);
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

  void Log(int level, std::string_view message) override {
    constexpr spdlog::level::level_enum kLevels[] = {spdlog::level::debug, spdlog::level::debug,
                                                     spdlog::level::info, spdlog::level::warn};
    spdlog::log(kLevels[level], "script: {}", message);
  }

 private:
  Context& ctx_;
  bool read_only_;
  Session session_;
};

scripting::LuaVm& Vm(Shared& shared) {
  if (shared.lua == nullptr) {
    shared.lua = std::make_unique<scripting::LuaVm>(
        scripting::LuaVm::Options{.redis_version = std::string(kRedisCompatVersion),
                                  .max_instructions = shared.script_instruction_limit,
                                  .kill = &shared.script_kill});
  }
  return *shared.lua;
}

// Marks a script running for SCRIPT KILL while it lives.
class Running {
 public:
  explicit Running(Shared& shared) : shared_(shared) {
    shared_.script_wrote.store(false, std::memory_order_relaxed);
    shared_.script_kill.store(false, std::memory_order_relaxed);
    shared_.script_running.store(true, std::memory_order_release);
  }
  ~Running() {
    shared_.script_running.store(false, std::memory_order_release);
    shared_.script_kill.store(false, std::memory_order_relaxed);
  }
  Running(const Running&) = delete;
  Running& operator=(const Running&) = delete;

 private:
  Shared& shared_;
};

// EVAL's and EVALSHA's numkeys, KEYS and ARGV (after args[1]).
struct ScriptArgs {
  Args keys, argv;
};
Result<ScriptArgs> ParseScriptArgs(Args args) {
  int64_t n = 0;
  if (!ParseInt64(args[2], &n)) return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
  if (n < 0) return Status::InvalidArgument("Number of keys can't be negative");
  if (n > static_cast<int64_t>(args.size() - 3)) {
    return Status::InvalidArgument("Number of keys can't be greater than number of args");
  }
  const auto keys = static_cast<size_t>(n);
  return ScriptArgs{args.subspan(3, keys), args.subspan(3 + keys)};
}

void Eval(Context& ctx, Args args, bool by_sha, bool read_only) {
  Result<ScriptArgs> a = ParseScriptArgs(args);
  if (!a.ok()) return ctx.Fail(a.status());
  std::string sha;
  if (by_sha) {
    sha = std::string(args[1]);
    for (char& c : sha)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else {
    sha = scripting::Sha1Hex(args[1]);
  }
  std::lock_guard lock(ctx.shared.lua_mu);
  scripting::LuaVm& vm = Vm(ctx.shared);
  if (!vm.Has(sha)) {
    if (by_sha) return ctx.out.Error("NOSCRIPT No matching script. Please use EVAL.");
    if (Status st = vm.Load(sha, args[1]); !st.ok()) return ctx.Fail(st);
  }
  Host host(ctx, read_only);
  Running running(ctx.shared);
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

// SCRIPT's subcommands and their arity (Redis's: -N at least N words).
struct Subcommand {
  std::string_view name;
  int arity;
};
constexpr Subcommand kSubcommands[] = {
    {"load", 3}, {"exists", -3}, {"flush", -2}, {"kill", 2}, {"help", 2}};

void ScriptLoad(Context& ctx, scripting::LuaVm& vm, std::string_view body) {
  const std::string sha = scripting::Sha1Hex(body);
  if (!vm.Has(sha)) {
    if (Status st = vm.Load(sha, body); !st.ok()) return ctx.Fail(st);
  }
  ctx.out.Bulk(sha);
}

void ScriptExists(Context& ctx, scripting::LuaVm& vm, Args shas) {
  ctx.out.Array(shas.size());
  for (std::string_view sha : shas) {
    std::string lower(sha);
    for (char& c : lower)
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    ctx.out.Integer(vm.Has(lower) ? 1 : 0);
  }
}

// Stops the running script at its next check, unless it has written.
void ScriptKill(Context& ctx) {
  Shared& s = ctx.shared;
  if (!s.script_running.load(std::memory_order_acquire)) {
    return ctx.out.Error("NOTBUSY No scripts in execution right now.");
  }
  if (s.script_wrote.load(std::memory_order_relaxed)) {
    return ctx.out.Error(
        "UNKILLABLE Sorry the script already executed write commands against the dataset. You "
        "can either wait the script termination or kill the server in a hard way using the "
        "SHUTDOWN NOSAVE command.");
  }
  s.script_kill.store(true, std::memory_order_relaxed);
  ctx.out.Ok();
}

void Script(Context& ctx, Args args) {
  const std::string_view sub = args[1];
  const Subcommand* known = nullptr;
  for (const Subcommand& s : kSubcommands) {
    if (EqualsNoCase(s.name, sub)) known = &s;
  }
  if (known == nullptr) return ReplyUnknownSubcommand(ctx, sub, "SCRIPT");
  const auto n = static_cast<int64_t>(args.size());
  const bool flush = known->name == "flush";
  if (!flush && (known->arity >= 0 ? n != known->arity : n < -known->arity)) {
    return ReplyWrongArity(ctx, "script|" + std::string(known->name));
  }
  if (known->name == "help") return ReplyHelp(ctx, kScriptHelp);
  if (known->name == "kill") return ScriptKill(ctx);
  std::lock_guard lock(ctx.shared.lua_mu);
  scripting::LuaVm& vm = Vm(ctx.shared);
  if (known->name == "load") return ScriptLoad(ctx, vm, args[2]);
  if (known->name == "exists") return ScriptExists(ctx, vm, args.subspan(2));
  if (n > 3 || (n == 3 && !EqualsNoCase(args[2], "sync") && !EqualsNoCase(args[2], "async"))) {
    return ctx.out.Error("ERR SCRIPT FLUSH only support SYNC|ASYNC option");
  }
  vm.Flush();
  ctx.out.Ok();
}

// A script's writes run under the exclusive gate (kExclusive) and gather
// in one batch for the log (kWrite); its keys follow its numkeys.
constexpr uint32_t kEval = kWrite | kExclusive | kNoScript | kMultiKey | kStale;
constexpr uint32_t kEvalRo = kReadOnly | kExclusive | kNoScript | kMultiKey | kStale;

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
