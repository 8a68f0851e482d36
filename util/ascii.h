// ASCII case folding for names people type in any case (Redis commands and
// parameters, setting names, size units). Not for text in general: bytes
// outside A-Z pass through unchanged. Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>

namespace quiver {

inline char AsciiLower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c;
}

inline std::string AsciiLowerCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = AsciiLower(c);
  return out;
}

inline std::string AsciiUpperCopy(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c;
  return out;
}

inline bool EqualsNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (AsciiLower(a[i]) != AsciiLower(b[i])) return false;
  }
  return true;
}

}  // namespace quiver
