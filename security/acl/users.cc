#include "security/acl/users.h"

#include <algorithm>

#include "security/acl/words.h"

namespace quiver::acl {

namespace {

std::string_view Trim(std::string_view s) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; };
  while (!s.empty() && space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && space(s.back()))
    s.remove_suffix(1);
  return s;
}

}  // namespace

Users::Users(const Catalog& catalog, std::string_view requirepass)
    : catalog_(catalog), requirepass_(requirepass) {
  users_.emplace(std::string(kDefaultUser), MakeDefault(requirepass));
}

std::shared_ptr<const User> Users::MakeDefault(std::string_view requirepass) const {
  auto user = std::make_shared<User>(std::string(kDefaultUser), catalog_);
  for (std::string_view rule : {"+@all", "~*", "&*", "on", "nopass"})
    (void)user->Apply(rule);
  if (!requirepass.empty()) (void)user->Apply(">" + std::string(requirepass));
  return user;
}

std::shared_ptr<const User> Users::Find(std::string_view name) const {
  std::lock_guard lock(mu_);
  auto it = users_.find(name);
  return it == users_.end() ? nullptr : it->second;
}

std::shared_ptr<const User> Users::Default() const {
  return Find(kDefaultUser);
}

std::vector<std::string> Users::Names() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, user] : users_)
    out.push_back(name);
  return out;
}

std::vector<std::shared_ptr<const User>> Users::All() const {
  std::lock_guard lock(mu_);
  std::vector<std::shared_ptr<const User>> out;
  for (const auto& [name, user] : users_)
    out.push_back(user);
  return out;
}

Status Users::SetUser(std::string_view name, std::span<const std::string_view> rules) {
  std::lock_guard writing(write_mu_);
  std::vector<std::string> merged;
  size_t unclosed = 0;
  if (!MergeSelectorWords(rules, &merged, &unclosed)) {
    return Status::InvalidArgument("Unmatched parenthesis in acl selector starting at '" +
                                   std::string(rules[unclosed]) + "'.");
  }
  std::shared_ptr<const User> old = Find(name);
  auto user =
      old ? std::make_shared<User>(*old) : std::make_shared<User>(std::string(name), catalog_);
  for (const std::string& rule : merged) {
    if (RuleError e = user->Apply(rule); e != RuleError::kNone) {
      return Status::InvalidArgument("Error in ACL SETUSER modifier '" + rule +
                                     "': " + std::string(RuleErrorText(e)));
    }
  }
  std::lock_guard lock(mu_);
  users_.insert_or_assign(std::string(name), std::move(user));
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

bool Users::DelUser(std::string_view name) {
  std::lock_guard writing(write_mu_);
  std::lock_guard lock(mu_);
  auto it = users_.find(name);
  if (it == users_.end() || it->first == kDefaultUser) return false;
  users_.erase(it);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return true;
}

void Users::SetDefaultPassword(std::string_view requirepass) {
  std::lock_guard writing(write_mu_);
  requirepass_ = std::string(requirepass);
  std::shared_ptr<const User> old = Default();
  auto user = std::make_shared<User>(*old);
  (void)user->Apply("resetpass");
  (void)user->Apply(requirepass.empty() ? std::string("nopass") : ">" + std::string(requirepass));
  std::lock_guard lock(mu_);
  users_.insert_or_assign(std::string(kDefaultUser), std::move(user));
  generation_.fetch_add(1, std::memory_order_acq_rel);
}

std::shared_ptr<const User> Users::Authenticate(std::string_view name,
                                                std::string_view password) const {
  std::shared_ptr<const User> user = Find(name);
  if (user == nullptr || !user->enabled() || !user->PasswordMatches(password)) return nullptr;
  return user;
}

std::string Users::Save() const {
  std::string out;
  for (const auto& user : All())
    out += "user " + user->name() + " " + user->Describe() + "\n";
  return out;
}

Users::Map Users::Parse(std::string_view text, std::string_view source, std::string* errors) const {
  Map users;
  size_t line_no = 0, start = 0;
  while (start <= text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = Trim(text.substr(start, end - start));
    start = end + 1;
    ++line_no;
    if (line.empty()) continue;
    const std::string where = std::string(source) + ":" + std::to_string(line_no);
    const std::vector<std::string_view> words = SplitWords(line);
    if (words.size() < 2 || words[0] != "user") {
      *errors += where + " should start with user keyword followed by the username. ";
      continue;
    }
    if (HasSpaces(words[1])) {
      *errors +=
          "'" + where + ": username '" + std::string(words[1]) + "' contains invalid characters. ";
      continue;
    }
    if (users.count(words[1])) {
      *errors += "WARNING: Duplicate user '" + std::string(words[1]) + "' found on line " +
                 std::to_string(line_no) + ". ";
      continue;
    }
    std::vector<std::string> rules;
    size_t unclosed = 0;
    if (!MergeSelectorWords(std::span(words).subspan(2), &rules, &unclosed)) {
      *errors += where + ": Unmatched parenthesis in selector definition. ";
      continue;
    }
    auto user = std::make_shared<User>(std::string(words[1]), catalog_);
    for (const std::string& rule : rules) {
      if (RuleError e = user->Apply(rule); e != RuleError::kNone) {
        *errors += where + ": Error in applying operation '" + rule +
                   "': " + std::string(RuleErrorText(e)) + ". ";
        break;
      }
    }
    users.emplace(std::string(words[1]), std::move(user));
  }
  return users;
}

Status Users::Load(std::string_view text, std::string_view source) {
  std::lock_guard writing(write_mu_);
  std::string errors;
  Map users = Parse(text, source, &errors);
  if (!errors.empty()) {
    return Status::InvalidArgument(
        errors +
        "WARNING: ACL errors detected, no change to the previously active ACL rules was "
        "performed");
  }
  if (!users.count(kDefaultUser))
    users.emplace(std::string(kDefaultUser), MakeDefault(requirepass_));
  std::lock_guard lock(mu_);
  users_ = std::move(users);
  generation_.fetch_add(1, std::memory_order_acq_rel);
  return Status::Ok();
}

}  // namespace quiver::acl
