#include "server/scripting/lua_vm.h"

#include <lua.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

extern "C" {
#include <lua-bitop.h>
#include <lua-cjson.h>
}

#include "server/scripting/lua_convert.h"
#include "server/scripting/lua_sandbox.h"
#include "server/scripting/sha1.h"

namespace quiver::scripting {

namespace {

void OpenLibrary(lua_State* lua, lua_CFunction open, const char* name) {
  lua_pushcfunction(lua, open);
  lua_pushstring(lua, name);
  lua_call(lua, 1, 1);
  if (lua_istable(lua, -1) && name[0] != '\0') lua_setglobal(lua, name);
  lua_settop(lua, 0);
}

}  // namespace

LuaVm::LuaVm(Options options) : options_(std::move(options)) {
  Open();
}

void* LuaVm::Allocate(void* self, void* p, size_t old_size, size_t new_size) {
  auto* vm = static_cast<LuaVm*>(self);
  if (new_size == 0) {
    std::free(p);
    vm->memory_ -= old_size;
    return nullptr;
  }
  if (new_size > old_size && vm->memory_ + (new_size - old_size) > vm->options_.max_memory) {
    return nullptr;  // Lua raises "not enough memory"
  }
  void* fresh = std::realloc(p, new_size);
  if (fresh != nullptr) vm->memory_ = vm->memory_ - old_size + new_size;
  return fresh;
}

constexpr int kHookPeriod = 10'000;  // instructions between checks
// The garbage collector takes kGcPeriod steps every kGcPeriod scripts, as
// Redis does: a step after each script cost more CPU than most scripts.
constexpr int kGcPeriod = 50;

namespace {

// The running Lua function is the error handler (kHandler).
bool InErrorHandler(lua_State* lua) {
  lua_Debug ar;
  if (lua_getstack(lua, 0, &ar) == 0) return false;
  lua_getinfo(lua, "f", &ar);
  lua_getfield(lua, LUA_REGISTRYINDEX, kHandler);
  const bool same = lua_rawequal(lua, -1, -2) != 0;
  lua_pop(lua, 2);
  return same;
}

}  // namespace

const char* LuaVm::StopReason() {
  if (options_.kill != nullptr && options_.kill->load(std::memory_order_relaxed)) {
    return "Script killed by user with SCRIPT KILL...";
  }
  const int64_t limit = options_.max_instructions;
  if (limit > 0 && ++instructions_ * kHookPeriod > limit) {
    return "Script exceeded its instruction limit";
  }
  if (loading_ != nullptr && std::chrono::steady_clock::now() > load_deadline_) {
    return "FUNCTION LOAD timeout";
  }
  return nullptr;
}

void LuaVm::StartClock() {
  instructions_ = 0;
  if (stopped_ != nullptr) lua_sethook(lua_, Hook, LUA_MASKCOUNT, kHookPeriod);
  stopped_ = nullptr;
}

void LuaVm::Hook(lua_State* lua, lua_Debug*) {
  lua_getfield(lua, LUA_REGISTRYINDEX, "quiver.vm");
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  if (vm->stopped_ == nullptr) {
    vm->stopped_ = vm->StopReason();
    if (vm->stopped_ == nullptr) return;
    lua_sethook(lua, Hook, LUA_MASKCOUNT, 1);       // this coroutine,
    lua_sethook(vm->lua_, Hook, LUA_MASKCOUNT, 1);  // and the script's main one
  }
  if (!InErrorHandler(lua)) RaiseApiError(lua, vm->stopped_);
}

LuaVm::~LuaVm() {
  Close();
}

void LuaVm::Close() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_ = nullptr;
}

void LuaVm::Flush() {
  lua_newtable(lua_);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kScripts);
  names_.clear();
  evictable_.clear();
  lua_gc(lua_, LUA_GCCOLLECT, 0);
}

int64_t LuaVm::memory() const {
  return static_cast<int64_t>(memory_);
}

