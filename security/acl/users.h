// The users of a server: created, changed and deleted by ACL SETUSER and
// DELUSER, authenticated by every front end, saved to and loaded from
// their file form ("user <name> <rules...>" per line, as Redis's aclfile).
// There is always a "default" user: the one a connection starts as, which
// requirepass sets the password of. Thread-safe: users are immutable
// values, replaced whole; a connection keeps the one it authenticated as
// and looks it up again when generation() has changed.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "security/acl/user.h"

namespace quiver::acl {

inline constexpr std::string_view kDefaultUser = "default";

class Users {
 public:
  // With the default user as Redis makes it ("on nopass ~* &* +@all"), or
  // with `requirepass` as its password if that is not empty.
  explicit Users(const Catalog& catalog, std::string_view requirepass = {});

  const Catalog& catalog() const { return catalog_; }
  // The user named, or null.
  std::shared_ptr<const User> Find(std::string_view name) const;
  std::shared_ptr<const User> Default() const;
  // Every user's name, sorted.
  std::vector<std::string> Names() const;
  // Every user, sorted by name.
  std::vector<std::shared_ptr<const User>> All() const;
  // Bumped by every change: connections holding a user look it up again.
  uint64_t generation() const { return generation_.load(std::memory_order_acquire); }

  // ACL SETUSER: creates the user if it does not exist, then applies the
  // rules in order; all or none. The error is Redis's:
  // "Error in ACL SETUSER modifier '<rule>': <why>".
  Status SetUser(std::string_view name, std::span<const std::string_view> rules);
  // ACL DELUSER: true if the user existed. The default user cannot be
  // deleted (the caller refuses it).
  bool DelUser(std::string_view name);
  // requirepass changed: the default user gets that password alone, or
  // nopass if empty. A Load without a default user makes one with it.
  void SetDefaultPassword(std::string_view requirepass);

  // The user if it exists, is on and the password is one of its own (any
  // password for nopass); else null. Every password the user has is
  // compared, in constant time each.
  std::shared_ptr<const User> Authenticate(std::string_view name, std::string_view password) const;

  // The file form of every user, sorted by name, one line each.
  std::string Save() const;
  // Replaces every user with those of `text` (the file form), or changes
  // nothing if any line is wrong; the error names each wrong line, prefixed
  // by `source` (the file's name). Without a default user in `text`, the
  // default user is Redis's, with requirepass as its password if there is
  // one (Redis would leave it without).
  Status Load(std::string_view text, std::string_view source);

 private:
  using Map = std::map<std::string, std::shared_ptr<const User>, std::less<>>;
  // Builds the users of `text`; appends to *errors what is wrong.
  Map Parse(std::string_view text, std::string_view source, std::string* errors) const;
  std::shared_ptr<const User> MakeDefault(std::string_view requirepass) const;

  const Catalog& catalog_;
  std::mutex write_mu_;  // one change at a time, from the read of the old user on
  mutable std::mutex mu_;
  Map users_;  // guarded by mu_
  std::atomic<uint64_t> generation_{1};
  std::string requirepass_;  // guarded by write_mu_
};

}  // namespace quiver::acl
