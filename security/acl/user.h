// A user: whether it may authenticate (on/off), its passwords (hashes) or
// nopass, the RESTORE payload flag, and its selectors: the root one that
// rules outside parentheses change, and those added as "(...)".
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "security/acl/selector.h"

namespace quiver::acl {

class User {
 public:
  // A new user as Redis makes one: off, no password, no permissions.
  User(std::string name, const Catalog& catalog);

  const std::string& name() const { return name_; }
  bool enabled() const { return enabled_; }
  bool nopass() const { return nopass_; }
  const std::vector<std::string>& passwords() const { return passwords_; }
  const std::vector<Selector>& selectors() const { return selectors_; }
  const Selector& root() const { return selectors_.front(); }
  // RESTORE skips checking payloads (skip-sanitize-payload).
  bool skip_sanitize_payload() const { return sanitize_ == Sanitize::kSkip; }

  // Applies one rule: a user flag ("on", "nopass", ">pw", "reset", ...),
  // a selector "(...)", or a rule of the root selector. On error the user
  // may be half changed: apply to a copy (Users::SetUser does).
  RuleError Apply(std::string_view rule);
  // Rules that rebuild the user: "on #<hash> ~* &* +@all", as ACL LIST
  // shows them after "user <name>".
  std::string Describe() const;
  // Whether `password` is one of the user's (true for nopass); does not
  // look at on/off. Constant time in the password's hash.
  bool PasswordMatches(std::string_view password) const;

  // Allowed if one selector allows all of the request. Otherwise, as
  // Redis chooses: the command if no selector allows it, else the last
  // key or channel refused.
  Verdict Check(const Request& request) const;
  // Whether some selector allows the channel (a pattern: literally).
  bool AllowsChannel(std::string_view channel, bool is_pattern) const;
  // The root selector allows everything, as the default user's does.
  bool unrestricted() const { return selectors_.front().unrestricted(); }
  bool operator==(const User& other) const;

 private:
  enum class Sanitize { kUnset, kSanitize, kSkip };
  RuleError ApplySelector(std::string_view rules);
  RuleError AddPassword(std::string_view rule);
  RuleError RemovePassword(std::string_view rule);

  std::string name_;
  const Catalog* catalog_;
  bool enabled_ = false;
  bool nopass_ = false;
  Sanitize sanitize_ = Sanitize::kUnset;
  std::vector<std::string> passwords_;  // SHA-256 hex
  std::vector<Selector> selectors_;     // [0]: the root selector
};

// Redis's split of SETUSER's rules: a selector given over several words
// ("(~a", "+get)") joined into one. Fails on an unclosed parenthesis,
// giving the index of the word that opened it.
bool MergeSelectorWords(std::span<const std::string_view> words, std::vector<std::string>* out,
                        size_t* unclosed);

}  // namespace quiver::acl