void LuaVm::SetConstants(lua_State* lua) const {
  const std::pair<const char*, int> levels[] = {
      {"LOG_DEBUG", 0}, {"LOG_VERBOSE", 1}, {"LOG_NOTICE", 2}, {"LOG_WARNING", 3}};
  for (const auto& [name, level] : levels) {
    lua_pushinteger(lua, level);
    lua_setfield(lua, -2, name);
  }
  lua_pushstring(lua, options_.redis_version.c_str());
  lua_setfield(lua, -2, "REDIS_VERSION");
  int major = 0, minor = 0, patch = 0;
  std::sscanf(options_.redis_version.c_str(), "%d.%d.%d", &major, &minor, &patch);
  lua_pushinteger(lua, (major << 16) | (minor << 8) | patch);
  lua_setfield(lua, -2, "REDIS_VERSION_NUM");
}

void LuaVm::Open() {
  lua_State* lua = lua_ = lua_newstate(Allocate, this);
  lua_pushlightuserdata(lua, this);
  lua_setfield(lua, LUA_REGISTRYINDEX, "quiver.vm");
  lua_sethook(lua, Hook, LUA_MASKCOUNT, kHookPeriod);
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kScripts);
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kProtected);
  OpenLibrary(lua, luaopen_base, "");
  OpenLibrary(lua, luaopen_table, LUA_TABLIBNAME);
  OpenLibrary(lua, luaopen_string, LUA_STRLIBNAME);
  OpenLibrary(lua, luaopen_math, LUA_MATHLIBNAME);
  OpenLibrary(lua, luaopen_debug, LUA_DBLIBNAME);
  OpenLibrary(lua, luaopen_cjson, "cjson");
  OpenLibrary(lua, luaopen_bit, "bit");
  // The error handler keeps the debug library; scripts do not get it.
  luaL_loadstring(lua, kErrorHandler);
  lua_call(lua, 0, 1);
  lua_setfield(lua, LUA_REGISTRYINDEX, kHandler);
  for (const char* name : {"debug", "dofile", "loadfile", "print"}) {
    lua_pushnil(lua);
    lua_setglobal(lua, name);
  }
  lua_pushcfunction(lua, SafeRawSet);
  lua_setglobal(lua, "rawset");

  lua_newtable(lua);  // redis
  const std::pair<const char*, lua_CFunction> functions[] = {
      {"call", Call}, {"pcall", PCall}, {"setresp", SetResp}, {"log", Log}, {"sha1hex", Sha1Hex}};
  for (const auto& [name, fn] : functions) {
    lua_pushlightuserdata(lua, this);
    lua_pushcclosure(lua, fn, 1);
    lua_setfield(lua, -2, name);
  }
  SetConstants(lua);
  lua_setglobal(lua, "redis");
  // error_reply and status_reply, as Redis defines them.
  luaL_dostring(lua, R"(
    local redis = redis
    redis.status_reply = function(s)
      if type(s) ~= 'string' then return {err = 'ERR wrong number or type of arguments'} end
      return {ok = s}
    end
  )");
  lua_settop(lua, 0);
  lua_getglobal(lua, "redis");
  lua_pushcfunction(lua, [](lua_State* l) -> int {
    if (lua_gettop(l) != 1 || lua_type(l, 1) != LUA_TSTRING) {
      PushErrorTable(l, "wrong number or type of arguments");
      return 1;
    }
    size_t n = 0;
    const char* s = lua_tolstring(l, 1, &n);
    if (n > 0 && s[0] == '-') {
      PushErrorTable(l, std::string_view(s, n));
    } else {
      lua_pushfstring(l, "-%s", s);
      PushErrorTable(l, lua_tostring(l, -1));
    }
    return 1;
  });
  lua_setfield(lua, -2, "error_reply");
  lua_pushcfunction(lua, [](lua_State* l) -> int {
    lua_pushboolean(l, 1);
    return 1;
  });
  lua_setfield(lua, -2, "replicate_commands");
  lua_settop(lua, 0);

  for (const char* name : {"redis", "cjson", "bit", "string", "table", "math"})
    ProxyGlobal(lua, name);
  lua_pushvalue(lua, LUA_GLOBALSINDEX);
  Protect(lua, /*missing_global=*/true);
  lua_settop(lua, 0);
  OpenFunctions();
}

