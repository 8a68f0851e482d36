// The HTTP API in process, without a socket (tests/http/ drives it over
// the wire with urllib, curl and prometheus_client): routes, JSON reads,
// and the table from error kinds to HTTP statuses.
#include "server/http/api.h"

#include <gtest/gtest.h>

#include "support/visits_view.h"
#include "util/rcu.h"

namespace quiver {
namespace {

class HttpApiTest : public ::testing::Test {
 protected:
  explicit HttpApiTest(int64_t max_memory_bytes = 0, std::string password = {},
                       uint64_t max_answer_bytes = 64u << 20)
      : table_(OnlineTable::Options{.shards = 4, .max_memory_bytes = max_memory_bytes}),
        store_(registry_, table_, nullptr, {}),
        keyspace_(table_, KeySpace::Options()),
        metrics_({}, 1),
        users_(catalog_, password),
        api_({.store = store_,
              .keyspace = keyspace_,
              .metrics = metrics_,
              .version = "test",
              .durability = "memory",
              .users = &users_,
              .acl_log = &acl_log_,
              .max_answer_bytes = max_answer_bytes}) {
    EXPECT_TRUE(store_.Apply(kVisitsDefinitions).ok());
  }

  HttpReply Get(std::string_view target, std::string_view authorization = {}) {
    HttpKind kind = HttpKind::kOther;
    return api_.Handle("GET", target, "", authorization, &kind);
  }

  rcu::ThreadRegistration registration_;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
  KeySpace keyspace_;
  RequestMetrics metrics_;
  acl::Catalog catalog_;
  acl::Users users_;
  acl::AclLog acl_log_;
  HttpApi api_;
};

TEST_F(HttpApiTest, HealthAnswersOk) {
  const HttpReply r = Get("/health");
  EXPECT_EQ(r.status, 200u);
  EXPECT_NE(r.body.find("\"status\":\"ok\""), std::string::npos) << r.body;
}

TEST_F(HttpApiTest, AFeatureReadReturnsTheRowAsJson) {
  ASSERT_TRUE(WriteVisits(store_, "u1", 7).ok());
  const HttpReply r = Get("/v1/features/profile/u1");
  EXPECT_EQ(r.status, 200u) << r.body;
  EXPECT_NE(r.body.find("\"visits\":7"), std::string::npos) << r.body;
}

TEST_F(HttpApiTest, AnUnknownViewIsNotFound) {
  const HttpReply r = Get("/v1/features/nosuch/u1");
  EXPECT_EQ(r.status, 404u) << r.body;
  EXPECT_NE(r.body.find("\"error\""), std::string::npos) << r.body;
}

TEST_F(HttpApiTest, AnUnknownPathIsNotFound) {
  EXPECT_EQ(Get("/nowhere").status, 404u);
}

class HttpApiSmallAnswersTest : public HttpApiTest {
 protected:
  HttpApiSmallAnswersTest() : HttpApiTest(0, {}, 4096) {}
};

TEST_F(HttpApiSmallAnswersTest, AnAnswerOverTheLimitIsRefusedBeforeItIsRendered) {
  std::string body = R"({"view": "profile", "keys": [)";
  for (int i = 0; i < 100; ++i)
    body += (i > 0 ? ",\"u" : "\"u") + std::to_string(i) + "\"";
  body += "]}";
  HttpKind kind = HttpKind::kOther;
  const HttpReply r = api_.Handle("POST", "/v1/features", body, "", &kind);
  EXPECT_EQ(r.status, 400u) << r.body;
  EXPECT_NE(r.body.find("the answer would be about"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find("of these 100 fit in one request"), std::string::npos) << r.body;
  EXPECT_EQ(Get("/v1/features/profile/u1").status, 200u) << "a small read is served";
}

class HttpApiPasswordTest : public HttpApiTest {
 protected:
  HttpApiPasswordTest() : HttpApiTest(0, "secret") {}
};

TEST_F(HttpApiPasswordTest, EveryPathButHealthNeedsThePassword) {
  EXPECT_EQ(Get("/health").status, 200u);
  const HttpReply refused = Get("/v1/views");
  EXPECT_EQ(refused.status, 401u);
  EXPECT_TRUE(refused.challenge);
  EXPECT_EQ(Get("/v1/views", "Bearer wrong").status, 401u);
  EXPECT_EQ(Get("/v1/views", "Bearer secret").status, 200u);
}

}  // namespace
}  // namespace quiver
