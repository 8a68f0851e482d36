// Redis's conversions between command replies and Lua values, both ways:
// what redis.call returns to a script, and what a script's return value
// becomes as its reply (docs/resp.md#scripting).
#pragma once

#include <string_view>

#include <lua.hpp>

#include "protocol/resp.h"

namespace quiver::scripting {

// Pushes the Lua value of one complete RESP2 or RESP3 reply: a number
// for an integer, a string for a bulk string, false for a nil, a table
// for an array, {ok=…} for a status, {err=…} for an error, and in RESP3
// {map=…}, {set=…}, {double=…}, {big_number=…}, {verbatim_string=…},
// booleans and nil. Returns true if the reply was an error.
bool PushReply(lua_State* lua, std::string_view reply);

// Pushes {err = "CODE message"} for an error text, as Redis's scripts
// see errors: "-CODE message" keeps its code, a text with no code (or
// without "-") gets ERR; a trailing CRLF is dropped.
void PushErrorTable(lua_State* lua, std::string_view text);

// Writes the value at the top of the stack as a script's reply in out's
// protocol: strings as bulk strings, numbers as integers (truncated),
// booleans as 1 and nil while the script speaks RESP2 (script_resp, what
// redis.setresp chose), as booleans once it speaks RESP3, nil as nil;
// tables with
// err, ok, double, big_number, map, set or verbatim_string as those,
// other tables as arrays (up to their first nil). Leaves the stack as it
// was.
void WriteReply(lua_State* lua, protocol::RespWriter& out, int script_resp);

}  // namespace quiver::scripting
