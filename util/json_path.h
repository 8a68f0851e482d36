// JSON paths of source definitions ("$.user.id", "$.items[0]", "$['a b']")
// turned into the JSON Pointers (RFC 6901) that simdjson looks up.
#pragma once

#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

// "$.a.b[2]" -> "/a/b/2". Supports member names after '.', quoted names in
// brackets, and array indexes; "$" alone is the whole document.
Result<std::string> JsonPathToPointer(std::string_view path);

}  // namespace quiver
