// The `quiver` command-line tool against a real quiverd.
#include <chrono>

#include <gtest/gtest.h>

#include "protocol/timestamp.h"
#include "support/quiverd_process.h"

namespace quiver {
namespace {

using testing::QuiverCliPath;
using testing::QuiverdProcess;
using testing::RunCommand;

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    ASSERT_EQ(Run("apply " + testing::SourcePath("examples/features.yaml")).exit_code, 0);
  }
  testing::CommandResult Run(const std::string& args) {
    return RunCommand(QuiverCliPath() + " --port " + std::to_string(server_.port()) + " " + args +
                      " 2>&1");
  }
  QuiverdProcess server_;
};

TEST_F(CliTest, PutThenGetAsJson) {
  std::string genres;
  for (int i = 0; i < 32; ++i)
    genres += (i ? "," : "") + std::to_string(i) + ".5";
  // An hour ago, to the second: well inside the view's TTL of 7 days.
  const int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
  const std::string when = FormatTimestampMs((now_s - 3600) * 1000);
  auto put =
      Run("put user_profile u1 watch_count_7d=12 preferred_hour=21 genre_preferences=" + genres +
          " --event-time " + when);
  ASSERT_EQ(put.exit_code, 0) << put.out;
  auto got =
      Run("get user_profile u1 u2 --fields watch_count_7d,preferred_hour,genre_preferences --json");
  ASSERT_EQ(got.exit_code, 0) << got.out;
  EXPECT_NE(got.out.find(R"({"key":"u1","state":"found","event_time":")" + when + R"(")"),
            std::string::npos)
      << got.out;
  EXPECT_NE(
      got.out.find(R"("watch_count_7d":12,"preferred_hour":21,"genre_preferences":[0.5,1.5,)"),
      std::string::npos)
      << got.out;
  EXPECT_NE(
      got.out.find(
          R"({"key":"u2","state":"missing","features":{"watch_count_7d":0,"preferred_hour":20)"),
      std::string::npos)
      << got.out;
}

TEST_F(CliTest, MultiKeyEntityAndUnixMillis) {
  // A minute ago, in whole seconds: inside the view's TTL and well behind
  // the server clock (event times ahead of it are refused).
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const int64_t t = (now - 60'000) / 1000 * 1000;
  ASSERT_EQ(
      Run("put user_item_progress u1,i9 watch_progress=0.25 --event-time " + std::to_string(t))
          .exit_code,
      0);
  auto got = Run("get user_item_progress u1,i9 --json");
  EXPECT_NE(got.out.find("\"event_time\":\"" + FormatTimestampMs(t) + "\""), std::string::npos)
      << got.out;
  EXPECT_NE(got.out.find(R"("watch_progress":0.25)"), std::string::npos) << got.out;
  auto ahead = Run("put user_item_progress u1,i9 watch_progress=0.5 --event-time " +
                   std::to_string(now * 1000));  // microseconds sent as milliseconds
  EXPECT_NE(ahead.exit_code, 0);
  EXPECT_NE(ahead.out.find("ahead of the server clock"), std::string::npos) << ahead.out;
}

TEST_F(CliTest, ViewsListsEveryView) {
  auto views = Run("views");
  ASSERT_EQ(views.exit_code, 0);
  EXPECT_NE(views.out.find("user_profile@v2  entity user  4 fields  ttl 7d  owner recs"),
            std::string::npos)
      << views.out;
  EXPECT_NE(views.out.find("item_stats@v1"), std::string::npos);
}

TEST_F(CliTest, StatsAndFreshnessAsTablesAndJson) {
  ASSERT_EQ(Run("put item_stats i1 popularity_score=0.5 genre=drama").exit_code, 0);
  ASSERT_EQ(Run("put item_stats i2 popularity_score=1.5 genre=horror").exit_code, 0);
  auto table = Run("stats item_stats");
  ASSERT_EQ(table.exit_code, 0) << table.out;
  EXPECT_NE(table.out.find("item_stats@v1: 2 rows written in the last 1h"), std::string::npos)
      << table.out;
  // Both values, their mean, and the check the 1.5 fails.
  EXPECT_NE(table.out.find("popularity_score    float32              2    0.0%         2  max    "
                           "     mean 1 sd 0.7071 [0.5, 1.5]"),
            std::string::npos)
      << table.out;
  EXPECT_NE(table.out.find("allowed     length mean 5.5"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("top: drama 1 horror 1"), std::string::npos) << table.out;
  auto json = Run("stats item_stats@v1 --window since_start --json");
  ASSERT_EQ(json.exit_code, 0) << json.out;
  EXPECT_NE(json.out.find(R"("violations":{"below_min":0,"above_max":1,"not_allowed":0},)"
                          R"("failing":["max"]})"),
            std::string::npos)
      << json.out;
  auto fresh = Run("freshness");
  ASSERT_EQ(fresh.exit_code, 0) << fresh.out;
  EXPECT_NE(fresh.out.find("item_stats@v1                        2        0"), std::string::npos)
      << fresh.out;
  EXPECT_NE(Run("freshness --json").out.find(R"({"view":"item_stats@v1","sla_ms":0,"rows":2,)"),
            std::string::npos);
  auto unknown = Run("stats nope");
  EXPECT_NE(unknown.exit_code, 0);
  EXPECT_NE(unknown.out.find("NotFound: unknown view 'nope'"), std::string::npos) << unknown.out;
}

TEST_F(CliTest, BadInputExitsNonZeroWithAClearMessage) {
  auto r = Run("put user_profile u1 watch_count_7d=abc");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("field watch_count_7d is int64: cannot use 'abc'"), std::string::npos)
      << r.out;
  r = Run("get user_item_progress u1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("joined by commas"), std::string::npos) << r.out;
  r = Run("get nope u1");
  EXPECT_NE(r.out.find("NotFound: unknown view 'nope'"), std::string::npos) << r.out;
  r = Run("put user_profile u1 watch_count_7d=1 --event-time yesterday");
  EXPECT_NE(r.out.find("bad timestamp 'yesterday'"), std::string::npos) << r.out;
  r = RunCommand(QuiverCliPath() + " --port 1 ping 2>&1");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.out.find("cannot connect to quiverd"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace quiver
