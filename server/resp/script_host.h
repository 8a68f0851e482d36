// What EVAL and FCALL share (server/resp/scripting.cc,
// server/resp/functions.cc): the host scripts call back into, the VM, the
// running script's marks for SCRIPT KILL and FUNCTION KILL, and the
// parsing of numkeys.
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "server/resp/command.h"
#include "server/scripting/lua_vm.h"

namespace quiver::resp {

// What a script's redis.call runs: each command as a client of the
// script's own would (its SELECT stays in the script), replying in the
// protocol redis.setresp chose. Commands scripts may not run, and writes
// of a read-only script, are refused with Redis's errors.
class ScriptCalls final : public scripting::ScriptHost {
 public:
  ScriptCalls(Context& ctx, bool read_only);
  // Hands what the script's commands left to do (log waits, keys clients
  // wait on, hits and misses) to the caller's session.
  ~ScriptCalls() override;
  ScriptCalls(const ScriptCalls&) = delete;
  ScriptCalls& operator=(const ScriptCalls&) = delete;

  std::string Call(std::span<const std::string_view> args, int resp) override;
  void Log(int level, std::string_view message) override;

 private:
  Context& ctx_;
  bool read_only_;
  Session session_;
};

// Marks a script running (for SCRIPT KILL and FUNCTION KILL) while it
// lives. If the server began to stop meanwhile (StopScripts), it ends by
// replacing the script's reply with an error, dropping every write the
// script made and closing the connection: a stop never keeps half a
// script, and its client is never told otherwise.
class RunningScript {
 public:
  // An EVAL's script; or, with a name, the function FCALL runs (command:
  // FCALL's words), which FUNCTION STATS shows while it runs.
  explicit RunningScript(Context& ctx, std::string_view function = {}, Args command = {});
  ~RunningScript();
  RunningScript(const RunningScript&) = delete;
  RunningScript& operator=(const RunningScript&) = delete;

 private:
  Context& ctx_;
  size_t reply_at_;  // where the script's reply starts in ctx_.out
};

// Redis's BUSY error for the running script: what a client gets instead
// of waiting for it once it has run past busy-reply-threshold.
std::string_view BusyReply(bool function);
// BusyReply, if a script is running and has run past the threshold.
std::optional<std::string_view> BusyError(const Shared& shared);

// A gate's give_up (GiveUp, util/timed_lock.h) for a command that waits for a
// running script only until busy-reply-threshold: then reply() is BUSY.
class GiveUpWhenBusy {
 public:
  explicit GiveUpWhenBusy(const Shared& shared) : shared_(shared) {}
  bool operator()() {
    busy_ = BusyError(shared_);
    return busy_.has_value();
  }
  std::string_view reply() const { return busy_.value_or(""); }

 private:
  const Shared& shared_;
  std::optional<std::string_view> busy_;
};

// The server's Lua VM, made at first use. REQUIRES: shared.lua_mu held.
scripting::LuaVm& LuaVmOf(Shared& shared);
// Takes lua_mu, for a command that does not run a script (SCRIPT LOAD,
// FUNCTION LIST, ...): it waits for a running script, up to
// busy-reply-threshold; past it, the lock is not taken and BUSY is the
// reply.
std::unique_lock<std::timed_mutex> LockVm(Context& ctx);

// Stops the running script at its next check unless it has written:
// SCRIPT KILL an EVAL's (function false), FUNCTION KILL a function's.
void KillScript(Context& ctx, bool function);

// A subcommand (SCRIPT's, FUNCTION's) and its arity, Redis's way (-N: at
// least N words, the command's included).
struct Subcommand {
  std::string_view name;
  int arity;
};
// The subcommand args[1] names, or nullptr after replying Redis's error
// (unknown subcommand, wrong number of arguments).
const Subcommand* FindSubcommand(Context& ctx, Args args, std::span<const Subcommand> known,
                                 std::string_view command);

// numkeys (args[2]), then the keys and the other arguments.
struct ScriptArgs {
  Args keys, argv;
};
// not_integer: the error when numkeys is not an integer (EVAL's and
// FCALL's differ).
Result<ScriptArgs> ParseScriptArgs(Args args, std::string_view not_integer);

}  // namespace quiver::resp
