// The dashboard's logins: a session stands for its user while the password
// it logged in with still authenticates that user, until it idles out, is
// closed, or is the least recently used one past the limit.
#include "server/dashboard/sessions.h"

#include <gtest/gtest.h>

#include <set>

namespace quiver::dashboard {
namespace {

class SessionsTest : public ::testing::Test {
 protected:
  SessionsTest() : users_(catalog_) { SetUser("alice", {"on", ">secret", "+@all", "~*"}); }
  void SetUser(std::string_view name, std::vector<std::string_view> rules) {
    ASSERT_TRUE(users_.SetUser(name, rules).ok());
  }
  std::string Login(Sessions& sessions, std::string_view name, std::string_view password) {
    std::shared_ptr<const acl::User> user = users_.Authenticate(name, password);
    EXPECT_NE(user, nullptr);
    return user ? sessions.Open(*user, password) : "";
  }

  acl::Catalog catalog_;
  acl::Users users_;
  int64_t now_ms_ = 1'000;
  Sessions sessions_{users_,
                     {.idle_ms = 60'000, .max_sessions = 3, .now_ms = [this] { return now_ms_; }}};
};

TEST_F(SessionsTest, ASessionStandsForItsUserUntilClosed) {
  const std::string token = Login(sessions_, "alice", "secret");
  ASSERT_EQ(token.size(), 64u);  // 256 random bits in hex
  ASSERT_NE(sessions_.Resolve(token), nullptr);
  EXPECT_EQ(sessions_.Resolve(token)->name(), "alice");
  EXPECT_EQ(sessions_.Resolve("not-a-token"), nullptr);
  EXPECT_EQ(sessions_.Resolve(""), nullptr);
  EXPECT_TRUE(sessions_.Close(token));
  EXPECT_EQ(sessions_.Resolve(token), nullptr);
  EXPECT_FALSE(sessions_.Close(token));
}

TEST_F(SessionsTest, TokensAreNeverTheSame) {
  std::set<std::string> tokens;
  for (int i = 0; i < 3; ++i)
    tokens.insert(Login(sessions_, "alice", "secret"));
  EXPECT_EQ(tokens.size(), 3u);
}

TEST_F(SessionsTest, ASessionEndsWhenItsPasswordNoLongerAuthenticates) {
  const std::string token = Login(sessions_, "alice", "secret");
  SetUser("alice", {">another"});  // a second password: the first still works
  EXPECT_NE(sessions_.Resolve(token), nullptr);
  SetUser("alice", {"<secret"});
  EXPECT_EQ(sessions_.Resolve(token), nullptr);
  // Ended for good, even if the password comes back.
  SetUser("alice", {">secret"});
  EXPECT_EQ(sessions_.Resolve(token), nullptr);
}

TEST_F(SessionsTest, ASessionEndsWhenItsUserIsOffOrDeleted) {
  const std::string off = Login(sessions_, "alice", "secret");
  SetUser("alice", {"off"});
  EXPECT_EQ(sessions_.Resolve(off), nullptr);
  SetUser("alice", {"on"});
  const std::string deleted = Login(sessions_, "alice", "secret");
  ASSERT_TRUE(users_.DelUser("alice"));
  EXPECT_EQ(sessions_.Resolve(deleted), nullptr);
}

TEST_F(SessionsTest, ANopassUserKeepsItsSessionUntilItGetsAPassword) {
  SetUser("bob", {"on", "nopass", "+@all"});
  const std::string token = Login(sessions_, "bob", "anything");
  EXPECT_NE(sessions_.Resolve(token), nullptr);
  SetUser("bob", {">real"});
  EXPECT_EQ(sessions_.Resolve(token), nullptr);
}

TEST_F(SessionsTest, AnIdleSessionEndsAndAUsedOneDoesNot) {
  const std::string used = Login(sessions_, "alice", "secret");
  const std::string idle = Login(sessions_, "alice", "secret");
  now_ms_ += 40'000;
  ASSERT_NE(sessions_.Resolve(used), nullptr);
  now_ms_ += 40'000;  // 80 s after the login, 40 s after the last use
  EXPECT_NE(sessions_.Resolve(used), nullptr);
  EXPECT_EQ(sessions_.Resolve(idle), nullptr);
}

TEST_F(SessionsTest, BeyondTheLimitTheLeastRecentlyUsedSessionEnds) {
  const std::string a = Login(sessions_, "alice", "secret");
  now_ms_ += 1;
  const std::string b = Login(sessions_, "alice", "secret");
  now_ms_ += 1;
  const std::string c = Login(sessions_, "alice", "secret");
  now_ms_ += 1;
  ASSERT_NE(sessions_.Resolve(a), nullptr);  // b is now the least recently used
  now_ms_ += 1;
  const std::string d = Login(sessions_, "alice", "secret");
  EXPECT_EQ(sessions_.size(), 3u);
  EXPECT_NE(sessions_.Resolve(a), nullptr);
  EXPECT_EQ(sessions_.Resolve(b), nullptr);
  EXPECT_NE(sessions_.Resolve(c), nullptr);
  EXPECT_NE(sessions_.Resolve(d), nullptr);
}

TEST(CookieValueTest, FindsANamedCookie) {
  EXPECT_EQ(CookieValue("quiver_session=abc", "quiver_session"), "abc");
  EXPECT_EQ(CookieValue("a=1; quiver_session=abc ; b=2", "quiver_session"), "abc");
  EXPECT_EQ(CookieValue("xquiver_session=abc; b=2", "quiver_session"), "");
  EXPECT_EQ(CookieValue("a=1;b=2", "quiver_session"), "");
  EXPECT_EQ(CookieValue("", "quiver_session"), "");
  EXPECT_EQ(CookieValue("quiver_session", "quiver_session"), "");
}

}  // namespace
}  // namespace quiver::dashboard
