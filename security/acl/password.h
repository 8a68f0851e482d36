// Passwords as ACL users keep them: the SHA-256 of the password, as 64
// lowercase hex digits (Redis's #<hash> form), compared in constant time.
#pragma once

#include <string>
#include <string_view>

namespace quiver::acl {

inline constexpr size_t kHashLength = 64;

// SHA-256 of the password, in lowercase hex.
std::string HashPassword(std::string_view password);
// Whether text is a hash as HashPassword writes it (64 lowercase hex digits).
bool ValidHash(std::string_view text);
// Whether a == b, in a time that depends only on their lengths.
bool EqualInConstantTime(std::string_view a, std::string_view b);
// A random password of `bits` bits (rounded up to a multiple of 4), as hex
// digits, from the system's cryptographic generator (ACL GENPASS);
// empty if it failed.
std::string GeneratePassword(int bits);

}  // namespace quiver::acl
