// LuaVm's functions (FUNCTION LOAD, FCALL), as Redis 7.0 has them: a
// library's code runs once, at load, with only redis.register_function,
// redis.log and the constants in reach; the callbacks it registers then
// run with the scripts' globals, each in its library's read-only
// environment, called with their keys and arguments.
#include <algorithm>
#include <cctype>
#include <chrono>

#include "server/scripting/lua_convert.h"
#include "server/scripting/lua_sandbox.h"
#include "server/scripting/lua_vm.h"
#include "util/ascii.h"

namespace quiver::scripting {

namespace {

constexpr char kFunctions[] = "quiver.functions";  // name -> callback
constexpr char kLoadEnv[] = "quiver.load_env";     // the globals of loading code
constexpr char kLoading[] = "quiver.loading";      // {env=…, callbacks={name=fn}} of a load
constexpr auto kLoadTime = std::chrono::milliseconds(500);

constexpr char kBadName[] =
    "Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long";
constexpr std::string_view kFlags[] = {"no-writes", "allow-oom", "allow-stale", "no-cluster",
                                       "allow-cross-slot-keys"};

bool ValidName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_') return false;
  }
  return true;
}

// The library's name from its first line ("#!lua name=<name>"), or the
// error; *eol is where the line ends.
Result<std::string> ParseShebang(std::string_view code, size_t* eol) {
  if (!code.starts_with("#!")) return Status::InvalidArgument("Missing library metadata");
  *eol = std::min(code.find('\n'), code.size());
  std::string_view rest = code.substr(2, *eol - 2);
  std::string engine, name;
  bool named = false;
  for (size_t i = 0; i < rest.size();) {
    const size_t end = std::min(rest.find(' ', i), rest.size());
    const std::string_view word = rest.substr(i, end - i);
    i = end + 1;
    if (word.empty()) continue;
    if (engine.empty()) {
      engine = word;
    } else if (word.starts_with("name=")) {
      name = word.substr(5);
      named = true;
    } else {
      return Status::InvalidArgument("Invalid metadata value given: " + std::string(word));
    }
  }
  if (!EqualsNoCase(engine, "lua")) {
    return Status::InvalidArgument("Engine '" + engine + "' not found");
  }
  if (!named) return Status::InvalidArgument("Library name was not given");
  if (!ValidName(name)) return Status::InvalidArgument(kBadName);
  return name;
}

// The string at index, or nullptr.
const char* StringAt(lua_State* lua, int index, size_t* n) {
  return lua_type(lua, index) == LUA_TSTRING ? lua_tolstring(lua, index, n) : nullptr;
}

}  // namespace

void LuaVm::OpenFunctions() {
  lua_State* lua = lua_;
  lua_newtable(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kFunctions);
  lua_newtable(lua);  // the load-time globals: redis alone
  lua_newtable(lua);
  lua_pushlightuserdata(lua, this);
  lua_pushcclosure(lua, RegisterFunction, 1);
  lua_setfield(lua, -2, "register_function");
  lua_pushlightuserdata(lua, this);
  lua_pushcclosure(lua, Log, 1);
  lua_setfield(lua, -2, "log");
  SetConstants(lua);
  Protect(lua, /*missing_global=*/true);  // redis.call at load: "nonexistent global"
  lua_setfield(lua, -2, "redis");
  Protect(lua, /*missing_global=*/true);
  lua_setfield(lua, LUA_REGISTRYINDEX, kLoadEnv);
}

int LuaVm::RegisterFunction(lua_State* lua) {
  auto* vm = static_cast<LuaVm*>(lua_touserdata(lua, lua_upvalueindex(1)));
  if (vm->loading_ == nullptr) {
    return RaiseApiError(lua,
                         "redis.register_function can only be called on FUNCTION LOAD command");
  }
  const char* problem = vm->Register(lua);
  return problem != nullptr ? RaiseApiError(lua, problem) : 0;
}

