#include "server/resp/arguments.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace quiver::resp {

bool IsPrintableToken(std::string_view text) {
  for (char c : text) {
    if (c < '!' || c > '~') return false;
  }
  return true;
}

namespace {

// string2ld and string2d: a whole-text number by `parse` (strtold, strtod).
template <typename T>
bool ParseFloating(std::string_view text, T (*parse)(const char*, char**), T* out) {
  if (text.empty() || std::isspace(static_cast<unsigned char>(text[0]))) return false;
  const std::string copy(text);  // strtod needs a terminated string
  char* end = nullptr;
  errno = 0;
  const T v = parse(copy.c_str(), &end);
  if (end != copy.c_str() + copy.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (std::isinf(v) || std::fpclassify(v) == FP_ZERO)) return false;
  *out = v;
  return true;
}

}  // namespace

std::string_view ParseMPop(std::span<const std::string_view> args, size_t at,
                           std::string_view first, std::string_view second, MPopArgs* out) {
  int64_t numkeys = 0;
  if (!ParseInt64(args[at], &numkeys) || numkeys <= 0)
    return "ERR numkeys should be greater than 0";
  if (numkeys > static_cast<int64_t>(args.size() - at) - 2) return "ERR syntax error";
  out->first_key = at + 1;
  out->keys = static_cast<size_t>(numkeys);
  const size_t side = at + 1 + out->keys;
  out->first = EqualsNoCase(args[side], first);
  if (!out->first && !EqualsNoCase(args[side], second)) return "ERR syntax error";
  bool counted = false;
  for (size_t i = side + 1; i < args.size(); ++i) {
    if (counted || !EqualsNoCase(args[i], "count") || i + 1 >= args.size())
      return "ERR syntax error";
    counted = true;
    if (!ParseInt64(args[++i], &out->count) || out->count <= 0) {
      return "ERR count should be greater than 0";
    }
  }
  return {};
}

bool ParseLongDouble(std::string_view text, long double* out) {
  return text.size() <= 5 * 1024 && ParseFloating<long double>(text, std::strtold, out);
}

bool ParseDouble(std::string_view text, double* out) {
  return ParseFloating<double>(text, std::strtod, out);
}

}  // namespace quiver::resp
