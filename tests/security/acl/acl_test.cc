// The ACL model without a server: rules, their descriptions, checks, the
// users' registry and file form, the log.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "security/acl/acl_log.h"
#include "security/acl/password.h"
#include "security/acl/users.h"

namespace quiver::acl {
namespace {

// A small catalog: get (read string fast), set (write string slow),
// publish (pubsub fast), keys (read keyspace dangerous), config with get
// and set (admin dangerous), select, auth (no auth).
Catalog TestCatalog() {
  Catalog c;
  c.Add("get", Bit(kRead) | Bit(kString) | Bit(kFast));
  c.Add("set", Bit(kWrite) | Bit(kString) | Bit(kSlow));
  c.Add("publish", Bit(kPubSub) | Bit(kFast));
  c.Add("keys", Bit(kRead) | Bit(kKeyspace) | Bit(kSlow) | Bit(kDangerous));
  const int config = c.Add("config", 0);
  c.AddSubcommand(config, "get", Bit(kAdmin) | Bit(kSlow) | Bit(kDangerous));
  c.AddSubcommand(config, "set", Bit(kAdmin) | Bit(kSlow) | Bit(kDangerous));
  c.Add("select", Bit(kConnection) | Bit(kFast));
  c.Add("auth", Bit(kConnection) | Bit(kFast), /*no_auth=*/true);
  return c;
}

// A request of a command with keys (each needing `access`) and channels.
struct TestRequest : Request {
  int id;
  std::string first;
  std::vector<std::string> keys;
  uint8_t access = kFullAccess;
  std::vector<std::string> channels;
  bool pattern = false;

  int command() const override { return id; }
  std::string_view first_arg() const override { return first; }
  void ForEachKey(FunctionRef<bool(size_t, std::string_view, uint8_t)> fn) const override {
    for (size_t i = 0; i < keys.size(); ++i)
      if (!fn(i + 1, keys[i], access)) return;
  }
  void ForEachChannel(FunctionRef<bool(size_t, std::string_view, bool)> fn) const override {
    for (size_t i = 0; i < channels.size(); ++i)
      if (!fn(i + 1, channels[i], pattern)) return;
  }
};

class AclTest : public ::testing::Test {
 protected:
  Catalog catalog = TestCatalog();
  Users users{catalog};

