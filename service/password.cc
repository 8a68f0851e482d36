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
  std::shared_ptr<const acl::User> user = users_.Default();
  return !user->nopass() || !user->enabled();
}

bool Password::Matches(std::string_view attempt) const {
  return users_.Authenticate(acl::kDefaultUser, attempt) != nullptr;
}

std::shared_ptr<const acl::User> HttpUser(const acl::Users& users, std::string_view authorization,
                                          std::string* tried) {
  *tried = std::string(acl::kDefaultUser);
  if (authorization.empty()) {
    std::shared_ptr<const acl::User> user = users.Default();
    return user->enabled() && user->nopass() ? user : nullptr;
  }
  constexpr std::string_view kBearer = "Bearer ", kBasic = "Basic ";
  if (authorization.starts_with(kBearer)) {
    return users.Authenticate(acl::kDefaultUser, authorization.substr(kBearer.size()));
  }
  std::string decoded;
  if (!authorization.starts_with(kBasic) ||
      !DecodeBase64(authorization.substr(kBasic.size()), &decoded)) {
    return nullptr;
  }
  const size_t colon = decoded.find(':');
  if (colon == std::string::npos) return nullptr;
  const std::string_view name = std::string_view(decoded).substr(0, colon);
  if (!name.empty() && users.Find(name) != nullptr) *tried = std::string(name);
  return users.Authenticate(*tried, std::string_view(decoded).substr(colon + 1));
}

}  // namespace quiver
