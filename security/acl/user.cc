#include "security/acl/user.h"

#include <algorithm>

#include "security/acl/password.h"
#include "security/acl/words.h"
#include "util/ascii.h"

namespace quiver::acl {

User::User(std::string name, const Catalog& catalog) : name_(std::move(name)), catalog_(&catalog) {
  selectors_.emplace_back(catalog);
}

bool User::operator==(const User& o) const {
  return name_ == o.name_ && enabled_ == o.enabled_ && nopass_ == o.nopass_ &&
         sanitize_ == o.sanitize_ && passwords_ == o.passwords_ && selectors_ == o.selectors_;
}

RuleError User::Apply(std::string_view rule) {
  if (rule.empty()) return RuleError::kNone;
  if (EqualsNoCase(rule, "on") || EqualsNoCase(rule, "off")) {
    enabled_ = EqualsNoCase(rule, "on");
  } else if (EqualsNoCase(rule, "skip-sanitize-payload")) {
    sanitize_ = Sanitize::kSkip;
  } else if (EqualsNoCase(rule, "sanitize-payload")) {
    sanitize_ = Sanitize::kSanitize;
  } else if (EqualsNoCase(rule, "nopass") || EqualsNoCase(rule, "resetpass")) {
    nopass_ = EqualsNoCase(rule, "nopass");
    passwords_.clear();
  } else if (rule[0] == '>' || rule[0] == '#') {
    return AddPassword(rule);
  } else if (rule[0] == '<' || rule[0] == '!') {
    return RemovePassword(rule);
  } else if (rule[0] == '(' && rule.back() == ')') {
    return ApplySelector(rule.substr(1, rule.size() - 2));
  } else if (EqualsNoCase(rule, "clearselectors")) {
    selectors_.erase(selectors_.begin() + 1, selectors_.end());
  } else if (EqualsNoCase(rule, "reset")) {
    for (std::string_view r : {"resetpass", "resetkeys", "resetchannels", "off", "sanitize-payload",
                               "clearselectors", "-@all"})
      (void)Apply(r);
  } else {
    return selectors_.front().Apply(rule);
  }
  return RuleError::kNone;
}

namespace {

// The hash a password rule names: of its password (">pw", "<pw"), or
// given ("#hash", "!hash"); false if a given hash is malformed.
bool RuleHash(std::string_view rule, std::string* hash) {
  if (rule[0] == '>' || rule[0] == '<') {
    *hash = HashPassword(rule.substr(1));
    return true;
  }
  *hash = std::string(rule.substr(1));
  return ValidHash(*hash);
}

}  // namespace

RuleError User::AddPassword(std::string_view rule) {
  std::string hash;
  if (!RuleHash(rule, &hash)) return RuleError::kBadHash;
  if (std::find(passwords_.begin(), passwords_.end(), hash) == passwords_.end())
    passwords_.push_back(std::move(hash));
  nopass_ = false;
  return RuleError::kNone;
}

RuleError User::RemovePassword(std::string_view rule) {
  std::string hash;
  if (!RuleHash(rule, &hash)) return RuleError::kBadHash;
  auto it = std::find(passwords_.begin(), passwords_.end(), hash);
  if (it == passwords_.end()) return RuleError::kNoSuchPassword;
  passwords_.erase(it);
  return RuleError::kNone;
}

RuleError User::ApplySelector(std::string_view rules) {
  Selector selector(*catalog_);
  for (std::string_view rule : SplitWords(rules)) {
    if (RuleError e = selector.Apply(rule); e != RuleError::kNone) return e;
  }
  selectors_.push_back(std::move(selector));
  return RuleError::kNone;
}

std::string User::Describe() const {
  std::string out = enabled_ ? "on " : "off ";
  if (nopass_) out += "nopass ";
  if (sanitize_ == Sanitize::kSkip) out += "skip-sanitize-payload ";
  if (sanitize_ == Sanitize::kSanitize) out += "sanitize-payload ";
  for (const std::string& hash : passwords_)
    out += "#" + hash + " ";
  out += selectors_.front().Describe();
  for (size_t i = 1; i < selectors_.size(); ++i)
    out += " (" + selectors_[i].Describe() + ")";
  return out;
}

bool User::PasswordMatches(std::string_view password) const {
  if (nopass_) return true;
  const std::string hash = HashPassword(password);
  bool match = false;
  for (const std::string& p : passwords_)
    match |= EqualInConstantTime(hash, p);
  return match;
}

Verdict User::Check(const Request& request) const {
  Verdict relevant{Denial::kCommand, 0};
  for (const Selector& s : selectors_) {
    const Verdict v = s.Check(request);
    if (v.denial == Denial::kNone) return v;
    if (v.denial > relevant.denial ||
        (v.denial == relevant.denial && v.position > relevant.position))
      relevant = v;
  }
  return relevant;
}

bool User::AllowsChannel(std::string_view channel, bool is_pattern) const {
  return std::any_of(selectors_.begin(), selectors_.end(),
                     [&](const Selector& s) { return s.AllowsChannel(channel, is_pattern); });
}

bool MergeSelectorWords(std::span<const std::string_view> words, std::vector<std::string>* out,
                        size_t* unclosed) {
  std::string open;
  size_t opened_at = 0;
  bool in_selector = false;
  for (size_t i = 0; i < words.size(); ++i) {
    const std::string_view w = words[i];
    if (!in_selector && !w.empty() && w.front() == '(' && w.back() != ')') {
      open = std::string(w);
      opened_at = i;
      in_selector = true;
    } else if (in_selector) {
      open += " " + std::string(w);
      if (!w.empty() && w.back() == ')') {
        out->push_back(std::move(open));
        in_selector = false;
      }
    } else {
      out->emplace_back(w);
    }
  }
  if (in_selector) *unclosed = opened_at;
  return !in_selector;
}

}  // namespace quiver::acl
