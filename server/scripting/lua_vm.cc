#include "server/scripting/lua_vm.h"

#include <lua.hpp>

#include <cstdio>
#include <cstdlib>

extern "C" {
#include <lua-bitop.h>
#include <lua-cjson.h>
}

#include "server/scripting/lua_convert.h"
#include "server/scripting/sha1.h"

namespace quiver::scripting {

namespace {

// Registry keys.
constexpr char kScripts[] = "quiver.scripts";      // sha -> compiled function
constexpr char kProtected[] = "quiver.protected";  // tables scripts cannot change
constexpr char kHandler[] = "quiver.err_handler";

// Turns any error into Redis's error table {err=…, source=…, line=…}: a
// string gets ERR; the place is the script's line that raised it (past
// the C function, such as error or redis.call, that did).
constexpr char kErrorHandler[] = R"(
local dbg = debug
return function(err)
  local i = dbg.getinfo(2, 'nSl')
  if i and i.what == 'C' then i = dbg.getinfo(3, 'nSl') end
  if type(err) ~= 'table' then err = {err = 'ERR ' .. tostring(err)} end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
)";

int Protected(lua_State* lua, int index) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtected);
  lua_pushvalue(lua, index);
  lua_rawget(lua, -2);
  const int is = lua_toboolean(lua, -1);
  lua_pop(lua, 2);
  return is;
}

int ReadOnlyError(lua_State* lua) {
  return luaL_error(lua, "Attempt to modify a readonly table");
}

int MissingGlobal(lua_State* lua) {
  return luaL_error(lua, "Script attempted to access nonexistent global variable '%s'",
                    lua_tostring(lua, 2));
}

// rawset, refusing the protected tables.
int SafeRawSet(lua_State* lua) {
  luaL_checktype(lua, 1, LUA_TTABLE);
  if (Protected(lua, 1)) return ReadOnlyError(lua);
  lua_settop(lua, 3);
  lua_rawset(lua, 1);
  return 1;
}

// Raises {err = "ERR message"} (no place: an error of the redis API).
int RaiseApiError(lua_State* lua, const char* message) {
  PushErrorTable(lua, message);
  return lua_error(lua);
}

// Marks the table at the top protected: changes and metatable swaps fail;
// with missing_global, reading an absent key fails too (_G).
void Protect(lua_State* lua, bool missing_global) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_newtable(lua);
  lua_pushcfunction(lua, ReadOnlyError);
  lua_setfield(lua, -2, "__newindex");
  if (missing_global) {
    lua_pushcfunction(lua, MissingGlobal);
    lua_setfield(lua, -2, "__index");
  }
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable");
  lua_setmetatable(lua, -2);
}

// Replaces global `name` (a library table) by an empty protected proxy
// reading through to it.
void ProxyGlobal(lua_State* lua, const char* name) {
  lua_newtable(lua);  // the proxy
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
  lua_newtable(lua);  // its metatable
  lua_getglobal(lua, name);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadOnlyError);
  lua_setfield(lua, -2, "__newindex");
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable");
  lua_setmetatable(lua, -2);
  lua_setglobal(lua, name);
}

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

void LuaVm::Hook(lua_State* lua, lua_Debug*) {
  lua_getfield(lua, LUA_REGISTRYINDEX, "quiver.vm");
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, -1));
  lua_pop(lua, 1);
  if (vm->options_.kill != nullptr && vm->options_.kill->load(std::memory_order_relaxed)) {
    RaiseApiError(lua, "Script killed by user with SCRIPT KILL...");
  }
  const int64_t limit = vm->options_.max_instructions;
  if (limit > 0 && ++vm->instructions_ * kHookPeriod > limit) {
    RaiseApiError(lua, "Script exceeded its instruction limit");
  }
}

LuaVm::~LuaVm() {
  Close();
}

void LuaVm::Close() {
  if (lua_ != nullptr) lua_close(lua_);
  lua_ = nullptr;
  names_.clear();
}

void LuaVm::Flush() {
  Close();
  Open();
}

int64_t LuaVm::memory() const {
  return static_cast<int64_t>(memory_);
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
}

Status LuaVm::Load(const std::string& sha, std::string_view body) {
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
  names_.insert(sha);
  return Status::Ok();
}

namespace {

// Sets global `name` (bypassing the protection) to a table of the words.
void SetWords(lua_State* lua, const char* name, std::span<const std::string_view> words) {
  lua_pushstring(lua, name);
  lua_createtable(lua, static_cast<int>(words.size()), 0);
  for (size_t i = 0; i < words.size(); ++i) {
    lua_pushlstring(lua, words[i].data(), words[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
  lua_rawset(lua, LUA_GLOBALSINDEX);
}

}  // namespace

void LuaVm::Run(const std::string& sha, std::span<const std::string_view> keys,
                std::span<const std::string_view> argv, ScriptHost& host,
                protocol::RespWriter& out) {
  lua_State* lua = lua_;
  lua_settop(lua, 0);
  host_ = &host;
  resp_ = 2;
  instructions_ = 0;
  lua_getfield(lua, LUA_REGISTRYINDEX, kHandler);
  lua_getfield(lua, LUA_REGISTRYINDEX, kScripts);
  lua_pushlstring(lua, sha.data(), sha.size());
  lua_rawget(lua, -2);
  lua_remove(lua, -2);
  SetWords(lua, "KEYS", keys);
  SetWords(lua, "ARGV", argv);
  if (lua_pcall(lua, 0, 1, 1) != 0) {
    WriteError(sha, out);
  } else {
    WriteReply(lua, out, resp_);
  }
  lua_settop(lua, 0);
  host_ = nullptr;
  lua_gc(lua, LUA_GCSTEP, 1);
}

void LuaVm::WriteError(const std::string& sha, protocol::RespWriter& out) {
  lua_State* lua = lua_;
  std::string text;
  if (!lua_istable(lua, -1)) {
    const char* message = lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "execution failure";
    text = "ERR Error running script " + sha + ", " + std::string(message).substr(0, 100);
  } else {
    for (const char* field : {"err", "source", "line"}) {  // raw: no metamethod may run here
      lua_pushstring(lua, field);
      lua_rawget(lua, field[0] == 'e' ? -2 : field[0] == 's' ? -3 : -4);
    }
    text = lua_isstring(lua, -3) ? lua_tostring(lua, -3) : "ERR unknown error";
    if (lua_isstring(lua, -2) && lua_isnumber(lua, -1)) {
      text += " script: " + sha + ", on " + lua_tostring(lua, -2) + ":" +
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
