// Comma-separated lists as people type them ("a,b,c"), in flags and query
// strings: one splitting rule for the CLI and the HTTP API. Header-only,
// so that the client, which compiles protocol/ sources of its own, needs
// nothing more.
#pragma once

#include <string_view>
#include <vector>

namespace quiver {

// "a,b,,c" -> {"a", "b", "c"}: empty items (",," or a trailing comma) are
// dropped, and "" is the empty list. The views point into text.
inline std::vector<std::string_view> SplitCommaList(std::string_view text) {
  std::vector<std::string_view> items;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    if (!item.empty()) items.push_back(item);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return items;
}

}  // namespace quiver