const char* LuaVm::Register(lua_State* lua) {
  FunctionInfo f;
  const int argc = lua_gettop(lua);
  int callback = 0;  // its stack index
  size_t n = 0;
  if (argc == 1) {
    if (!lua_istable(lua, 1)) {
      return "calling redis.register_function with a single argument is only applicable to Lua "
             "table (representing named arguments).";
    }
    lua_pushnil(lua);  // slot 2: the callback, once found
    for (lua_pushnil(lua); lua_next(lua, 1) != 0; lua_pop(lua, 1)) {
      const char* key = StringAt(lua, -2, &n);
      const std::string_view k = key != nullptr ? std::string_view(key, n) : std::string_view();
      if (k == "function_name") {
        const char* s = StringAt(lua, -1, &n);
        if (s == nullptr)
          return "function_name argument given to redis.register_function must be a string";
        f.name.assign(s, n);
      } else if (k == "callback") {
        if (!lua_isfunction(lua, -1)) {
          return "callback argument given to redis.register_function must be a function";
        }
        lua_pushvalue(lua, -1);
        lua_replace(lua, 2);
        callback = 2;
      } else if (k == "description") {
        const char* s = StringAt(lua, -1, &n);
        if (s == nullptr)
          return "description argument given to redis.register_function must be a string";
        f.description.assign(s, n);
      } else if (k == "flags") {
        if (!lua_istable(lua, -1)) {
          return "flags argument to redis.register_function must be a table representing "
                 "function flags";
        }
        for (lua_pushnil(lua); lua_next(lua, -2) != 0; lua_pop(lua, 1)) {
          const char* flag = StringAt(lua, -1, &n);
          const std::string_view v = flag != nullptr ? std::string_view(flag, n) : "";
          if (std::find(std::begin(kFlags), std::end(kFlags), v) == std::end(kFlags)) {
            return "unknown flag given";
          }
          f.flags.emplace_back(v);
          f.no_writes = f.no_writes || v == "no-writes";
        }
      } else {
        return "unknown argument given to redis.register_function";
      }
    }
    if (f.name.empty()) return "redis.register_function must get a function name argument";
    if (callback == 0) return "redis.register_function must get a callback argument";
  } else if (argc == 2) {
    const char* s = StringAt(lua, 1, &n);
    if (s == nullptr) return "first argument to redis.register_function must be a string";
    if (!lua_isfunction(lua, 2))
      return "second argument to redis.register_function must be a function";
    f.name.assign(s, n);
    callback = 2;
  } else {
    return "wrong number of arguments to redis.register_function";
  }
  if (!ValidName(f.name)) return kBadName;
  for (const FunctionInfo& other : loading_->functions) {
    if (other.name == f.name) return "Function already exists in the library";
  }
  lua_getfield(lua, LUA_REGISTRYINDEX, kLoading);
  lua_getfield(lua, -1, "callbacks");
  lua_pushlstring(lua, f.name.data(), f.name.size());
  lua_pushvalue(lua, callback);
  lua_rawset(lua, -3);
  lua_pop(lua, 2);
  loading_->functions.push_back(std::move(f));
  return nullptr;
}

Status LuaVm::RunLibrary(std::string_view body, LibraryInfo* info) {
  lua_State* lua = lua_;
  lua_settop(lua, 0);
  if (luaL_loadbuffer(lua, body.data(), body.size(), "@user_function") != 0) {
    std::string error = "Error compiling function: ";
    error += lua_tostring(lua, -1);
    lua_settop(lua, 0);
    return Status::InvalidArgument(error);
  }
  // The library's environment: the load-time globals now, the scripts'
  // globals once it is in (Commit); never writable.
  lua_newtable(lua);
  MarkProtected(lua);
  lua_getfield(lua, LUA_REGISTRYINDEX, kLoadEnv);
  ReadThrough(lua);
  lua_newtable(lua);  // {env=…, callbacks={}}
  lua_pushvalue(lua, -2);
  lua_setfield(lua, -2, "env");
  lua_newtable(lua);
  lua_setfield(lua, -2, "callbacks");
  lua_setfield(lua, LUA_REGISTRYINDEX, kLoading);
  lua_setfenv(lua, -2);
  loading_ = info;
  load_deadline_ = std::chrono::steady_clock::now() + kLoadTime;
  StartClock();
  lua_getfield(lua, LUA_REGISTRYINDEX, kHandler);
  lua_insert(lua, 1);
  const int failed = lua_pcall(lua, 0, 0, 1);
  loading_ = nullptr;
  if (failed != 0) {
    std::string error = "Error registering functions: ";
    if (lua_istable(lua, -1)) {
      lua_pushstring(lua, "err");
      lua_rawget(lua, -2);
    }
    error += lua_isstring(lua, -1) ? lua_tostring(lua, -1) : "unknown error";
    lua_settop(lua, 0);
    return Status::InvalidArgument(error);
  }
  lua_settop(lua, 0);
  if (info->functions.empty()) return Status::InvalidArgument("No functions registered");
  return Status::Ok();
}

