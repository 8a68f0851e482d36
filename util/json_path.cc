#include "util/json_path.h"

namespace quiver {

namespace {

void AppendToken(std::string& out, std::string_view token) {
  out.push_back('/');
  for (char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out.push_back(c);
    }
  }
}

bool IsNameChar(char c) {
  return c != '.' && c != '[' && c != ']' && c != '\'' && c != '"' && c != ' ';
}

Status Bad(std::string_view path, std::string_view why) {
  return Status::InvalidArgument("bad JSON path '" + std::string(path) + "': " + std::string(why) +
                                 " (expected e.g. $.user.id, $.items[0] or $['a b'])");
}

}  // namespace

Result<std::string> JsonPathToPointer(std::string_view path) {
  if (path.empty() || path[0] != '$') return Bad(path, "must start with $");
  std::string out;
  size_t i = 1;
  while (i < path.size()) {
    if (path[i] == '.') {
      size_t end = ++i;
      while (end < path.size() && IsNameChar(path[end]))
        ++end;
      if (end == i) return Bad(path, "empty member name");
      AppendToken(out, path.substr(i, end - i));
      i = end;
    } else if (path[i] == '[' && i + 1 < path.size() &&
               (path[i + 1] == '\'' || path[i + 1] == '"')) {
      const char quote = path[i + 1];
      const size_t close = path.find(quote, i + 2);
      if (close == std::string_view::npos || close + 1 >= path.size() || path[close + 1] != ']') {
        return Bad(path, "unterminated quoted name");
      }
      AppendToken(out, path.substr(i + 2, close - i - 2));
      i = close + 2;
    } else if (path[i] == '[') {
      size_t end = i + 1;
      while (end < path.size() && path[end] >= '0' && path[end] <= '9')
        ++end;
      if (end == i + 1 || end >= path.size() || path[end] != ']') {
        return Bad(path, "an index must be digits in brackets");
      }
      AppendToken(out, path.substr(i + 1, end - i - 1));
      i = end + 1;
    } else {
      return Bad(path, "unexpected '" + std::string(1, path[i]) + "'");
    }
  }
  return out;
}

}  // namespace quiver
