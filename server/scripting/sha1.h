// SHA-1 as hex, as Redis names scripts (and redis.sha1hex answers).
#pragma once

#include <string>
#include <string_view>

namespace quiver::scripting {

// The SHA-1 digest of data in 40 lower-case hex digits.
std::string Sha1Hex(std::string_view data);

}  // namespace quiver::scripting
