// Password: the password every front end demands when quiverd has one
// (`requirepass`): RESP's AUTH and HELLO, the native protocol's Hello, HTTP
// Basic or Bearer authorization. One value for all three, which RESP's
// CONFIG SET requirepass changes at run time. Thread-safe.
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace quiver {

class Password {
 public:
  explicit Password(std::string value = {}) : value_(std::move(value)) {}

  bool required() const;
  // True if no password is required or `attempt` is it. The comparison
  // takes the same time wherever the first difference is.
  bool Matches(std::string_view attempt) const;
  std::string Get() const;
  void Set(std::string value);

 private:
  mutable std::mutex mu_;
  std::string value_;  // guarded by mu_; empty: none
};

// Whether an HTTP Authorization header carries the password: "Bearer P",
// or "Basic base64(user:P)" with any user.
bool HttpAuthorized(const Password& password, std::string_view authorization);

}  // namespace quiver
