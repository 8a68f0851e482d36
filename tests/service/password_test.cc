// The password every front end checks (service/password.h).
#include "service/password.h"

#include <gtest/gtest.h>

namespace quiver {
namespace {

TEST(PasswordTest, MatchesOnlyTheWholePassword) {
  Password none;
  EXPECT_FALSE(none.required());
  EXPECT_TRUE(none.Matches("anything"));
  Password p("s3cret");
  EXPECT_TRUE(p.required());
  EXPECT_TRUE(p.Matches("s3cret"));
  EXPECT_FALSE(p.Matches("s3cre"));
  EXPECT_FALSE(p.Matches("s3crets"));
  EXPECT_FALSE(p.Matches(""));
  EXPECT_FALSE(p.Matches("S3cret"));
  p.Set("n3w");
  EXPECT_TRUE(p.Matches("n3w"));
  EXPECT_FALSE(p.Matches("s3cret"));
  p.Set("");
  EXPECT_FALSE(p.required());
}

TEST(PasswordTest, HttpBearerOrBasicWithAnyUser) {
  Password p("s3cret");
  EXPECT_TRUE(HttpAuthorized(p, "Bearer s3cret"));
  EXPECT_FALSE(HttpAuthorized(p, "Bearer s3cret "));
  EXPECT_TRUE(HttpAuthorized(p,
                             "Basic "
                             "cHJvbTpzM2NyZXQ="));  // prom:s3cret
  EXPECT_TRUE(HttpAuthorized(p,
                             "Basic "
                             "OnMzY3JldA=="));  // :s3cret
  EXPECT_TRUE(HttpAuthorized(p,
                             "Basic "
                             "OnMzY3JldA"));  // unpadded
  EXPECT_FALSE(HttpAuthorized(p,
                              "Basic "
                              "czNjcmV0"));  // s3cret, no user part
  EXPECT_FALSE(HttpAuthorized(p,
                              "Basic "
                              "cHJvbTp3cm9uZw=="));  // prom:wrong
  EXPECT_FALSE(HttpAuthorized(p, "Basic !!"));
  EXPECT_FALSE(HttpAuthorized(p, ""));
  EXPECT_FALSE(HttpAuthorized(p, "Digest x"));
  EXPECT_TRUE(HttpAuthorized(Password(), ""));
}

}  // namespace
}  // namespace quiver
