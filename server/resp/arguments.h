// Argument parsing and matching as Redis does it, for the RESP commands.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "protocol/resp.h"
#include "util/ascii.h"
#include "util/glob.h"

namespace quiver::resp {

// EqualsNoCase (util/ascii.h) compares command names and options.

// Redis's string2ll (one parser for requests and arguments).
inline bool ParseInt64(std::string_view text, int64_t* out) {
  return protocol::ParseStrictInt(text, out);
}
// Redis's string2ld: a strtold number, no spaces, not NaN.
bool ParseLongDouble(std::string_view text, long double* out);
// Redis's string2d (scores, weights): a strtod number ("1.5", "-inf",
// "0x10"), no spaces, not NaN, no overflow or underflow to zero.
bool ParseDouble(std::string_view text, double* out);

// LMPOP's and ZMPOP's arguments from the count of keys at args[at] on:
// numkeys key [key ...] SIDE [COUNT count], SIDE `first` or `second`.
struct MPopArgs {
  size_t first_key = 0, keys = 0;  // the keys' positions in args
  bool first = true;               // the side is `first` (LEFT, MIN)
  int64_t count = 1;
};
// An error in Redis's words for arguments it refuses.
std::string_view ParseMPop(std::span<const std::string_view> args, size_t at,
                           std::string_view first, std::string_view second, MPopArgs* out);

// Printable ASCII without spaces: what Redis accepts as a client name or
// library name or version.
bool IsPrintableToken(std::string_view text);

using quiver::GlobMatch;  // util/glob.h

}  // namespace quiver::resp
