// The sandbox shared by scripts and functions (server/scripting/lua_vm.h):
// the registry's keys, read-only tables, the error handler and Redis's
// errors raised from C. Lua state helpers; the caller's thread owns it.
#pragma once

#include <span>
#include <string_view>

#include <lua.hpp>

namespace quiver::scripting {

// Registry keys.
inline constexpr char kScripts[] = "quiver.scripts";      // sha -> compiled function
inline constexpr char kProtected[] = "quiver.protected";  // tables scripts cannot change
inline constexpr char kHandler[] = "quiver.err_handler";

// Turns any error into Redis's error table {err=…, source=…, line=…}: a
// string gets ERR; the place is the script's line that raised it (past
// the C function, such as error or redis.call, that did).
inline constexpr char kErrorHandler[] = R"(
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

// Whether the table at index is one scripts may not change.
int Protected(lua_State* lua, int index);
// Raises "Attempt to modify a readonly table" (a __newindex).
int ReadOnlyError(lua_State* lua);
// Raises "Script attempted to access nonexistent global variable '<key>'"
// (a global table's __index).
int MissingGlobal(lua_State* lua);
// rawset, refusing the protected tables.
int SafeRawSet(lua_State* lua);
// Raises {err = "ERR message"} (an error of the redis API: no place).
int RaiseApiError(lua_State* lua, const char* message);
// Adds the table at the top to the tables rawset refuses.
void MarkProtected(lua_State* lua);
// Marks the table at the top protected: changes and metatable swaps fail;
// with missing_global, reading an absent key fails too (_G).
void Protect(lua_State* lua, bool missing_global);
// Gives the table below the top a metatable reading through to the value
// at the top (popped) and refusing changes.
void ReadThrough(lua_State* lua);
// Pushes registry[table][key].
void PushEntry(lua_State* lua, const char* table, std::string_view key);
// Replaces global `name` (a library table) by an empty protected proxy
// reading through to it.
void ProxyGlobal(lua_State* lua, const char* name);
// Pushes a table of the words (KEYS, ARGV, a function's arguments).
void PushWords(lua_State* lua, std::span<const std::string_view> words);

}  // namespace quiver::scripting
