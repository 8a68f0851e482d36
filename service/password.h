// Password: the default user's password (`requirepass`, or what ACL
// SETUSER default gave it), which the native protocol's Hello and HTTP's
// Basic or Bearer authorization check. The users themselves are
// security/acl's; RESP checks them all (AUTH user pass). Thread-safe.
#pragma once

#include <string_view>

#include "security/acl/users.h"

namespace quiver {

class Password {
 public:
  explicit Password(const acl::Users& users) : users_(users) {}

  // Whether a client must give a password: the default user has one, or
  // is off.
  bool required() const;
  // True if no password is required or `attempt` is one of the default
  // user's. The comparison takes the same time wherever the first
  // difference is.
  bool Matches(std::string_view attempt) const;

 private:
  const acl::Users& users_;
};

// The user an HTTP Authorization header authenticates: "Basic
// base64(user:password)" (a user name that is no user's, or none, stands
// for the default user, as before there were users), or "Bearer P" (the
// default user's password). Null if none: a wrong password, an off user,
// a malformed header; *tried names the user tried. Without a header, the
// default user if it needs no password.
std::shared_ptr<const acl::User> HttpUser(const acl::Users& users, std::string_view authorization,
                                          std::string* tried);

}  // namespace quiver
