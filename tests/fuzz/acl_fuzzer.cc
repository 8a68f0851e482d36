// libFuzzer target: arbitrary bytes as the rules of ACL SETUSER (words
// between spaces) and as an ACL file (ACL LOAD, the aclfile at start).
// A rule set is applied whole or not at all; a user that was made
// describes itself in rules that make the same user again (the file form
// ACL SAVE writes); checking requests against it must not crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "security/acl/users.h"
#include "security/acl/words.h"
#include "server/resp/acl_catalog.h"

namespace {

using quiver::acl::Users;

// Redis's file form cannot tell a selector's pattern ending in ')' from
// the selector's end, nor one starting with '(' from a new selector.
bool Ambiguous(const quiver::acl::User& user) {
  for (const auto& s : user.selectors()) {
    for (const auto& k : s.keys())
      if (k.pattern.find_first_of("()") != std::string::npos) return true;
    for (const auto& c : s.channels())
      if (c.find_first_of("()") != std::string::npos) return true;
  }
  return false;
}

// A request of GET, SET or PUBLISH naming the words as keys or channels.
struct Probe : quiver::acl::Request {
  int id = 0;
  std::vector<std::string_view> words;
  int command() const override { return id; }
  std::string_view first_arg() const override { return words.empty() ? "" : words[0]; }
  void ForEachKey(quiver::FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const override {
    for (size_t i = 0; i < words.size(); ++i)
      if (!fn(i + 1, words[i], static_cast<uint8_t>(i % 4))) return;
  }
  void ForEachChannel(quiver::FunctionRef<bool(size_t, std::string_view, bool)> fn) const override {
    for (size_t i = 0; i < words.size(); ++i)
      if (!fn(i + 1, words[i], i % 2 == 0)) return;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const quiver::acl::Catalog& catalog = quiver::resp::AclCatalog();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  Users users(catalog);
  (void)users.SetUser("u", std::vector<std::string_view>{"on", "+get", "~k:*"});
  const std::string before = users.Find("u")->Describe();
  const std::vector<std::string_view> rules = quiver::acl::SplitWords(text);
  if (!users.SetUser("u", rules).ok() && users.Find("u")->Describe() != before) std::abort();
  const auto user = users.Find("u");
  Users again(catalog);
  if (!Ambiguous(*user)) {
    if (!again.Load("user u " + user->Describe() + "\n", "fuzz").ok()) std::abort();
    if (!(*again.Find("u") == *user)) std::abort();
  }
  Probe probe;
  probe.words = rules;
  for (std::string_view name : {"get", "set", "publish", "config|get", "select"}) {
    probe.id = catalog.Find(name);
    (void)user->Check(probe);
  }
  (void)again.Load(text, "fuzz");  // any text: loaded whole, or refused
  return 0;
}
