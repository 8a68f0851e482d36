// The commands a user's permissions name: each with its categories
// (Redis's @read, @write, @admin, ...) and, for a container command
// (CONFIG, CLIENT, ...), its subcommands ("config|get"). Front ends build
// one Catalog at start (the RESP port's commands, the native requests),
// and every user's command bits are indexed by its ids. Immutable once
// built, so read from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace quiver::acl {

// Redis's categories, in the order ACL CAT lists them.
enum Category : int {
  kKeyspace,
  kRead,
  kWrite,
  kSet,
  kSortedSet,
  kList,
  kHash,
  kString,
  kBitmap,
  kHyperLogLog,
  kGeo,
  kStream,
  kPubSub,
  kAdmin,
  kFast,
  kSlow,
  kBlocking,
  kDangerous,
  kConnection,
  kTransaction,
  kScripting,
  kCategoryCount,
};
using Categories = uint32_t;  // a bit per Category
constexpr Categories Bit(Category c) {
  return Categories{1} << c;
}

// The category's name without '@' ("sortedset").
std::string_view CategoryName(Category c);
// The category named (without '@', any case); nullopt if none.
std::optional<Category> FindCategory(std::string_view name);

class Catalog {
 public:
  struct Entry {
    std::string name;  // lower case: "get", "config|get"
    Categories categories = 0;
    int parent = -1;  // a subcommand's container; -1: top level
    std::vector<int> subcommands;
    // Allowed before authentication (AUTH, HELLO): no user is refused it.
    bool no_auth = false;
  };

  // Adds a top-level command; returns its id.
  int Add(std::string_view name, Categories categories, bool no_auth = false);
  // Adds a subcommand of the command with id `parent`; returns its id.
  int AddSubcommand(int parent, std::string_view sub, Categories categories);

  size_t size() const { return entries_.size(); }
  const Entry& at(int id) const { return entries_[static_cast<size_t>(id)]; }
  // The command ("get") or subcommand ("config|get") named, any case; -1
  // if none.
  int Find(std::string_view name) const;
  // The id of `command`'s subcommand `sub` (any case); -1 if none.
  int FindSubcommand(int command, std::string_view sub) const;

 private:
  std::vector<Entry> entries_;
  std::unordered_map<std::string, int> by_name_;
};

}  // namespace quiver::acl
