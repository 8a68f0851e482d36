// A selector: one set of permissions of a user (Redis 7). The commands it
// allows (a bit per Catalog id, with the rules that set them, kept in
// order so that they describe themselves back), the key patterns with
// their read and write access, the channel patterns. A user has a root
// selector and any number of others; a request is allowed if one of them
// allows all of it.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "security/acl/catalog.h"
#include "util/function_ref.h"

namespace quiver::acl {

// Key access a request needs, or a pattern grants.
enum Access : uint8_t {
  kReadAccess = 1,
  kWriteAccess = 2,
  kFullAccess = 3,
};

// Why a rule was refused; the texts are Redis's (RuleErrorText).
enum class RuleError {
  kNone,
  kSyntax,            // EINVAL
  kUnknownName,       // ENOENT: no such command or category
  kKeysAfterAll,      // EEXIST
  kChannelsAfterAll,  // EISDIR
  kNoSuchPassword,    // ENODEV
  kBadHash,           // EBADMSG
  kFirstArgOfSub,     // ECHILD
  kUnmatchedParen,
};
std::string_view RuleErrorText(RuleError e);

struct KeyPattern {
  std::string pattern;
  uint8_t access = kFullAccess;
  bool operator==(const KeyPattern&) const = default;
};

// What a request names that a selector may refuse. The front end gives
// its command's id and finds its keys and channels only when asked.
class Request {
 public:
  virtual ~Request() = default;
  virtual int command() const = 0;
  // The word after the command (or after a subcommand), for the deprecated
  // "+select|0" first-argument rules; empty if none.
  virtual std::string_view first_arg() const = 0;
  // Calls fn(position, key, access needed) for each key; stops early if fn
  // returns false.
  virtual void ForEachKey(FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const = 0;
  // Calls fn(position, channel, is_pattern) for each channel published or
  // subscribed to; stops early if fn returns false.
  virtual void ForEachChannel(FunctionRef<bool(size_t, std::string_view, bool)> fn) const = 0;
};

enum class Denial { kNone, kCommand, kKey, kChannel };
struct Verdict {
  Denial denial = Denial::kNone;
  size_t position = 0;  // of the key or channel refused
};

class Selector {
 public:
  explicit Selector(const Catalog& catalog);

  // Applies one rule ("+get", "~app:*", "%R~x", "&chan", "allkeys", ...).
  RuleError Apply(std::string_view rule);
  // "~* &* +@all", "%R~a resetchannels &c -@all +get": rules that rebuild it.
  std::string Describe() const;
  Verdict Check(const Request& request) const;
  bool AllowsCommand(int id, std::string_view first_arg) const;
  bool AllowsKey(std::string_view key, uint8_t access) const;
  bool AllowsChannel(std::string_view channel, bool is_pattern) const;

  const Catalog& catalog() const { return *catalog_; }
  bool all_keys() const { return all_keys_; }
  bool all_channels() const { return all_channels_; }
  bool all_commands() const { return all_commands_; }
  // Everything: no check can refuse a request.
  bool unrestricted() const;
  const std::vector<KeyPattern>& keys() const { return keys_; }
  const std::vector<std::string>& channels() const { return channels_; }
  // The command rules in order, from +@all or -@all ("+@all -get").
  std::string CommandRules() const;
  bool operator==(const Selector& other) const;

 private:
  void SetAll(bool allow);
  void SetCommand(int id, bool allow);  // and its subcommands
  RuleError ApplyKeyPattern(std::string_view rule);
  RuleError ApplyChannel(std::string_view rule);
  RuleError ApplyCommand(std::string_view rule, bool allow);
  RuleError ApplyCategory(std::string_view name, bool allow);
  // Records "+rule" or "-rule" last, removing earlier rules of it.
  void UpdateRules(std::string_view rule, bool allow);

  const Catalog* catalog_;
  std::vector<uint64_t> bits_;                          // a bit per catalog id
  std::map<int, std::vector<std::string>> first_args_;  // by command id
  std::string rules_;                                   // "+@read -get"
  bool all_commands_ = false;                           // +@all, and nothing taken away since
  bool future_ = false;  // +@all since the last -@all: describes as "+@all ..."
  bool all_keys_ = false;
  bool all_channels_ = false;
  std::vector<KeyPattern> keys_;
  std::vector<std::string> channels_;
};

}  // namespace quiver::acl
