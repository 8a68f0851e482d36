// The feature server's own requests as ACL rules name them, so that the
// RESP port's users (security/acl) have permissions on the native and HTTP
// ports too: the container `quiver` and a subcommand per kind of request
// (`quiver|get`, `quiver|put`, `quiver|apply`, ...), each in Redis's
// categories (@read, @write, @admin, ...). Hello, Ping and the views'
// descriptions (which a client needs to encode its requests) are every
// authenticated user's. A request on a view needs the
// access its kind asks (read or write) to the key `quiver:<view>:*`, as a
// key pattern matches it: `%R~quiver:user_*` lets a user read the views
// named user_* on every port (their rows on RESP too).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "security/acl/acl_log.h"
#include "security/acl/users.h"

namespace quiver {

struct FeatureRequest {
  std::string_view name;  // the subcommand: "get" is "quiver|get"
  acl::Categories categories;
  uint8_t view_access;  // what it needs on the views it names (acl::Access); 0: none
};

// Every kind, in the order of docs/security.md's table.
std::span<const FeatureRequest> FeatureRequests();
// Adds `quiver` and its subcommands to the catalog the users are checked
// against (the RESP port's, which every port shares).
void AddFeatureRequests(acl::Catalog& catalog);

// The user a native or HTTP client authenticated as, with what its
// denials are logged with.
struct Requester {
  std::shared_ptr<const acl::User> user;
  std::string_view context;      // ACL LOG's: "native" or "http"
  std::string_view client_info;  // "addr=127.0.0.1:5000 laddr=..."
};

// A native or HTTP client as CLIENT LIST shows one (ACL LOG's client-info),
// with the fields Redis's clients parse.
std::string FeatureClientInfo(std::string_view addr, std::string_view laddr, std::string_view port);

// Whether the requester may make the request `name` ("get") on these views
// ("name" or "name@vN"). If not, the denial is in the log, and the error
// (NoPermission) says what is missing, in Redis's words.
Status CheckFeatureRequest(const Requester& who, acl::AclLog& log, std::string_view name,
                           std::span<const std::string_view> views);

// The user a password authenticates: `name` (the default user if empty)
// with this password; else null, and the failure is in the log.
std::shared_ptr<const acl::User> AuthenticateRequester(const acl::Users& users, acl::AclLog& log,
                                                       std::string_view name,
                                                       std::string_view password,
                                                       const Requester& who);

}  // namespace quiver