Status LuaVm::Load(const std::string& sha, std::string_view body, bool pinned) {
  if (auto it = names_.find(sha); it != names_.end()) {
    it->second = it->second || pinned;
    return Status::Ok();
  }
  lua_State* lua = lua_;
  if (luaL_loadbuffer(lua, body.data(), body.size(), "@user_script") != 0) {
    std::string error = "Error compiling script (new function): ";
    error += lua_tostring(lua, -1);
    lua_settop(lua, 0);
    return Status::InvalidArgument(error);
  }
  lua_getfield(lua, LUA_REGISTRYINDEX, kScripts);
  lua_pushlstring(lua, sha.data(), sha.size());
  lua_pushvalue(lua, -3);
  lua_rawset(lua, -3);
  lua_settop(lua, 0);
  names_.emplace(sha, pinned);
  if (!pinned) {
    evictable_.push_back(sha);
    Evict();
  }
  return Status::Ok();
}

void LuaVm::Evict() {
  while (evictable_.size() > kMaxEvalScripts) {
    const std::string sha = std::move(evictable_.front());
    evictable_.pop_front();
    auto it = names_.find(sha);
    if (it == names_.end() || it->second) continue;  // flushed, or pinned since
    names_.erase(it);
    lua_getfield(lua_, LUA_REGISTRYINDEX, kScripts);
    lua_pushlstring(lua_, sha.data(), sha.size());
    lua_pushnil(lua_);
    lua_rawset(lua_, -3);
    lua_pop(lua_, 1);
  }
}

namespace {

// Sets global `name` (bypassing the protection) to a table of the words.
void SetWords(lua_State* lua, const char* name, std::span<const std::string_view> words) {
  lua_pushstring(lua, name);
  PushWords(lua, words);
  lua_rawset(lua, LUA_GLOBALSINDEX);
}

}  // namespace

void LuaVm::Run(const std::string& sha, std::span<const std::string_view> keys,
                std::span<const std::string_view> argv, ScriptHost& host,
                protocol::RespWriter& out) {
  lua_State* lua = lua_;
  lua_settop(lua, 0);
  PushEntry(lua, kScripts, sha);
  SetWords(lua, "KEYS", keys);
  SetWords(lua, "ARGV", argv);
  Invoke(0, sha, host, out);
}

void LuaVm::Invoke(int nargs, std::string_view name, ScriptHost& host, protocol::RespWriter& out) {
  lua_State* lua = lua_;
  host_ = &host;
  resp_ = 2;
  StartClock();
  const int base = lua_gettop(lua) - nargs;  // the function
  lua_getfield(lua, LUA_REGISTRYINDEX, kHandler);
  lua_insert(lua, base);
  if (lua_pcall(lua, nargs, 1, base) != 0) {
    WriteError(name, out);
  } else {
    WriteReply(lua, out, resp_);
  }
  lua_settop(lua, 0);
  host_ = nullptr;
  if (++calls_since_gc_ == kGcPeriod) {
    lua_gc(lua, LUA_GCSTEP, kGcPeriod);
    calls_since_gc_ = 0;
  }
}

void LuaVm::WriteError(std::string_view name, protocol::RespWriter& out) {
  lua_State* lua = lua_;
  std::string text;
  if (!lua_istable(lua, -1)) {
    const char* message = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "execution failure";
    text = "ERR Error running script " + std::string(name) + ", " +
           std::string(message).substr(0, 100);
  } else {
    for (const char* field : {"err", "source", "line"}) {  // raw: no metamethod may run here
      lua_pushstring(lua, field);
      lua_rawget(lua, field[0] == 'e' ? -2 : field[0] == 's' ? -3 : -4);
    }
    text = lua_isstring(lua, -3) ? lua_tostring(lua, -3) : "ERR unknown error";
    if (lua_isstring(lua, -2) && lua_isnumber(lua, -1)) {
      text += " script: " + std::string(name) + ", on " + lua_tostring(lua, -2) + ":" +
              std::to_string(lua_tointeger(lua, -1)) + ".";
    }
  }
  for (char& c : text) {
    if (c == '\r' || c == '\n') c = ' ';
  }
  out.Error(text);
}

