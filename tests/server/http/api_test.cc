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
    return api_.Handle({.method = "GET", .target = target, .authorization = authorization}, &kind);
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
  const HttpReply r =
      api_.Handle({.method = "POST", .target = "/v1/features", .body = body}, &kind);
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

// The header a reply carries, or "" if none.
std::string HeaderOf(const HttpReply& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

TEST_F(HttpApiPasswordTest, ThePageIsServedWithoutThePasswordButNoDataIs) {
  const HttpReply page = Get("/");
  EXPECT_EQ(page.status, 200u);
  EXPECT_EQ(page.content_type, "text/html; charset=utf-8");
  EXPECT_NE(page.body.find("login-form"), std::string::npos);
  EXPECT_NE(HeaderOf(page, "Content-Security-Policy").find("default-src 'none'"),
            std::string::npos);
  const std::string etag = HeaderOf(page, "ETag");
  ASSERT_FALSE(etag.empty());
  HttpKind kind;
  const HttpReply again =
      api_.Handle({.method = "GET", .target = "/", .if_none_match = etag}, &kind);
  EXPECT_EQ(again.status, 304u);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Get("/assets/chart.min.js").status, 200u);
  EXPECT_NE(Get("/assets/chart.min.js").body.find("Chart.js v3"), std::string::npos);
  EXPECT_EQ(Get("/assets/nothing.js").status, 404u);
  for (const char* path :
       {"/v1/status", "/v1/series", "/v1/views/profile/distribution?field=visits",
        "/v1/history/profile/u1"}) {
    EXPECT_EQ(Get(path).status, 401u) << path;
  }
}

TEST_F(HttpApiPasswordTest, ALoginSessionStandsForTheUserOnThePagesRequests) {
  HttpKind kind;
  auto post = [&](std::string_view path, std::string_view body, std::string_view cookie = {}) {
    return api_.Handle(
        {.method = "POST", .target = path, .body = body, .cookie = cookie, .from_page = true},
        &kind);
  };
  auto get = [&](std::string_view path, std::string_view cookie, bool from_page = true) {
    return api_.Handle({.method = "GET", .target = path, .cookie = cookie, .from_page = from_page},
                       &kind);
  };
  EXPECT_NE(get("/v1/session", "").body.find(R"("login_required":true)"), std::string::npos);
  EXPECT_EQ(post("/v1/login", R"({"password": "wrong"})").status, 401u);
  EXPECT_EQ(post("/v1/login", "not json").status, 400u);
  EXPECT_EQ(
      api_.Handle({.method = "POST", .target = "/v1/login", .body = R"({"password": "secret"})"},
                  &kind)
          .status,
      403u)
      << "a login without X-Requested-With could come from another site's form";
  const HttpReply login = post("/v1/login", R"({"user": "default", "password": "secret"})");
  ASSERT_EQ(login.status, 200u) << login.body;
  const std::string set_cookie = HeaderOf(login, "Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  EXPECT_EQ(get("/v1/status", cookie).status, 200u);
  EXPECT_NE(get("/v1/session", cookie).body.find(R"("user":"default")"), std::string::npos);
  // The cookie alone, without the page's header, is no credential.
  EXPECT_EQ(get("/v1/status", cookie, false).status, 401u);
  const HttpReply refused = get("/v1/status", "quiver_session=forged");
  EXPECT_EQ(refused.status, 401u);
  EXPECT_FALSE(refused.challenge) << "no browser password prompt over the page";
  const HttpReply logout = post("/v1/logout", "{}", cookie);
  EXPECT_EQ(logout.status, 200u);
  EXPECT_NE(HeaderOf(logout, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(get("/v1/status", cookie).status, 401u);
}

TEST_F(HttpApiTest, TheDashboardsDocumentsAnswer) {
  ASSERT_TRUE(WriteVisits(store_, "u1", 7).ok());
  const HttpReply status = Get("/v1/status");
  EXPECT_EQ(status.status, 200u);
  EXPECT_NE(status.body.find(R"("memory":{"max_memory":0,"parts":{"rows":)"), std::string::npos)
      << status.body;
  const HttpReply dist = Get("/v1/views/profile/distribution?field=visits&bins=10");
  EXPECT_EQ(dist.status, 200u) << dist.body;
  EXPECT_EQ(Get("/v1/views/profile/distribution").status, 400u);
  EXPECT_EQ(Get("/v1/views/profile/distribution?field=visits&bins=0").status, 400u);
  EXPECT_EQ(Get("/v1/views/profile/distribution?field=nope").status, 404u);
  EXPECT_EQ(Get("/v1/series").status, 404u) << "no series in this test's server";
  const HttpReply history = Get("/v1/history/profile/u1");
  EXPECT_EQ(history.status, 400u) << "no history kept: " << history.body;
  EXPECT_EQ(Get("/v1/history/profile").status, 404u);
  HttpKind kind;
  EXPECT_EQ(api_.Handle({.method = "POST", .target = "/v1/status"}, &kind).status, 405u);
}

}  // namespace
}  // namespace quiver
