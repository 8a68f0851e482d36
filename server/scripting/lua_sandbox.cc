#include "server/scripting/lua_sandbox.h"

#include "server/scripting/lua_convert.h"

namespace quiver::scripting {

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
void MarkProtected(lua_State* lua) {
  lua_getfield(lua, LUA_REGISTRYINDEX, kProtected);
  lua_pushvalue(lua, -2);
  lua_pushboolean(lua, 1);
  lua_rawset(lua, -3);
  lua_pop(lua, 1);
}

void Protect(lua_State* lua, bool missing_global) {
  MarkProtected(lua);
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
void ReadThrough(lua_State* lua) {
  lua_newtable(lua);
  lua_insert(lua, -2);
  lua_setfield(lua, -2, "__index");
  lua_pushcfunction(lua, ReadOnlyError);
  lua_setfield(lua, -2, "__newindex");
  lua_pushboolean(lua, 0);
  lua_setfield(lua, -2, "__metatable");
  lua_setmetatable(lua, -2);
}

void ProxyGlobal(lua_State* lua, const char* name) {
  lua_newtable(lua);  // the proxy
  MarkProtected(lua);
  lua_getglobal(lua, name);
  ReadThrough(lua);
  lua_setglobal(lua, name);
}

void PushEntry(lua_State* lua, const char* table, std::string_view key) {
  lua_getfield(lua, LUA_REGISTRYINDEX, table);
  lua_pushlstring(lua, key.data(), key.size());
  lua_rawget(lua, -2);
  lua_remove(lua, -2);
}

void PushWords(lua_State* lua, std::span<const std::string_view> words) {
  lua_createtable(lua, static_cast<int>(words.size()), 0);
  for (size_t i = 0; i < words.size(); ++i) {
    lua_pushlstring(lua, words[i].data(), words[i].size());
    lua_rawseti(lua, -2, static_cast<int>(i + 1));
  }
}

}  // namespace quiver::scripting
