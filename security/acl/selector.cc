#include "security/acl/selector.h"

#include <algorithm>

#include "security/acl/words.h"
#include "util/ascii.h"
#include "util/glob.h"

namespace quiver::acl {

std::string_view RuleErrorText(RuleError e) {
  switch (e) {
    case RuleError::kNone:
      return "";
    case RuleError::kSyntax:
      return "Syntax error";
    case RuleError::kUnknownName:
      return "Unknown command or category name in ACL";
    case RuleError::kKeysAfterAll:
      return "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does "
             "not have any effect. Try 'resetkeys' to start with an empty list of patterns";
    case RuleError::kChannelsAfterAll:
      return "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and "
             "does not have any effect. Try 'resetchannels' to start with an empty list of "
             "channels";
    case RuleError::kNoSuchPassword:
      return "The password you are trying to remove from the user does not exist";
    case RuleError::kBadHash:
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    case RuleError::kFirstArgOfSub:
      return "Allowing first-arg of a subcommand is not supported";
    case RuleError::kUnmatchedParen:
      return "Unmatched parenthesis in acl selector";
  }
  return "Wrong format";
}

Selector::Selector(const Catalog& catalog)
    : catalog_(&catalog), bits_((catalog.size() + 63) / 64, 0) {}

bool Selector::unrestricted() const {
  return all_commands_ && all_keys_ && all_channels_;
}

bool Selector::operator==(const Selector& o) const {
  return bits_ == o.bits_ && first_args_ == o.first_args_ && rules_ == o.rules_ &&
         all_commands_ == o.all_commands_ && future_ == o.future_ && all_keys_ == o.all_keys_ &&
         all_channels_ == o.all_channels_ && keys_ == o.keys_ && channels_ == o.channels_;
}

RuleError Selector::Apply(std::string_view rule) {
  if (EqualsNoCase(rule, "allkeys") || rule == "~*") {
    all_keys_ = true;
    keys_.clear();
  } else if (EqualsNoCase(rule, "resetkeys")) {
    all_keys_ = false;
    keys_.clear();
  } else if (EqualsNoCase(rule, "allchannels") || rule == "&*") {
    all_channels_ = true;
    channels_.clear();
  } else if (EqualsNoCase(rule, "resetchannels")) {
    all_channels_ = false;
    channels_.clear();
  } else if (EqualsNoCase(rule, "allcommands") || EqualsNoCase(rule, "+@all")) {
    SetAll(true);
  } else if (EqualsNoCase(rule, "nocommands") || EqualsNoCase(rule, "-@all")) {
    SetAll(false);
  } else if (rule.starts_with('~') || rule.starts_with('%')) {
    return ApplyKeyPattern(rule);
  } else if (rule.starts_with('&')) {
    return ApplyChannel(rule);
  } else if (rule.starts_with("+@") || rule.starts_with("-@")) {
    return ApplyCategory(rule.substr(2), rule[0] == '+');
  } else if (rule.starts_with('+') || rule.starts_with('-')) {
    return ApplyCommand(rule.substr(1), rule[0] == '+');
  } else {
    return RuleError::kSyntax;
  }
  return RuleError::kNone;
}

void Selector::SetAll(bool allow) {
  std::fill(bits_.begin(), bits_.end(), allow ? ~uint64_t{0} : 0);
  all_commands_ = future_ = allow;
  rules_.clear();
  first_args_.clear();
}

void Selector::SetCommand(int id, bool allow) {
  const auto bit = static_cast<size_t>(id);
  if (allow) {
    bits_[bit / 64] |= uint64_t{1} << (bit % 64);
    // Every command again since +@all: the fast path, as +@all alone gives.
    all_commands_ = future_ && std::all_of(bits_.begin(), bits_.end(),
                                           [](uint64_t w) { return w == ~uint64_t{0}; });
  } else {
    bits_[bit / 64] &= ~(uint64_t{1} << (bit % 64));
    all_commands_ = false;
  }
  first_args_.erase(id);
  for (int sub : catalog_->at(id).subcommands)
    SetCommand(sub, allow);
}

RuleError Selector::ApplyKeyPattern(std::string_view rule) {
  if (all_keys_) return RuleError::kKeysAfterAll;
  uint8_t access = kFullAccess;
  size_t offset = 1;
  if (rule[0] == '%') {
    access = 0;
    for (; offset < rule.size() && rule[offset] != '~'; ++offset) {
      const char c = static_cast<char>(AsciiLower(rule[offset]));
      const uint8_t flag = c == 'r' ? kReadAccess : c == 'w' ? kWriteAccess : 0;
      if (flag == 0 || (access & flag)) return RuleError::kSyntax;
      access |= flag;
    }
    if (access == 0 || offset == rule.size()) return RuleError::kSyntax;
    ++offset;  // the '~'
  }
  const std::string_view pattern = rule.substr(offset);
  if (HasSpaces(pattern)) return RuleError::kSyntax;
  auto same = std::find_if(keys_.begin(), keys_.end(),
                           [&](const KeyPattern& k) { return k.pattern == pattern; });
  if (same == keys_.end()) {
    same = keys_.insert(keys_.end(), KeyPattern{std::string(pattern), access});
  } else {
    same->access |= access;
  }
  if (same->pattern == "*" && same->access == kFullAccess) {
    // "%RW~*", or "%R~*" and "%W~*": every key, as "~*" is (and describes).
    all_keys_ = true;
    keys_.clear();
  }
  return RuleError::kNone;
}

RuleError Selector::ApplyChannel(std::string_view rule) {
  if (all_channels_) return RuleError::kChannelsAfterAll;
  const std::string_view pattern = rule.substr(1);
  if (HasSpaces(pattern)) return RuleError::kSyntax;
  if (std::find(channels_.begin(), channels_.end(), pattern) == channels_.end())
    channels_.emplace_back(pattern);
  return RuleError::kNone;
}

RuleError Selector::ApplyCommand(std::string_view name, bool allow) {
  const size_t bar = name.rfind('|');
  if (!allow || bar == std::string_view::npos) {
    const int id = catalog_->Find(name);
    if (id < 0) return RuleError::kUnknownName;
    SetCommand(id, allow);
    UpdateRules(catalog_->at(id).name, allow);
    return RuleError::kNone;
  }
  const int command = catalog_->Find(name.substr(0, bar));
  if (command < 0) return RuleError::kUnknownName;
  if (catalog_->at(command).parent >= 0) return RuleError::kFirstArgOfSub;
  const std::string_view arg = name.substr(bar + 1);
  if (arg.empty() || HasSpaces(arg)) return RuleError::kSyntax;  // it could not be saved
  if (!catalog_->at(command).subcommands.empty()) {
    const int id = catalog_->Find(name);
    if (id < 0) return RuleError::kUnknownName;
    SetCommand(id, true);
  } else {
    // The deprecated form: one first argument of a command refused
    // otherwise ("+select|0").
    // Kept in the order of the rules, which describe them: a repeated one
    // moves last, as its rule does.
    std::vector<std::string>& args = first_args_[command];
    std::string lower = AsciiLowerCopy(arg);
    std::erase(args, lower);
    args.push_back(std::move(lower));
  }
  UpdateRules(AsciiLowerCopy(name), true);
  return RuleError::kNone;
}

RuleError Selector::ApplyCategory(std::string_view name, bool allow) {
  const std::optional<Category> category = FindCategory(name);
  if (!category) return RuleError::kUnknownName;
  UpdateRules("@" + std::string(CategoryName(*category)), allow);
  for (size_t id = 0; id < catalog_->size(); ++id) {
    if (catalog_->at(static_cast<int>(id)).categories & Bit(*category))
      SetCommand(static_cast<int>(id), allow);
  }
  return RuleError::kNone;
}

void Selector::UpdateRules(std::string_view rule, bool allow) {
  std::string kept;
  size_t start = 0;
  while (start < rules_.size()) {
    size_t end = rules_.find(' ', start);
    if (end == std::string::npos) end = rules_.size();
    const std::string_view token = std::string_view(rules_).substr(start, end - start);
    const std::string_view target = token.substr(1);  // "+get" -> "get"
    const bool same = target == rule || (target.size() > rule.size() && target.starts_with(rule) &&
                                         target[rule.size()] == '|');
    if (!same) {
      if (!kept.empty()) kept += ' ';
      kept += token;
    }
    start = end + 1;
  }
  if (!kept.empty()) kept += ' ';
  kept += allow ? '+' : '-';
  kept += rule;
  rules_ = std::move(kept);
}

std::string Selector::CommandRules() const {
  std::string out = future_ ? "+@all" : "-@all";
  if (!rules_.empty()) out += " " + rules_;
  return out;
}

std::string Selector::Describe() const {
  std::string out;
  if (all_keys_) {
    out += "~* ";
  } else {
    for (const KeyPattern& k : keys_) {
      out += k.access == kReadAccess ? "%R~" : k.access == kWriteAccess ? "%W~" : "~";
      out += k.pattern + " ";
    }
  }
  if (all_channels_) {
    out += "&* ";
  } else {
    out += "resetchannels ";
    for (const std::string& c : channels_)
      out += "&" + c + " ";
  }
  return out + CommandRules();
}

bool Selector::AllowsCommand(int id, std::string_view first_arg) const {
  if (all_commands_ || catalog_->at(id).no_auth) return true;
  const auto bit = static_cast<size_t>(id);
  if (bits_[bit / 64] & (uint64_t{1} << (bit % 64))) return true;
  auto it = first_args_.find(id);
  if (it == first_args_.end() || first_arg.empty()) return false;
  return std::any_of(it->second.begin(), it->second.end(),
                     [&](const std::string& a) { return EqualsNoCase(a, first_arg); });
}

bool Selector::AllowsKey(std::string_view key, uint8_t access) const {
  if (all_keys_) return true;
  return std::any_of(keys_.begin(), keys_.end(), [&](const KeyPattern& k) {
    return (k.access & access) == access && GlobMatch(k.pattern, key);
  });
}

bool Selector::AllowsChannel(std::string_view channel, bool is_pattern) const {
  if (all_channels_) return true;
  return std::any_of(channels_.begin(), channels_.end(), [&](const std::string& c) {
    return is_pattern ? c == channel : GlobMatch(c, channel);
  });
}

Verdict Selector::Check(const Request& request) const {
  if (!AllowsCommand(request.command(), request.first_arg())) return {Denial::kCommand, 0};
  Verdict verdict;
  if (!all_keys_) {
    request.ForEachKey([&](size_t pos, std::string_view key, uint8_t access) {
      if (AllowsKey(key, access)) return true;
      verdict = {Denial::kKey, pos};
      return false;
    });
    if (verdict.denial != Denial::kNone) return verdict;
  }
  if (!all_channels_) {
    request.ForEachChannel([&](size_t pos, std::string_view channel, bool is_pattern) {
      if (AllowsChannel(channel, is_pattern)) return true;
      verdict = {Denial::kChannel, pos};
      return false;
    });
  }
  return verdict;
}

}  // namespace quiver::acl
