#include "server/resp/arguments.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>

namespace quiver::resp {

namespace {

// Matches a [...] class at pattern[*p] (just past '['); advances *p to its ']'.
bool MatchClass(std::string_view pattern, size_t* p, char c, bool nocase) {
  size_t i = *p;
  const bool negate = i < pattern.size() && pattern[i] == '^';
  if (negate) ++i;
  bool match = false;
  for (; i < pattern.size() && pattern[i] != ']'; ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      ++i;
      match |= pattern[i] == c;
    } else if (i + 2 < pattern.size() && pattern[i + 1] == '-' && pattern[i + 2] != ']') {
      char lo = pattern[i], hi = pattern[i + 2], x = c;
      if (lo > hi) std::swap(lo, hi);
      if (nocase) {
        lo = AsciiLower(lo);
        hi = AsciiLower(hi);
        x = AsciiLower(x);
      }
      match |= x >= lo && x <= hi;
      i += 2;
    } else {
      match |= nocase ? AsciiLower(pattern[i]) == AsciiLower(c) : pattern[i] == c;
    }
  }
  *p = i < pattern.size() ? i : pattern.size() - 1;  // an unclosed class ends the pattern
  return negate ? !match : match;
}

// Whether the one-byte element of the pattern at *p matches c; advances *p
// past it.
bool MatchOne(std::string_view pattern, size_t* p, char c, bool nocase) {
  const char e = pattern[*p];
  bool match;
  if (e == '?') {
    match = true;
  } else if (e == '[') {
    ++*p;
    match = MatchClass(pattern, p, c, nocase);
  } else {
    char want = e;
    if (e == '\\' && *p + 1 < pattern.size()) want = pattern[++*p];
    match = nocase ? AsciiLower(want) == AsciiLower(c) : want == c;
  }
  ++*p;
  return match;
}

// Linear backtracking to the last '*' only: O(pattern x text) at worst,
// whatever the pattern.
bool Glob(std::string_view pattern, std::string_view text, bool nocase) {
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, mark = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      mark = t;
      continue;
    }
    size_t next = p;
    if (p < pattern.size() && MatchOne(pattern, &next, text[t], nocase)) {
      p = next;
      ++t;
      continue;
    }
    if (star == std::string_view::npos) return false;
    p = star + 1;
    t = ++mark;
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

}  // namespace

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

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  return Glob(pattern, text, nocase);
}

}  // namespace quiver::resp
