// FUNCTION (LOAD, DELETE, FLUSH, LIST, STATS, KILL, DUMP, RESTORE, HELP), FCALL and
// FCALL_RO, with Redis 7.0's replies and errors. Libraries live in the
// server's Lua VM (server/scripting/lua_vm.h); their code is kept in the
// data directory's "functions" column, so they survive restarts, as
// Redis keeps them with its data. FCALL runs as EVAL does: under the
// exclusive gate, its writes one atomic batch in the log.
#include <mutex>
#include <string>

#include <spdlog/spdlog.h>

#include "protocol/rdb/rdb.h"
#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/script_host.h"
#include "util/clock.h"

namespace quiver::resp {

namespace {

constexpr char kColumn[] = "functions";  // library name -> code

// Hands a library's code (or its removal: nullopt) to the log.
void LogLibrary(Context& ctx, std::string_view name, std::optional<std::string_view> code) {
  if (!ctx.shared.functions_column || ctx.ks.log() == nullptr) return;
  HistoryBatch batch;
  if (code) {
    batch.Put(*ctx.shared.functions_column, name, *code);
  } else {
    batch.Delete(*ctx.shared.functions_column, name);
  }
  ctx.Log(std::move(batch));
}

void FunctionLoad(Context& ctx, scripting::LuaVm& vm, Args args) {
  bool replace = false;
  size_t at = 2;
  for (; at + 1 < args.size(); ++at) {
    if (!EqualsNoCase(args[at], "replace")) {
      return ctx.out.Error("ERR Unknown option given: " + std::string(args[at]));
    }
    replace = true;
  }
  Result<std::string> name = vm.LoadLibrary(args[at], replace);
  if (!name.ok()) return ctx.Fail(name.status());
  LogLibrary(ctx, *name, args[at]);
  ctx.out.Bulk(*name);
}

void ReplyFunctions(Context& ctx, const scripting::LibraryInfo& lib) {
  ctx.out.Array(lib.functions.size());
  for (const scripting::FunctionInfo& f : lib.functions) {
    ctx.out.Map(3);
    ctx.out.Bulk("name");
    ctx.out.Bulk(f.name);
    ctx.out.Bulk("description");
    f.description.empty() ? ctx.out.Null() : ctx.out.Bulk(f.description);
    ctx.out.Bulk("flags");
    ctx.out.Set(f.flags.size());
    for (const std::string& flag : f.flags)
      ctx.out.Simple(flag);
  }
}

// FUNCTION LIST [LIBRARYNAME pattern] [WITHCODE]
void FunctionList(Context& ctx, scripting::LuaVm& vm, Args args) {
  std::optional<std::string_view> pattern;
  bool with_code = false;
  for (size_t i = 2; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "withcode") && !with_code) {
      with_code = true;
    } else if (EqualsNoCase(args[i], "libraryname") && !pattern) {
      if (++i == args.size()) return ctx.out.Error("ERR library name argument was not given");
      pattern = args[i];
    } else {
      return ctx.out.Error("ERR Unknown argument " + std::string(args[i]));
    }
  }
  std::vector<const scripting::LibraryInfo*> shown;
  for (const auto& [name, lib] : vm.libraries()) {
    if (!pattern || GlobMatch(*pattern, name)) shown.push_back(&lib);
  }
  ctx.out.Array(shown.size());
  for (const scripting::LibraryInfo* lib : shown) {
    ctx.out.Map(with_code ? 4 : 3);
    ctx.out.Bulk("library_name");
    ctx.out.Bulk(lib->name);
    ctx.out.Bulk("engine");
    ctx.out.Bulk("LUA");
    ctx.out.Bulk("functions");
    ReplyFunctions(ctx, *lib);
    if (!with_code) continue;
    ctx.out.Bulk("library_code");
    ctx.out.Bulk(lib->code);
  }
}

// The running function: its name, command and time so far; null if none.
void WriteRunningFunction(Context& ctx) {
  Shared& s = ctx.shared;
  std::lock_guard lock(s.running_mu);
  if (s.script_state.load() == Shared::kScriptIdle) return ctx.out.Null();
  ctx.out.Map(3);
  ctx.out.Bulk("name");
  ctx.out.Bulk(s.running_name);
  ctx.out.Bulk("command");
  ctx.out.Array(s.running_command.size());
  for (std::string_view word : s.running_command)
    ctx.out.Bulk(word);
  ctx.out.Bulk("duration_ms");
  ctx.out.Integer(MonotonicMs() - s.script_started_ms.load(std::memory_order_relaxed));
}

