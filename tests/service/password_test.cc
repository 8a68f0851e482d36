// The password every front end checks (service/password.h).
#include "service/password.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {
namespace {

TEST(PasswordTest, MatchesOnlyTheWholePassword) {
  const acl::Catalog catalog;
  acl::Users no_password(catalog);
  Password none(no_password);
  EXPECT_FALSE(none.required());
  EXPECT_TRUE(none.Matches("anything"));
  acl::Users users(catalog, "s3cret");
  Password p(users);
  EXPECT_TRUE(p.required());
  EXPECT_TRUE(p.Matches("s3cret"));
  EXPECT_FALSE(p.Matches("s3cre"));
  EXPECT_FALSE(p.Matches("s3crets"));
  EXPECT_FALSE(p.Matches(""));
  EXPECT_FALSE(p.Matches("S3cret"));
  users.SetDefaultPassword("n3w");
  EXPECT_TRUE(p.Matches("n3w"));
  EXPECT_FALSE(p.Matches("s3cret"));
  users.SetDefaultPassword("");
  EXPECT_FALSE(p.required());
  ASSERT_TRUE(users.SetUser("default", std::vector<std::string_view>{"off"}).ok());
  EXPECT_TRUE(p.required());  // no one may log in as a default user that is off
  EXPECT_FALSE(p.Matches(""));
}

// Whether the header authenticates a user, and which.
std::string HttpName(const acl::Users& users, std::string_view authorization) {
  std::string tried;
  std::shared_ptr<const acl::User> user = HttpUser(users, authorization, &tried);
  return user != nullptr ? user->name() : "";
}

TEST(PasswordTest, HttpBearerOrBasic) {
  const acl::Catalog catalog;
  acl::Users users(catalog, "s3cret"), no_password(catalog);
  ASSERT_TRUE(users.SetUser("prom", std::vector<std::string_view>{"on", ">scrape"}).ok());
  EXPECT_EQ(HttpName(users, "Bearer s3cret"), "default");
  EXPECT_EQ(HttpName(users, "Bearer s3cret "), "");
  EXPECT_EQ(HttpName(users, "Basic cHJvbTpzY3JhcGU="), "prom");     // prom:scrape
  EXPECT_EQ(HttpName(users, "Basic cHJvbTpzM2NyZXQ="), "");         // prom:s3cret: not prom's
  EXPECT_EQ(HttpName(users, "Basic YW55OnMzY3JldA=="), "default");  // any:s3cret: no user "any"
  EXPECT_EQ(HttpName(users, "Basic OnMzY3JldA=="), "default");      // :s3cret
  EXPECT_EQ(HttpName(users, "Basic OnMzY3JldA"), "default");        // unpadded
  EXPECT_EQ(HttpName(users, "Basic czNjcmV0"), "");                 // s3cret, no user part
  EXPECT_EQ(HttpName(users, "Basic !!"), "");
  EXPECT_EQ(HttpName(users, ""), "");
  EXPECT_EQ(HttpName(users, "Digest x"), "");
  EXPECT_EQ(HttpName(no_password, ""), "default");
}

}  // namespace
}  // namespace quiver
