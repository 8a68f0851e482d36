#include "security/acl/catalog.h"

#include <array>

#include "util/ascii.h"

namespace quiver::acl {

namespace {

constexpr std::array<std::string_view, kCategoryCount> kNames = {
    "keyspace", "read",   "write",       "set",       "sortedset",  "list",        "hash",
    "string",   "bitmap", "hyperloglog", "geo",       "stream",     "pubsub",      "admin",
    "fast",     "slow",   "blocking",    "dangerous", "connection", "transaction", "scripting",
};

}  // namespace

std::string_view CategoryName(Category c) {
  return kNames[static_cast<size_t>(c)];
}

std::optional<Category> FindCategory(std::string_view name) {
  for (size_t i = 0; i < kNames.size(); ++i) {
    if (EqualsNoCase(name, kNames[i])) return static_cast<Category>(i);
  }
  return std::nullopt;
}

int Catalog::Add(std::string_view name, Categories categories, bool no_auth) {
  const int id = static_cast<int>(entries_.size());
  entries_.push_back(Entry{AsciiLowerCopy(name), categories, -1, {}, no_auth});
  by_name_.emplace(entries_.back().name, id);
  return id;
}

int Catalog::AddSubcommand(int parent, std::string_view sub, Categories categories) {
  const int id = static_cast<int>(entries_.size());
  std::string name = entries_[static_cast<size_t>(parent)].name + "|" + AsciiLowerCopy(sub);
  entries_.push_back(Entry{std::move(name), categories, parent, {}, false});
  entries_[static_cast<size_t>(parent)].subcommands.push_back(id);
  by_name_.emplace(entries_.back().name, id);
  return id;
}

int Catalog::Find(std::string_view name) const {
  auto it = by_name_.find(AsciiLowerCopy(name));
  return it == by_name_.end() ? -1 : it->second;
}

int Catalog::FindSubcommand(int command, std::string_view sub) const {
  if (entries_[static_cast<size_t>(command)].subcommands.empty()) return -1;
  return Find(entries_[static_cast<size_t>(command)].name + "|" + std::string(sub));
}

}  // namespace quiver::acl
