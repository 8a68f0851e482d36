// Redis's glob-style pattern match (KEYS, SCAN MATCH, ACL key and channel
// patterns): * ? [abc] [^a-z] \\x.
#pragma once

#include <string_view>

namespace quiver {

// O(pattern x text) at worst, whatever the pattern.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase = false);

}  // namespace quiver