const char* LuaVm::CollectArgs(lua_State* lua) {
  const int argc = lua_gettop(lua);
  if (argc == 0) return "Please specify at least one argument for this redis lib call";
  call_args_.clear();
  for (int i = 1; i <= argc; ++i) {
    const int type = lua_type(lua, i);
    if (type != LUA_TSTRING && type != LUA_TNUMBER) {
      return "Lua redis lib command arguments must be strings or integers";
    }
    size_t n = 0;
    const char* s = lua_tolstring(lua, i, &n);  // a number becomes its text, in place
    call_args_.emplace_back(s, n);
  }
  return nullptr;
}

int LuaVm::GenericCall(lua_State* lua, bool raise) {
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, lua_upvalueindex(1)));
  if (const char* problem = vm->CollectArgs(lua); problem != nullptr) {
    PushErrorTable(lua, problem);
    return raise ? lua_error(lua) : 1;
  }
  if (vm->host_ == nullptr) return RaiseApiError(lua, "redis.call is only for running scripts");
  vm->scratch_ = vm->host_->Call(vm->call_args_, vm->resp_);
  const bool error = PushReply(lua, vm->scratch_);
  return error && raise ? lua_error(lua) : 1;
}

int LuaVm::Call(lua_State* lua) {
  return GenericCall(lua, true);
}

int LuaVm::PCall(lua_State* lua) {
  return GenericCall(lua, false);
}

int LuaVm::SetResp(lua_State* lua) {
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, lua_upvalueindex(1)));
  if (lua_gettop(lua) != 1) return RaiseApiError(lua, "redis.setresp() requires one argument.");
  const lua_Integer resp = lua_tointeger(lua, 1);
  if (resp != 2 && resp != 3) return RaiseApiError(lua, "RESP version must be 2 or 3.");
  vm->resp_ = static_cast<int>(resp);
  return 0;
}

int LuaVm::Log(lua_State* lua) {
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, lua_upvalueindex(1)));
  const int argc = lua_gettop(lua);
  if (argc < 2) return RaiseApiError(lua, "redis.log() requires two arguments or more.");
  if (!lua_isnumber(lua, 1)) {
    return RaiseApiError(lua, "First argument must be a number (log level).");
  }
  const lua_Integer level = lua_tointeger(lua, 1);
  if (level < 0 || level > 3) return RaiseApiError(lua, "Invalid debug level.");
  for (int i = 2; i <= argc; ++i) {  // the words, joined by spaces
    if (i > 2) lua_pushliteral(lua, " ");
    lua_pushvalue(lua, i);
    if (lua_tostring(lua, -1) == nullptr) {
      lua_pop(lua, 1);
      lua_pushliteral(lua, "");
    }
  }
  lua_concat(lua, 2 * (argc - 1) - 1);
  size_t n = 0;
  const char* message = lua_tolstring(lua, -1, &n);
  if (vm->host_ != nullptr) vm->host_->Log(static_cast<int>(level), std::string_view(message, n));
  return 0;
}

int LuaVm::Sha1Hex(lua_State* lua) {
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, lua_upvalueindex(1)));
  if (lua_gettop(lua) != 1) return RaiseApiError(lua, "wrong number of arguments");
  size_t n = 0;
  const char* s = lua_tolstring(lua, 1, &n);
  vm->scratch_ = scripting::Sha1Hex(std::string_view(s != nullptr ? s : "", s != nullptr ? n : 0));
  lua_pushlstring(lua, vm->scratch_.data(), vm->scratch_.size());
  return 1;
}

}  // namespace quiver::scripting
