#include "util/glob.h"

#include <utility>

#include "util/ascii.h"

namespace quiver {

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
}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
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

}  // namespace quiver
