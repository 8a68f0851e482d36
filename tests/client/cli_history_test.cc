// The `quiver` tool's reads of the past against a real quiverd: get --as-of,
// history, and training-set with its errors.
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include <gtest/gtest.h>

#include "support/quiverd_process.h"

namespace quiver {
namespace {

using testing::QuiverCliPath;
using testing::QuiverdProcess;
using testing::RunCommand;

class CliHistoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    ASSERT_EQ(Run("apply " + testing::SourcePath("examples/features.yaml")).exit_code, 0);
    // user_profile (ttl 7d) and item_stats (ttl 2h) at 07:00, 08:00, 09:00.
    for (int h : {7, 8, 9}) {
      const std::string t = " --event-time 2026-11-23T0" + std::to_string(h) + ":00:00Z";
      ASSERT_EQ(Run("put user_profile u1 watch_count_7d=" + std::to_string(h) + t).exit_code, 0);
      ASSERT_EQ(Run("put item_stats i1 popularity_score=0." + std::to_string(h) + t).exit_code, 0);
    }
  }
  testing::CommandResult Run(const std::string& args) {
    return RunCommand(QuiverCliPath() + " --port " + std::to_string(server_.port()) + " " + args +
                      " 2>&1");
  }
  std::string Write(const std::string& name, const std::string& text) {
    const std::string path = server_.data_dir() + "/../" + name;
    std::ofstream(path) << text;
    return path;
  }
  static std::string Read(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  QuiverdProcess server_;
};

TEST_F(CliHistoryTest, GetAsOfReadsThePast) {
  auto got = Run("get user_profile u1 --as-of 2026-11-23T08:30:00Z --fields watch_count_7d --json");
  ASSERT_EQ(got.exit_code, 0) << got.out;
  EXPECT_NE(got.out.find(R"("event_time":"2026-11-23T08:00:00.000Z")"), std::string::npos)
      << got.out;
  EXPECT_NE(got.out.find(R"("watch_count_7d":8)"), std::string::npos) << got.out;
  auto before = Run("get user_profile u1 --as-of 2026-11-23T06:59:59.999Z --json");
  EXPECT_NE(before.out.find(R"("state":"missing")"), std::string::npos) << before.out;
}

TEST_F(CliHistoryTest, HistoryListsAndAggregates) {
  auto all = Run("history user_profile u1 --fields watch_count_7d");
  ASSERT_EQ(all.exit_code, 0) << all.out;
  EXPECT_NE(all.out.find("2026-11-23T07:00:00.000Z  7"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("2026-11-23T09:00:00.000Z  9"), std::string::npos) << all.out;
  auto avg =
      Run("history user_profile u1 --from 2026-11-23T07:30:00Z --to 2026-11-23T09:00:00Z "
          "--agg avg --fields watch_count_7d");
  ASSERT_EQ(avg.exit_code, 0) << avg.out;
  EXPECT_NE(avg.out.find("watch_count_7d  8.5"), std::string::npos) << avg.out;
  auto bad = Run("history user_profile u1 --agg median");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.out.find("unknown aggregation 'median'"), std::string::npos) << bad.out;
}

TEST_F(CliHistoryTest, TrainingSetJoinsEachLabelRowAsOfItsTime) {
  const std::string labels = Write("labels.csv",
                                   "user_id,item_id,event_timestamp,clicked\n"
                                   "u1,i1,2026-11-23T08:30:00Z,1\n"
                                   "u1,i1,2026-11-23T06:00:00Z,0\n"
                                   "u1,i1,2026-11-23T11:00:00Z,\"yes, twice\"\n"
                                   "u2,i1,1795424400000,0\n");
  const std::string out = server_.data_dir() + "/../train.csv";
  auto run =
      Run("training-set --labels " + labels +
          " --features user_profile:watch_count_7d,item_stats:popularity_score --out " + out);
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_NE(run.out.find("rows       4"), std::string::npos) << run.out;
  EXPECT_NE(run.out.find("missing    user_profile:watch_count_7d: 2 (50.0%)"), std::string::npos)
      << run.out;
  // 11:00 is more than item_stats' 2h ttl after 09:00 (a miss); 1795424400000 is 09:00.
  EXPECT_EQ(Read(out),
            "user_id,item_id,event_timestamp,clicked,user_profile:watch_count_7d,"
            "item_stats:popularity_score,missing_features\n"
            "u1,i1,2026-11-23T08:30:00Z,1,8,0.8,\n"
            "u1,i1,2026-11-23T06:00:00Z,0,0,0,"
            "user_profile:watch_count_7d;item_stats:popularity_score\n"
            "u1,i1,2026-11-23T11:00:00Z,\"yes, twice\",9,0,item_stats:popularity_score\n"
            "u2,i1,1795424400000,0,0,0.9,user_profile:watch_count_7d\n");
}

// Windows sort their rows by entity, per view, before they are sent: the
// output must still follow the labels, whatever the window and batch sizes.
TEST_F(CliHistoryTest, TrainingSetKeepsTheLabelsOrderAcrossWindowsAndBatches) {
  for (int u = 2; u <= 12; ++u) {
    const std::string t = " --event-time 2026-11-23T0" + std::to_string(u % 3 + 7) + ":00:00Z";
    ASSERT_EQ(Run("put user_profile u" + std::to_string(u) +
                  " watch_count_7d=" + std::to_string(100 + u) + t)
                  .exit_code,
              0);
    ASSERT_EQ(Run("put item_stats i" + std::to_string(u) +
                  " popularity_score=" + std::to_string(u) + ".5" + t)
                  .exit_code,
              0);
  }
  std::string text = "item_id,event_timestamp,user_id\n";
  for (int r = 0; r < 60; ++r) {
    // Users and items in different orders, some repeated, some unknown.
    text += "i" + std::to_string((r * 7) % 14 + 1) + ",2026-11-23T0" + std::to_string(6 + r % 4) +
            ":30:00Z,u" + std::to_string((r * 5) % 13 + 1) + "\n";
  }
  // Keys of 255 bytes and more sort by length, then bytes, like the rest.
  for (size_t n : {300, 255, 256, 300, 254})
    text += "i1,2026-11-23T09:30:00Z,u" + std::string(n, static_cast<char>('a' + n % 7)) + "\n";
  const std::string labels = Write("many.csv", text);
  const std::string features =
      " --features item_stats:popularity_score,user_profile:watch_count_7d --out ";
  auto join = [&](const std::string& name, const std::string& flags) {
    const std::string out = server_.data_dir() + "/../" + name;
    auto run = Run("training-set --labels " + labels + features + out + " " + flags);
    EXPECT_EQ(run.exit_code, 0) << run.out;
    EXPECT_NE(run.out.find("rows       65"), std::string::npos) << run.out;
    return Read(out);
  };
  // One row a window and a request: nothing is reordered.
  const std::string reference = join("one.csv", "--window-rows 1 --batch-rows 1 --connections 1");
  EXPECT_EQ(std::count(reference.begin(), reference.end(), '\n'), 66);
  EXPECT_NE(reference.find("i8,2026-11-23T07:30:00Z,u6,0,106,item_stats:popularity_score\n"),
            std::string::npos)
      << reference;
  EXPECT_EQ(join("small.csv", "--window-rows 7 --batch-rows 3 --connections 3"), reference);
  EXPECT_EQ(join("default.csv", ""), reference);
  // A feature named twice would make two columns of one name: refused.
  auto twice = Run("training-set --labels " + labels +
                   " --features item_stats:popularity_score,item_stats:popularity_score --out " +
                   server_.data_dir() + "/../twice.csv");
  EXPECT_NE(twice.exit_code, 0);
  EXPECT_NE(twice.out.find("named twice"), std::string::npos) << twice.out;
}

// Retention is applied by compactions; `quiver compact` runs one now.
TEST_F(CliHistoryTest, CompactDropsVersionsPastRetentionButNeverTheNewest) {
  const std::string defs =
      Write("short.yaml",
            "entities: [{name: user, keys: [user_id]}]\n"
            "views:\n"
            "  - {name: short_lived, version: 1, entity: user, retention: 1h,\n"
            "     fields: [{name: n, type: int64}]}\n");
  ASSERT_EQ(Run("apply " + defs).exit_code, 0);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // u1: three versions, two past the hour; u2: one old version, its newest.
  for (auto [key, n, age_min] :
       {std::tuple{"u1", 1, 180}, {"u1", 2, 120}, {"u1", 3, 10}, {"u2", 4, 300}}) {
    ASSERT_EQ(Run(std::string("put short_lived ") + key + " n=" + std::to_string(n) +
                  " --event-time " + std::to_string(now - age_min * 60'000))
                  .exit_code,
              0);
  }
  auto versions = [&](const std::string& key) {
    const std::string out = Run("history short_lived " + key + " --fields n").out;
    return std::count(out.begin(), out.end(), '\n') - 1;  // a header line
  };
  ASSERT_EQ(versions("u1"), 3);
  auto compact = Run("compact");
  ASSERT_EQ(compact.exit_code, 0) << compact.out;
  EXPECT_NE(compact.out.find("history compacted in"), std::string::npos) << compact.out;
  EXPECT_EQ(versions("u1"), 1);
  EXPECT_NE(Run("history short_lived u1 --fields n").out.find("  3"), std::string::npos);
  EXPECT_EQ(versions("u2"), 1);  // older than the retention, but its newest
  auto status = Run("status");
  EXPECT_NE(status.out.find("last compaction took"), std::string::npos) << status.out;
  EXPECT_NE(Run("status --json").out.find(R"("compaction":{"running":false)"), std::string::npos);
}

TEST(CliCompactTest, AServerWithoutHistoryRefusesToCompact) {
  QuiverdProcess server({"--durability", "memory"});
  ASSERT_TRUE(server.ok());
  auto run =
      RunCommand(QuiverCliPath() + " --port " + std::to_string(server.port()) + " compact 2>&1");
  EXPECT_NE(run.exit_code, 0);
  EXPECT_NE(run.out.find("keeps no history to compact"), std::string::npos) << run.out;
}

TEST_F(CliHistoryTest, TrainingSetErrorsNameTheLineAndLeaveNoOutput) {
  const std::string out = server_.data_dir() + "/../bad.csv";
  auto expect_error = [&](const std::string& text, const std::string& features,
                          const std::string& message) {
    const std::string labels = Write("bad-labels.csv", text);
    auto run = Run("training-set --labels " + labels + " --features " + features + " --out " + out);
    EXPECT_NE(run.exit_code, 0) << run.out;
    EXPECT_NE(run.out.find(message), std::string::npos) << run.out;
    EXPECT_FALSE(std::filesystem::exists(out));
    EXPECT_FALSE(std::filesystem::exists(out + ".tmp"));
  };
  const std::string header = "user_id,event_timestamp,label\n";
  expect_error(header + "u1,2026-11-23T08:00:00Z,1\nu1,yesterday,0\n",
               "user_profile:watch_count_7d", "bad-labels.csv:3: bad timestamp 'yesterday'");
  expect_error(header + "u1,2026-11-23T08:00:00Z\n", "user_profile:watch_count_7d",
               "bad-labels.csv:2: expected 3 columns, got 2");
  expect_error(header + "u1,1,1\n", "item_stats:popularity_score",
               "no column 'item_id', a join key of the requested features");
  expect_error(header + "u1,1,1\n", "user_profile:nope", "has no field 'nope'");
  expect_error(header + "u1,1,1\n", "nope:x", "unknown view 'nope'");
  expect_error("user_id,label\nu1,1\n", "user_profile:watch_count_7d", "no event_timestamp column");
}

}  // namespace
}  // namespace quiver
