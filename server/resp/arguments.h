// Argument parsing and matching as Redis does it, for the RESP commands.
#pragma once

#include <cstdint>
#include <string_view>

#include "protocol/resp.h"

namespace quiver::resp {

// ASCII case-insensitive equality (command names, options).
bool EqualsNoCase(std::string_view a, std::string_view b);

// Redis's string2ll (one parser for requests and arguments).
inline bool ParseInt64(std::string_view text, int64_t* out) {
  return protocol::ParseStrictInt(text, out);
}
// Redis's string2ld: a strtold number, no spaces, not NaN.
bool ParseLongDouble(std::string_view text, long double* out);

// Printable ASCII without spaces: what Redis accepts as a client name or
// library name or version.
bool IsPrintableToken(std::string_view text);

// Redis's glob-style pattern match (KEYS, SCAN MATCH): * ? [abc] [^a-z] \x.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace quiver::resp