Result<std::string> LuaVm::LoadLibrary(std::string_view code, bool replace) {
  size_t eol = 0;
  QUIVER_ASSIGN_OR_RETURN(std::string name, ParseShebang(code, &eol));
  if (libraries_.count(name) != 0 && !replace) {
    return Status::InvalidArgument("Library '" + name + "' already exists");
  }
  LibraryInfo info{name, std::string(code), {}};
  // The first line left empty: the code's lines keep their numbers.
  QUIVER_RETURN_IF_ERROR(RunLibrary(code.substr(eol), &info));
  for (const FunctionInfo& f : info.functions) {
    auto it = functions_.find(f.name);
    if (it != functions_.end() && it->second.first != name) {
      return Status::InvalidArgument("Function " + f.name + " already exists");
    }
  }
  DeleteLibrary(name);
  lua_State* lua = lua_;
  lua_getfield(lua, LUA_REGISTRYINDEX, kLoading);
  lua_getfield(lua, -1, "env");  // reads the scripts' globals from now on
  lua_getmetatable(lua, -1);
  lua_pushvalue(lua, LUA_GLOBALSINDEX);
  lua_setfield(lua, -2, "__index");
  lua_settop(lua, 1);
  lua_getfield(lua, -1, "callbacks");
  lua_getfield(lua, LUA_REGISTRYINDEX, kFunctions);
  for (size_t i = 0; i < info.functions.size(); ++i) {
    const std::string& f = info.functions[i].name;
    lua_pushlstring(lua, f.data(), f.size());
    lua_pushlstring(lua, f.data(), f.size());
    lua_rawget(lua, -4);
    lua_rawset(lua, -3);
    functions_[f] = {name, i};
  }
  lua_settop(lua, 0);
  lua_pushnil(lua);
  lua_setfield(lua, LUA_REGISTRYINDEX, kLoading);
  libraries_[name] = std::move(info);
  return name;
}

bool LuaVm::DeleteLibrary(std::string_view name) {
  auto it = libraries_.find(name);
  if (it == libraries_.end()) return false;
  lua_State* lua = lua_;
  lua_getfield(lua, LUA_REGISTRYINDEX, kFunctions);
  for (const FunctionInfo& f : it->second.functions) {
    lua_pushlstring(lua, f.name.data(), f.name.size());
    lua_pushnil(lua);
    lua_rawset(lua, -3);
    functions_.erase(f.name);
  }
  lua_settop(lua, 0);
  libraries_.erase(it);
  return true;
}

void LuaVm::FlushLibraries() {
  libraries_.clear();
  functions_.clear();
  lua_newtable(lua_);
  lua_setfield(lua_, LUA_REGISTRYINDEX, kFunctions);
  lua_gc(lua_, LUA_GCCOLLECT, 0);
}

const FunctionInfo* LuaVm::FindFunction(std::string_view name) const {
  auto it = functions_.find(name);
  if (it == functions_.end()) return nullptr;
  return &libraries_.find(it->second.first)->second.functions[it->second.second];
}

void LuaVm::CallFunction(std::string_view name, std::span<const std::string_view> keys,
                         std::span<const std::string_view> argv, ScriptHost& host,
                         protocol::RespWriter& out) {
  lua_State* lua = lua_;
  lua_settop(lua, 0);
  PushEntry(lua, kFunctions, name);
  PushWords(lua, keys);
  PushWords(lua, argv);
  Invoke(2, name, host, out);
}

}  // namespace quiver::scripting