// FUNCTION STATS, without the VM (a running function holds it). While an
// EVAL's script runs: BUSY, as Redis answers.
void FunctionStats(Context& ctx) {
  Shared& s = ctx.shared;
  if (s.script_state.load() != Shared::kScriptIdle && !s.script_is_function.load()) {
    return ctx.out.Error(BusyReply(/*function=*/false));
  }
  ctx.out.Map(2);
  ctx.out.Bulk("running_script");
  WriteRunningFunction(ctx);
  ctx.out.Bulk("engines");
  ctx.out.Map(1);
  ctx.out.Bulk("LUA");
  ctx.out.Map(2);
  ctx.out.Bulk("libraries_count");
  ctx.out.Integer(s.library_count.load(std::memory_order_relaxed));
  ctx.out.Bulk("functions_count");
  ctx.out.Integer(s.function_count.load(std::memory_order_relaxed));
}

// Keeps FUNCTION STATS's counts. REQUIRES: lua_mu held.
void CountLibraries(Shared& shared, const scripting::LuaVm& vm) {
  shared.library_count.store(static_cast<int64_t>(vm.libraries().size()));
  shared.function_count.store(static_cast<int64_t>(vm.function_count()));
}

// FUNCTION DUMP: every library's code in Redis's payload format.
void FunctionDump(Context& ctx, scripting::LuaVm& vm) {
  std::vector<std::string_view> codes;
  for (const auto& [name, lib] : vm.libraries())
    codes.push_back(lib.code);
  ctx.out.Bulk(rdb::DumpFunctions(codes));
}

// Makes the VM hold exactly these libraries again (a failed RESTORE's undo).
void LoadAgain(scripting::LuaVm& vm, const std::map<std::string, std::string>& libraries) {
  vm.FlushLibraries();
  for (const auto& [name, code] : libraries)
    (void)vm.LoadLibrary(code, false);
}

// FUNCTION RESTORE payload [FLUSH|APPEND|REPLACE]: all of the payload's
// libraries or none (a failure puts the libraries back as they were).
void FunctionRestore(Context& ctx, scripting::LuaVm& vm, Args args) {
  if (args.size() > 4) {
    return ctx.out.Error("ERR unknown subcommand or wrong number of arguments for '" +
                         std::string(args[1]) + "'. Try FUNCTION HELP.");
  }
  const std::string_view policy = args.size() == 4 ? args[3] : "append";
  const bool flush = EqualsNoCase(policy, "flush"), replace = EqualsNoCase(policy, "replace");
  if (!flush && !replace && !EqualsNoCase(policy, "append")) {
    return ctx.out.Error(
        "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE.");
  }
  Result<std::vector<std::string>> codes = rdb::ReadFunctions(args[2]);
  if (!codes.ok()) return ctx.Fail(codes.status());
  std::map<std::string, std::string> before;
  for (const auto& [name, lib] : vm.libraries())
    before.emplace(name, lib.code);
  if (flush) vm.FlushLibraries();
  for (const std::string& code : *codes) {
    if (Result<std::string> name = vm.LoadLibrary(code, replace); !name.ok()) {
      LoadAgain(vm, before);
      return ctx.Fail(name.status());
    }
  }
  for (const auto& [name, code] : before) {  // what the log must forget
    if (vm.libraries().count(name) == 0) LogLibrary(ctx, name, std::nullopt);
  }
  for (const auto& [name, lib] : vm.libraries())
    LogLibrary(ctx, name, lib.code);
  ctx.out.Ok();
}

constexpr const char* kHelp[] = {
    "FUNCTION <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using "
    "FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore "
    "policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, "
    "replace "
    "the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of "
    "failure",
    "      in case of functions name collision with another library).",
    "HELP",
    "    Prints this help.",
};

constexpr Subcommand kSubcommands[] = {{"load", -3}, {"delete", 3}, {"flush", -2},
                                       {"list", -2}, {"stats", 2},  {"kill", 2},
                                       {"help", 2},  {"dump", 2},   {"restore", -3}};

