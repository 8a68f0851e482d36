// LuaVm: Redis's scripting environment on Lua 5.1. Scripts are compiled
// once (by their SHA-1) and run with KEYS and ARGV; redis.call and
// redis.pcall run commands through a ScriptHost; what a script returns,
// or the error it raises, becomes its reply as Redis 7.0 writes it
// (lua_convert.h). The sandbox: the base, table, string and math
// libraries with cjson and bit, no os, io, package, loadfile, dofile or
// print; globals and the libraries' tables cannot be changed. One LuaVm
// runs one script at a time: its owner serializes Run, Load and Flush.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp.h"
#include "quiver/status.h"

struct lua_State;
struct lua_Debug;

namespace quiver::scripting {

// A function a library registered (FUNCTION LOAD, FCALL).
struct FunctionInfo {
  std::string name;
  std::string description;         // empty: none
  std::vector<std::string> flags;  // as given: no-writes, allow-oom, ...
  bool no_writes = false;
};
struct LibraryInfo {
  std::string name;
  std::string code;
  std::vector<FunctionInfo> functions;
};

// What scripts call back into: the server's side.
class ScriptHost {
 public:
  virtual ~ScriptHost() = default;
  // Runs a command for redis.call or redis.pcall (args[0] its name) and
  // returns its reply, RESP in protocol `resp` (2 or 3); a command scripts
  // may not run gets an error reply.
  virtual std::string Call(std::span<const std::string_view> args, int resp) = 0;
  // redis.log at level 0 (debug) to 3 (warning).
  virtual void Log(int level, std::string_view message) = 0;
};

class LuaVm {
 public:
  struct Options {
    std::string redis_version;  // what redis.REDIS_VERSION says ("7.0.15")
    // The most memory the Lua state may take: past it, an allocation fails
    // and the script with it ("not enough memory").
    size_t max_memory = size_t{1} << 30;
    // Scripts stop with an error past this many Lua instructions (0: no
    // limit; a fuzzer's bound).
    int64_t max_instructions = 0;
    // Set by SCRIPT KILL from another thread: the running script stops at
    // its next check (every 10,000 instructions).
    const std::atomic<bool>* kill = nullptr;
  };
  explicit LuaVm(Options options);
  ~LuaVm();
  LuaVm(const LuaVm&) = delete;
  LuaVm& operator=(const LuaVm&) = delete;

  // Compiles a script under its name (its SHA-1, lower case); the error
  // is Redis's ("Error compiling script (new function): user_script:1: …").
  // A script loaded by SCRIPT LOAD (pinned) stays until SCRIPT FLUSH; of
  // those EVAL loaded, only the last kMaxEvalScripts stay, as Redis 7.4
  // bounds them: a client sending a new script body each time (values
  // written into the script) cannot fill the memory.
  Status Load(const std::string& sha, std::string_view body, bool pinned);
  static constexpr size_t kMaxEvalScripts = 500;
  bool Has(std::string_view sha) const { return names_.count(sha) != 0; }
  size_t scripts() const { return names_.size(); }
  // Bytes the Lua state uses.
  int64_t memory() const;
  // Forgets every script (a fresh state, as SCRIPT FLUSH).
  void Flush();

  // Runs a loaded script; writes its reply, or its error, to out.
  void Run(const std::string& sha, std::span<const std::string_view> keys,
           std::span<const std::string_view> argv, ScriptHost& host, protocol::RespWriter& out);

  // Functions (server/scripting/functions.cc). Loads a library ("#!lua
  // name=<name>" then code registering functions with
  // redis.register_function), replacing one of the same name if replace;
  // its name, or Redis's error.
  Result<std::string> LoadLibrary(std::string_view code, bool replace);
  // Removes a library and its functions; false if there is none.
  bool DeleteLibrary(std::string_view name);
  // Removes every library.
  void FlushLibraries();
  const FunctionInfo* FindFunction(std::string_view name) const;
  const std::map<std::string, LibraryInfo, std::less<>>& libraries() const { return libraries_; }
  size_t function_count() const { return functions_.size(); }
  // Runs a function with its keys and arguments (the callback's two
  // tables); writes its reply, or its error, to out.
  void CallFunction(std::string_view name, std::span<const std::string_view> keys,
                    std::span<const std::string_view> argv, ScriptHost& host,
                    protocol::RespWriter& out);

 private:
  void Open();
  void Close();
  // The C functions of the `redis` table (their first upvalue is the VM).
  static int Call(lua_State* lua);
  static int PCall(lua_State* lua);
  static int GenericCall(lua_State* lua, bool raise);
  static int SetResp(lua_State* lua);
  static int Log(lua_State* lua);
  static int Sha1Hex(lua_State* lua);
  static void* Allocate(void* self, void* p, size_t old_size, size_t new_size);
  static void Hook(lua_State* lua, ::lua_Debug* ar);
  // Gathers redis.call's arguments into call_args_; the problem, if any.
  const char* CollectArgs(lua_State* lua);
  void WriteError(std::string_view name, protocol::RespWriter& out);
  // Sets LOG_*, REDIS_VERSION and REDIS_VERSION_NUM on the table at the top.
  void SetConstants(lua_State* lua) const;
  // Calls the function at the top of the stack (with nargs arguments above
  // it) under the error handler; writes its reply or error (named name).
  void Invoke(int nargs, std::string_view name, ScriptHost& host, protocol::RespWriter& out);
  // Functions: the environment a library's code runs in, and its loading.
  void OpenFunctions();
  static int RegisterFunction(lua_State* lua);
  Status RunLibrary(std::string_view body, LibraryInfo* info);
  // Registers a function for the loading library; the problem, if any.
  const char* Register(lua_State* lua);
  std::map<std::string, LibraryInfo, std::less<>> libraries_;
  std::map<std::string, std::pair<std::string, size_t>, std::less<>>
      functions_;                   // -> library, index
  LibraryInfo* loading_ = nullptr;  // the library whose code runs, while it does
  std::chrono::steady_clock::time_point load_deadline_;  // its code's time is bounded

  Options options_;
  lua_State* lua_ = nullptr;
  size_t memory_ = 0;         // bytes the state holds
  int calls_since_gc_ = 0;    // scripts run since the last GC step
  int64_t instructions_ = 0;  // of the running script, in hook periods
  // Why the running code was stopped (killed, out of instructions, out of
  // load time), once it was: from then on the hook raises that error at
  // every instruction outside the error handler, so that a script's pcall
  // (or coroutine) that catches it gets no further.
  const char* stopped_ = nullptr;
  // Starts the count of instructions and the stop over, for code about to
  // run.
  void StartClock();
  // Why the running code must stop now, if it must.
  const char* StopReason();
  std::map<std::string, bool, std::less<>> names_;  // sha -> pinned
  std::deque<std::string> evictable_;               // EVAL's, oldest first
  // Drops the oldest scripts EVAL loaded past kMaxEvalScripts.
  void Evict();
  // While a script runs: its host, the protocol its calls reply in, and
  // scratch space for calls (members, so that a Lua error unwinding past a
  // call leaves nothing to destroy).
  ScriptHost* host_ = nullptr;
  int resp_ = 2;
  std::vector<std::string_view> call_args_;
  std::string scratch_;
};

}  // namespace quiver::scripting
