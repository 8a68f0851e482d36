#include "service/password.h"

#include <cstdint>

namespace quiver {

namespace {

// Decodes standard base64 (padding optional); false if malformed.
bool DecodeBase64(std::string_view in, std::string* out) {
  uint32_t bits = 0;
  int count = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z') {
      v = c - 'A';
    } else if (c >= 'a' && c <= 'z') {
      v = c - 'a' + 26;
    } else if (c >= '0' && c <= '9') {
      v = c - '0' + 52;
    } else if (c == '+') {
      v = 62;
    } else if (c == '/') {
      v = 63;
    } else if (c == '=') {
      break;
    } else {
      return false;
    }
    bits = (bits << 6) | static_cast<uint32_t>(v);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out->push_back(static_cast<char>((bits >> count) & 0xff));
    }
  }
  return true;
}

}  // namespace

bool Password::required() const {
  std::lock_guard lock(mu_);
  return !value_.empty();
}

bool Password::Matches(std::string_view attempt) const {
  std::lock_guard lock(mu_);
  if (value_.empty()) return true;
  // Every byte of the attempt is compared, whatever matched before.
  unsigned diff = attempt.size() == value_.size() ? 0 : 1;
  for (size_t i = 0; i < attempt.size(); ++i)
    diff |= static_cast<unsigned char>(attempt[i]) ^
            static_cast<unsigned char>(value_[i % value_.size()]);
  return diff == 0;
}

std::string Password::Get() const {
  std::lock_guard lock(mu_);
  return value_;
}

void Password::Set(std::string value) {
  std::lock_guard lock(mu_);
  value_ = std::move(value);
}

bool HttpAuthorized(const Password& password, std::string_view authorization) {
  if (!password.required()) return true;
  constexpr std::string_view kBearer = "Bearer ", kBasic = "Basic ";
  if (authorization.starts_with(kBearer)) {
    return password.Matches(authorization.substr(kBearer.size()));
  }
  std::string decoded;
  if (!authorization.starts_with(kBasic) ||
      !DecodeBase64(authorization.substr(kBasic.size()), &decoded)) {
    return false;
  }
  const size_t colon = decoded.find(':');
  return colon != std::string::npos &&
         password.Matches(std::string_view(decoded).substr(colon + 1));
}

}  // namespace quiver