void FunctionFlush(Context& ctx, scripting::LuaVm& vm, Args args) {
  const size_t n = args.size();
  if (n > 3 || (n == 3 && !EqualsNoCase(args[2], "sync") && !EqualsNoCase(args[2], "async"))) {
    return ctx.out.Error("ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
  }
  for (const auto& [name, lib] : vm.libraries())
    LogLibrary(ctx, name, std::nullopt);
  vm.FlushLibraries();
  ctx.out.Ok();
}

// The FUNCTION subcommands that need the VM; name: the subcommand's.
void FunctionCommand(Context& ctx, scripting::LuaVm& vm, std::string_view name, Args args) {
  if (name == "dump") return FunctionDump(ctx, vm);
  if (name == "restore") return FunctionRestore(ctx, vm, args);
  if (name == "load") return FunctionLoad(ctx, vm, args);
  if (name == "list") return FunctionList(ctx, vm, args);
  if (name == "flush") return FunctionFlush(ctx, vm, args);
  if (!vm.DeleteLibrary(args[2])) return ctx.out.Error("ERR Library not found");
  LogLibrary(ctx, args[2], std::nullopt);
  ctx.out.Ok();
}

void Function(Context& ctx, Args args) {
  const Subcommand* sub = FindSubcommand(ctx, args, kSubcommands, "FUNCTION");
  if (sub == nullptr) return;
  const std::string_view name = sub->name;
  if (name == "help") return ReplyHelp(ctx, kHelp);
  if (name == "kill") return KillScript(ctx, /*function=*/true);
  if (name == "stats") return FunctionStats(ctx);
  std::unique_lock lock = LockVm(ctx);
  if (!lock.owns_lock()) return;
  scripting::LuaVm& vm = LuaVmOf(ctx.shared);
  FunctionCommand(ctx, vm, name, args);
  CountLibraries(ctx.shared, vm);
}

void FCall(Context& ctx, Args args, bool read_only) {
  std::lock_guard lock(ctx.shared.lua_mu);
  scripting::LuaVm& vm = LuaVmOf(ctx.shared);
  const scripting::FunctionInfo* f = vm.FindFunction(args[1]);
  if (f == nullptr) return ctx.out.Error("ERR Function not found");
  if (read_only && !f->no_writes) {
    return ctx.out.Error("ERR Can not execute a script with write flag using *_ro command.");
  }
  Result<ScriptArgs> a = ParseScriptArgs(args, "Bad number of keys provided");
  if (!a.ok()) return ctx.Fail(a.status());
  ScriptCalls host(ctx, read_only || f->no_writes);
  RunningScript running(ctx, f->name, args);
  vm.CallFunction(f->name, a->keys, a->argv, host, ctx.out);
}

void FCallCommand(Context& ctx, Args args) {
  FCall(ctx, args, false);
}
void FCallRo(Context& ctx, Args args) {
  FCall(ctx, args, true);
}

// As EVAL's (server/resp/scripting.cc).
constexpr uint32_t kCall = kWrite | kExclusive | kNoScript | kMultiKey | kStale | kRunsScript;
constexpr uint32_t kCallRo = kReadOnly | kExclusive | kNoScript | kMultiKey | kStale | kRunsScript;

const Command kCommands[] = {
    {"fcall", -3, kCall, 0, 0, 0, "scripting", "Runs a function.", FCallCommand, 2},
    {"fcall_ro", -3, kCallRo, 0, 0, 0, "scripting", "Runs a read-only function.", FCallRo, 2},
    // No gate: FUNCTION KILL must get through while a function holds it.
    {"function", -2, kNoScript | kStale, 0, 0, 0, "scripting", "Manages the function libraries.",
     Function},
};

}  // namespace

Status RecoverFunctions(Shared& shared, HistoryStore& store) {
  QUIVER_ASSIGN_OR_RETURN(ColumnFamily column, store.OpenColumn(kColumn));
  shared.functions_column = column;
  std::lock_guard lock(shared.lua_mu);
  // The VM is made only if there are libraries: most servers start without.
  Status scanned = store.Scan(column, "", [&](std::string_view name, std::string_view code) {
    Result<std::string> loaded = LuaVmOf(shared).LoadLibrary(code, /*replace=*/true);
    if (!loaded.ok()) {
      spdlog::warn("function library {} not loaded: {}", name, loaded.status().message());
    }
    return Status::Ok();
  });
  if (shared.lua != nullptr) CountLibraries(shared, *shared.lua);
  return scanned;
}

std::span<const Command> FunctionCommands() {
  return kCommands;
}

}  // namespace quiver::resp
