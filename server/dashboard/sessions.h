// Sessions: the dashboard's logins. A browser that gives a user's name and
// password (POST /v1/login) gets a session: a random 256-bit token in an
// HttpOnly, SameSite=Strict cookie, that stands for the user on the HTTP
// port's requests made by the page (docs/dashboard.md#access).
//
// A session holds the user's name and the hash of the password it logged
// in with, never the password. It ends when the browser logs out, after
// idle_ms without a request, or as soon as that password no longer
// authenticates the user (the user is deleted, turned off, or the password
// removed): each use checks the user as it is now. At most max_sessions are
// kept; a new one beyond that ends the least recently used.
//
// Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "security/acl/users.h"

namespace quiver::dashboard {

// The cookie a session's token is in.
inline constexpr std::string_view kSessionCookie = "quiver_session";

class Sessions {
 public:
  struct Options {
    int64_t idle_ms = 12 * 3'600'000;  // a session unused this long ends
    size_t max_sessions = 1024;
    std::function<int64_t()> now_ms;  // default: the steady clock
  };
  Sessions(const acl::Users& users, Options options);
  explicit Sessions(const acl::Users& users) : Sessions(users, Options{}) {}

  // A new session's token for a user that `password` authenticated
  // (Users::Authenticate); empty if the system's random generator failed.
  std::string Open(const acl::User& user, std::string_view password);
  // The user a token stands for now; null if the session is unknown, has
  // ended, or its password no longer authenticates the user. A use keeps
  // the session from idling out.
  std::shared_ptr<const acl::User> Resolve(std::string_view token);
  // Ends a session (logout); false if there was none.
  bool Close(std::string_view token);
  size_t size() const;

 private:
  struct Session {
    std::string user;
    std::string password_hash;  // empty for a nopass user
    int64_t last_used_ms = 0;
  };
  int64_t Now() const;
  void EvictOldest();  // REQUIRES: mu_

  const acl::Users& users_;
  Options options_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Session> sessions_;  // by the token's hash; guarded by mu_
};

// The value of the cookie `name` in a Cookie header; empty if none.
std::string_view CookieValue(std::string_view header, std::string_view name);

}  // namespace quiver::dashboard