  Status Set(std::string_view name, std::vector<std::string_view> rules) {
    return users.SetUser(name, rules);
  }
  std::string Describe(std::string_view name) { return users.Find(name)->Describe(); }
  Denial Check(std::string_view user, std::string_view command, std::vector<std::string> keys = {},
               uint8_t access = kFullAccess) {
    TestRequest r;
    r.id = catalog.Find(command);
    r.keys = std::move(keys);
    r.access = access;
    return users.Find(user)->Check(r).denial;
  }
};

TEST_F(AclTest, TheDefaultUserMayDoAnythingWithoutAPassword) {
  EXPECT_EQ(Describe("default"), "on nopass ~* &* +@all");
  EXPECT_TRUE(users.Default()->unrestricted());
  EXPECT_NE(users.Authenticate("default", "anything"), nullptr);
  users.SetDefaultPassword("secret");
  EXPECT_EQ(users.Authenticate("default", "anything"), nullptr);
  EXPECT_NE(users.Authenticate("default", "secret"), nullptr);
  EXPECT_EQ(Describe("default"), "on #" + HashPassword("secret") + " ~* &* +@all");
}

TEST_F(AclTest, ANewUserIsOffAndMayDoNothing) {
  ASSERT_TRUE(Set("bob", {}).ok());
  EXPECT_EQ(Describe("bob"), "off resetchannels -@all");
  EXPECT_EQ(Check("bob", "get", {"k"}), Denial::kCommand);
  EXPECT_EQ(Check("bob", "auth"), Denial::kNone);  // allowed before authentication
  EXPECT_EQ(users.Authenticate("bob", ""), nullptr);
}

TEST_F(AclTest, RulesDescribeThemselvesAsRedisDoes) {
  ASSERT_TRUE(Set("alice", {"on", ">pw", "~app:*", "&chan*", "+@read", "+set", "-get"}).ok());
  EXPECT_EQ(Describe("alice"),
            "on #" + HashPassword("pw") + " ~app:* resetchannels &chan* -@all +@read +set -get");
  ASSERT_TRUE(Set("alice", {"+get"}).ok());  // replaces the earlier -get
  EXPECT_EQ(users.Find("alice")->root().CommandRules(), "-@all +@read +set +get");
  ASSERT_TRUE(Set("carol", {"allcommands", "-config|set", "%R~r:*", "%W~w:*", "%RW~b:*"}).ok());
  EXPECT_EQ(Describe("carol"), "off %R~r:* %W~w:* ~b:* resetchannels +@all -config|set");
}

TEST_F(AclTest, CommandsCategoriesAndSubcommands) {
  ASSERT_TRUE(Set("u", {"on", "nopass", "allkeys", "+@read", "-@dangerous", "+config|get"}).ok());
  EXPECT_EQ(Check("u", "get", {"k"}), Denial::kNone);
  EXPECT_EQ(Check("u", "keys"), Denial::kCommand);  // read, but dangerous
  EXPECT_EQ(Check("u", "set", {"k"}), Denial::kCommand);
  EXPECT_EQ(Check("u", "config|get"), Denial::kNone);
  EXPECT_EQ(Check("u", "config|set"), Denial::kCommand);
  ASSERT_TRUE(Set("u", {"-config"}).ok());  // the container takes its subcommands with it
  EXPECT_EQ(Check("u", "config|get"), Denial::kCommand);
  EXPECT_EQ(users.Find("u")->root().CommandRules(), "-@all +@read -@dangerous -config");
}

TEST_F(AclTest, KeyPatternsGrantReadAndWriteSeparately) {
  ASSERT_TRUE(Set("u", {"on", "+@all", "%R~r:*", "%W~w:*", "~both:*"}).ok());
  EXPECT_EQ(Check("u", "get", {"r:1"}, kReadAccess), Denial::kNone);
  EXPECT_EQ(Check("u", "get", {"w:1"}, kReadAccess), Denial::kKey);
  EXPECT_EQ(Check("u", "set", {"w:1"}, kWriteAccess), Denial::kNone);
  EXPECT_EQ(Check("u", "set", {"r:1"}, kWriteAccess), Denial::kKey);
  EXPECT_EQ(Check("u", "set", {"both:1"}, kFullAccess), Denial::kNone);
  EXPECT_EQ(Check("u", "set", {"w:1"}, kFullAccess), Denial::kKey);
  EXPECT_EQ(Check("u", "get", {"other"}, 0), Denial::kKey);  // must match some pattern
}

TEST_F(AclTest, ChannelsMatchAsPatternsButSubscribedPatternsLiterally) {
  ASSERT_TRUE(Set("u", {"on", "+@all", "&news.*"}).ok());
  TestRequest r;
  r.id = catalog.Find("publish");
  r.channels = {"news.sport"};
  EXPECT_EQ(users.Find("u")->Check(r).denial, Denial::kNone);
  r.pattern = true;  // PSUBSCRIBE news.sport: not a pattern the user has
  EXPECT_EQ(users.Find("u")->Check(r).denial, Denial::kChannel);
  r.channels = {"news.*"};
  EXPECT_EQ(users.Find("u")->Check(r).denial, Denial::kNone);
}

TEST_F(AclTest, SelectorsAllowWhatAnyOfThemAllows) {
  ASSERT_TRUE(Set("u", {"on", "+get", "~a:*", "(+set", "~b:*)"}).ok());
  EXPECT_EQ(Describe("u"), "on ~a:* resetchannels -@all +get (~b:* resetchannels -@all +set)");
  EXPECT_EQ(Check("u", "get", {"a:1"}), Denial::kNone);
  EXPECT_EQ(Check("u", "set", {"b:1"}), Denial::kNone);
  EXPECT_EQ(Check("u", "set", {"a:1"}), Denial::kKey);  // the selector of set refuses a:1
  EXPECT_EQ(Check("u", "keys"), Denial::kCommand);
  ASSERT_TRUE(Set("u", {"clearselectors"}).ok());
  EXPECT_EQ(Check("u", "set", {"b:1"}), Denial::kCommand);
}

TEST_F(AclTest, AWrongRuleChangesNothingAndSaysWhy) {
  ASSERT_TRUE(Set("u", {"on", ">pw", "+get"}).ok());
  const std::string before = Describe("u");
  const std::vector<std::pair<std::vector<std::string_view>, std::string>> cases = {
      {{"+set", "+nosuch"},
       "Error in ACL SETUSER modifier '+nosuch': Unknown command or category name in ACL"},
      {{"+@nosuch"},
       "Error in ACL SETUSER modifier '+@nosuch': Unknown command or category name in ACL"},
      {{"bogus"}, "Error in ACL SETUSER modifier 'bogus': Syntax error"},
      {{"%X~a"}, "Error in ACL SETUSER modifier '%X~a': Syntax error"},
      {{"<nope"},
       "Error in ACL SETUSER modifier '<nope': The password you are trying to remove from the user "
       "does not exist"},
      {{"#abc"},
       "Error in ACL SETUSER modifier '#abc': The password hash must be exactly 64 characters and "
       "contain only lowercase hexadecimal characters"},
      {{"allkeys", "~x"},
       "Error in ACL SETUSER modifier '~x': " +
           std::string(RuleErrorText(RuleError::kKeysAfterAll))},
      {{"allchannels", "&x"},
       "Error in ACL SETUSER modifier '&x': " +
           std::string(RuleErrorText(RuleError::kChannelsAfterAll))},
      {{"+config|get|x"},
       "Error in ACL SETUSER modifier '+config|get|x': Allowing first-arg of a subcommand is not "
       "supported"},
      {{"(+get", "~a"}, "Unmatched parenthesis in acl selector starting at '(+get'."},
  };
  for (const auto& [rules, error] : cases) {
    Status s = Set("u", rules);
    EXPECT_EQ(s.message(), error);
    EXPECT_EQ(Describe("u"), before);
  }
}

TEST_F(AclTest, PasswordsAreKeptAsHashesAndRemoved) {
  ASSERT_TRUE(Set("u", {"on", ">one", "#" + HashPassword("two")}).ok());
  EXPECT_NE(users.Authenticate("u", "one"), nullptr);
  EXPECT_NE(users.Authenticate("u", "two"), nullptr);
  ASSERT_TRUE(Set("u", {"<one"}).ok());
  EXPECT_EQ(users.Authenticate("u", "one"), nullptr);
  ASSERT_TRUE(Set("u", {"off"}).ok());
  EXPECT_EQ(users.Authenticate("u", "two"), nullptr);  // off: no one may log in
  ASSERT_TRUE(Set("u", {"on", "nopass"}).ok());
  EXPECT_NE(users.Authenticate("u", "whatever"), nullptr);
  EXPECT_EQ(users.Find("u")->passwords().size(), 0u);
}

TEST_F(AclTest, TheFirstArgumentFormAllowsOneArgument) {
  ASSERT_TRUE(Set("u", {"on", "+select|0"}).ok());
  TestRequest r;
  r.id = catalog.Find("select");
  r.first = "0";
  EXPECT_EQ(users.Find("u")->Check(r).denial, Denial::kNone);
  r.first = "1";
  EXPECT_EQ(users.Find("u")->Check(r).denial, Denial::kCommand);
}

TEST_F(AclTest, ResetReturnsAUserToNothing) {
  ASSERT_TRUE(Set("u", {"on", ">pw", "allkeys", "allchannels", "+@all", "(+get)"}).ok());
  ASSERT_TRUE(Set("u", {"reset"}).ok());
  EXPECT_EQ(Describe("u"), "off sanitize-payload resetchannels -@all");
}

TEST_F(AclTest, SaveAndLoadRebuildTheSameUsers) {
  ASSERT_TRUE(Set("a", {"on", ">pw", "%R~r:*", "&c", "+@read", "-keys", "(+set ~w:*)"}).ok());
  ASSERT_TRUE(Set("b", {"off", "nopass", "allkeys", "+@all", "-@dangerous", "+config|get"}).ok());
  users.SetDefaultPassword("dpw");
  const std::string saved = users.Save();
  Users loaded(catalog);
  ASSERT_TRUE(loaded.Load(saved, "users.acl").ok());
  for (const std::string& name : users.Names())
    EXPECT_EQ(*loaded.Find(name), *users.Find(name)) << name;
  EXPECT_EQ(loaded.Save(), saved);
}

TEST_F(AclTest, ALoadWithAWrongLineChangesNothing) {
  ASSERT_TRUE(Set("keep", {"on"}).ok());
  const std::string text = "user a on +get\nuser b on +nosuch\nnot a user line\nuser a off\n";
  Status s = users.Load(text, "f.acl");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("f.acl:2: Error in applying operation '+nosuch'"), std::string::npos);
  EXPECT_NE(s.message().find("f.acl:3 should start with user keyword"), std::string::npos);
  EXPECT_NE(s.message().find("Duplicate user 'a' found on line 4"), std::string::npos);
  EXPECT_NE(users.Find("keep"), nullptr);
  ASSERT_TRUE(users.Load("user a on +get\n", "f.acl").ok());
  EXPECT_EQ(users.Find("keep"), nullptr);
  EXPECT_EQ(Describe("default"), "on nopass ~* &* +@all");  // given back when absent
  Users guarded(catalog, "pw");  // with requirepass, the default user made keeps it
  ASSERT_TRUE(guarded.Load("user a on\n", "f.acl").ok());
  EXPECT_EQ(guarded.Authenticate("default", "other"), nullptr);
  EXPECT_NE(guarded.Authenticate("default", "pw"), nullptr);
}

TEST_F(AclTest, DeletingAUserButNeverTheDefault) {
  ASSERT_TRUE(Set("u", {}).ok());
  const uint64_t generation = users.generation();
  EXPECT_TRUE(users.DelUser("u"));
  EXPECT_GT(users.generation(), generation);
  EXPECT_FALSE(users.DelUser("u"));
  EXPECT_FALSE(users.DelUser("default"));
}

TEST(AclPasswordTest, HashesAndGeneratedPasswords) {
  EXPECT_EQ(HashPassword("pw"), "30c952fab122c3f9759f02a6d95c3758b246b4fee239957b2d4fee46e26170c4");
  EXPECT_TRUE(ValidHash(HashPassword("x")));
  EXPECT_FALSE(ValidHash(std::string(64, 'A')));
  EXPECT_EQ(GeneratePassword(256).size(), 64u);
  EXPECT_EQ(GeneratePassword(5).size(), 2u);
  EXPECT_NE(GeneratePassword(128), GeneratePassword(128));
}

TEST(AclLogTest, LikeDenialsShareAnEntry) {
  AclLog log(3);
  LogEntry e{.reason = "command",
             .context = "toplevel",
             .object = "get",
             .username = "u",
             .client_info = ""};
  log.Add(e, 1000);
  log.Add(e, 2000);
  ASSERT_EQ(log.Recent(10).size(), 1u);
  EXPECT_EQ(log.Recent(10)[0].count, 2u);
  EXPECT_EQ(log.Recent(10)[0].created_ms, 1000);
  EXPECT_EQ(log.Recent(10)[0].updated_ms, 2000);
  log.Add(e, 2000 + 61'000);  // past the grouping time: a new entry
  EXPECT_EQ(log.Recent(10).size(), 2u);
  for (const char* key : {"a", "b", "c"}) {
    LogEntry k{
        .reason = "key", .context = "multi", .object = key, .username = "u", .client_info = ""};
    log.Add(k, 70'000);
  }
  const auto recent = log.Recent(10);
  ASSERT_EQ(recent.size(), 3u);  // at most max_len
  EXPECT_EQ(recent[0].object, "c");
  EXPECT_EQ(log.counts().command, 3);
  EXPECT_EQ(log.counts().key, 3);
  log.Reset();
  EXPECT_TRUE(log.Recent(10).empty());
}

}  // namespace
}  // namespace quiver::acl
