#include "server/dashboard/sessions.h"

#include <algorithm>

#include "security/acl/password.h"
#include "util/clock.h"

namespace quiver::dashboard {

namespace {

constexpr int kTokenBits = 256;

// Whether the hash of a password is still one of the user's (any for nopass).
bool StillAuthenticates(const acl::User& user, std::string_view hash) {
  if (!user.enabled()) return false;
  if (user.nopass()) return true;
  bool found = false;
  for (const std::string& h : user.passwords())
    found |= acl::EqualInConstantTime(h, hash);
  return found;
}

}  // namespace

Sessions::Sessions(const acl::Users& users, Options options)
    : users_(users), options_(std::move(options)) {}

int64_t Sessions::Now() const {
  return options_.now_ms ? options_.now_ms() : MonotonicMs();
}

std::string Sessions::Open(const acl::User& user, std::string_view password) {
  std::string token = acl::GeneratePassword(kTokenBits);
  if (token.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.size() >= options_.max_sessions) EvictOldest();
  sessions_[acl::HashPassword(token)] = {
      .user = user.name(), .password_hash = acl::HashPassword(password), .last_used_ms = Now()};
  return token;
}

std::shared_ptr<const acl::User> Sessions::Resolve(std::string_view token) {
  if (token.empty()) return nullptr;
  const std::string key = acl::HashPassword(token);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return nullptr;
  const int64_t now = Now();
  std::shared_ptr<const acl::User> user = users_.Find(it->second.user);
  if (now - it->second.last_used_ms > options_.idle_ms || user == nullptr ||
      !StillAuthenticates(*user, it->second.password_hash)) {
    sessions_.erase(it);
    return nullptr;
  }
  it->second.last_used_ms = now;
  return user;
}

bool Sessions::Close(std::string_view token) {
  if (token.empty()) return false;
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.erase(acl::HashPassword(token)) > 0;
}

size_t Sessions::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void Sessions::EvictOldest() {
  auto oldest = std::min_element(
      sessions_.begin(), sessions_.end(),
      [](const auto& a, const auto& b) { return a.second.last_used_ms < b.second.last_used_ms; });
  if (oldest != sessions_.end()) sessions_.erase(oldest);
}

std::string_view CookieValue(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    while (!pair.empty() && pair.front() == ' ')
      pair.remove_prefix(1);
    const size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name) {
      std::string_view value = pair.substr(eq + 1);
      while (!value.empty() && value.back() == ' ')
        value.remove_suffix(1);
      return value;
    }
    if (semi == std::string_view::npos) break;
    header.remove_prefix(semi + 1);
  }
  return {};
}

}  // namespace quiver::dashboard
