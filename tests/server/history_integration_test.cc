// History through a real quiverd: restart equivalence, crashes in sync
// mode, and time travel through the C++ client.
#include <array>
#include <chrono>
#include <filesystem>
#include <map>
#include <random>

#include <gtest/gtest.h>

#include "quiver/client.h"
#include "server/crash_cycle.h"
#include "support/connect.h"
#include "support/quiverd_process.h"

namespace quiver {
namespace {

using testing::QuiverdProcess;

constexpr char kDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
  - {name: item, keys: [item_id]}
views:
  - name: profile
    entity: user
    ttl: 1h
    fields:
      - {name: n, type: int64}
      - {name: s, type: string}
      - {name: vec, type: "float32[4]"}
  - name: stats
    entity: item
    fields:
      - {name: pop, type: float32}
)";

struct Row {
  int64_t t;
  int64_t n;
  std::string s;
  std::array<float, 4> vec;
};

TEST(HistoryIntegrationTest, RestartServesEveryRowExactlyAsWritten) {
  const std::string dir = testing::MakeTempDir();
  constexpr int kRows = 200'000, kBatch = 2'000;
  std::map<std::string, Row> served;
  std::mt19937_64 rng(3);
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  {
    QuiverdProcess server({"--durability", "async"}, 0, dir);
    ASSERT_TRUE(server.ok());
    auto client = testing::ConnectTo(server);
    ASSERT_TRUE(client->Apply(kDefinitions).ok());
    for (int first = 0; first < kRows; first += kBatch) {
      WriteBatch batch("profile");
      for (int i = first; i < first + kBatch; ++i) {
        // Some keys repeat, with older or newer times: the newest must win.
        const std::string key = "u" + std::to_string(rng() % (kRows * 3 / 4));
        Row row{now - static_cast<int64_t>(rng() % 600'000),
                static_cast<int64_t>(rng()),
                "s" + std::to_string(i),
                {float(i), 1, 2, float(rng() % 100)}};
        batch.Row({key}, row.t)
            .Set("n", row.n)
            .Set("s", row.s)
            .Set("vec", std::span<const float>(row.vec));
        auto it = served.find(key);
        if (it == served.end() || row.t >= it->second.t) served[key] = row;
      }
      ASSERT_TRUE(client->Put(batch).ok());
    }
    EXPECT_EQ(server.Stop(), 0);
  }
  QuiverdProcess restarted({}, 0, dir);
  ASSERT_TRUE(restarted.ok());
  auto client = testing::ConnectTo(restarted);
  auto it = served.begin();
  size_t checked = 0;
  while (it != served.end()) {
    GetRequest request{"profile", {}, {}};
    std::vector<const Row*> expected;
    for (; it != served.end() && expected.size() < 5000; ++it) {
      request.key_parts.push_back(it->first);
      expected.push_back(&it->second);
    }
    auto got = client->Get(request);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    const Column* n = got->column("n");
    const Column* s = got->column("s");
    const Column* vec = got->column("vec");
    for (size_t i = 0; i < expected.size(); ++i, ++checked) {
      ASSERT_TRUE(got->found(i)) << request.key_parts[i];
      ASSERT_EQ(got->event_time_ms(i), expected[i]->t) << request.key_parts[i];
      ASSERT_EQ(n->int64_value(i), expected[i]->n);
      ASSERT_EQ(s->string_value(i), expected[i]->s);
      ASSERT_TRUE(std::equal(expected[i]->vec.begin(), expected[i]->vec.end(),
                             vec->vector_value(i).begin()));
    }
  }
  EXPECT_EQ(checked, served.size());
  restarted.Stop();
  std::filesystem::remove_all(dir);
}

TEST(HistoryIntegrationTest, AKillNineInSyncModeLosesNoAcknowledgedWrite) {
  const std::string dir = testing::MakeTempDir();
  for (int cycle = 0; cycle < 3; ++cycle) {
    auto stats = testing::RunCrashCycle(dir, cycle, 4, 300);
    ASSERT_TRUE(stats.ok()) << "cycle " << cycle << ": " << stats.status().ToString();
    EXPECT_GT(stats->acknowledged, 0u);
    EXPECT_EQ(stats->verified, stats->acknowledged);
  }
  std::filesystem::remove_all(dir);
}

class TimeTravelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(server_.ok());
    client_ = testing::ConnectTo(server_);
    ASSERT_NE(client_, nullptr);
    ASSERT_TRUE(client_->Apply(kDefinitions).ok());
    EXPECT_EQ(client_->server_durability(), "sync");
    for (int64_t t : {1000, 2000, 3000}) {
      WriteBatch b("stats");
      b.Row({"i1"}, t).Set("pop", float(t) / 1000);
      ASSERT_TRUE(client_->Put(b).ok());
    }
  }
  QuiverdProcess server_;
  std::unique_ptr<Client> client_;
};

TEST_F(TimeTravelTest, GetAsOfTakesOneTimeOrOnePerEntity) {
  auto one = client_->GetAsOf({"stats", {"i1", "i2"}, {2500}, {}});
  ASSERT_TRUE(one.ok()) << one.status().ToString();
  EXPECT_TRUE(one->found(0));
  EXPECT_EQ(one->event_time_ms(0), 2000);
  EXPECT_FLOAT_EQ(one->column("pop")->float32_value(0), 2.0f);
  EXPECT_EQ(one->state(1), RowState::kMissing);
  auto pairs = client_->GetAsOf({"stats", {"i1", "i1", "i1"}, {999, 1000, 99999}, {"pop"}});
  ASSERT_TRUE(pairs.ok());
  EXPECT_FALSE(pairs->found(0));
  EXPECT_FLOAT_EQ(pairs->column("pop")->float32_value(1), 1.0f);
  EXPECT_FLOAT_EQ(pairs->column("pop")->float32_value(2), 3.0f);
  auto wrong = client_->GetAsOf({"stats", {"i1", "i2"}, {1, 2, 3}, {}});
  EXPECT_EQ(wrong.status().code(), StatusCode::kInvalidArgument);
  auto unknown = client_->GetAsOf({"nope", {"i1"}, {1}, {}});
  EXPECT_EQ(unknown.status().code(), StatusCode::kNotFound);
}

TEST_F(TimeTravelTest, HistoryReturnsVersionsAndAggregates) {
  auto all = client_->History({"stats", {"i1"}});
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  ASSERT_EQ(all->size(), 3u);
  EXPECT_EQ(all->event_time_ms(0), 1000);
  EXPECT_EQ(all->event_time_ms(2), 3000);
  HistoryRequest avg{"stats", {"i1"}, 1500, 3000, HistoryAgg::kAvg};
  auto mean = client_->History(avg);
  ASSERT_TRUE(mean.ok());
  ASSERT_EQ(mean->size(), 1u);
  EXPECT_EQ(mean->column("pop")->type().type, FieldType::kFloat64);
  EXPECT_DOUBLE_EQ(mean->column("pop")->float64_value(0), 2.5);
}

TEST_F(TimeTravelTest, TrainingSetBatchesPipelineAndAnswerInOrder) {
  Pipeline pipeline(*client_);
  for (int64_t t : {500, 1500, 2500, 3500}) {
    pipeline.TrainingSet({{"stats:pop"}, {"item_id"}, {{"i1", "i2"}}, {t, t}});
  }
  auto replies = pipeline.Run();
  ASSERT_TRUE(replies.ok()) << replies.status().ToString();
  ASSERT_EQ(replies->size(), 4u);
  const float expected[] = {0, 1, 2, 3};
  for (size_t i = 0; i < 4; ++i) {
    const auto& r = (*replies)[i];
    ASSERT_TRUE(r.status.ok()) << r.status.ToString();
    ASSERT_EQ(r.training->size(), 2u);
    const Column& pop = r.training->columns()[0];
    EXPECT_EQ(pop.name(), "stats:pop");
    EXPECT_EQ(pop.is_null(0), i == 0);
    EXPECT_FLOAT_EQ(pop.float32_value(0), expected[i]);
    EXPECT_TRUE(pop.is_null(1));  // i2 was never written
    EXPECT_EQ(r.training->missing()[0], i == 0 ? 2u : 1u);
  }
}

}  // namespace
}  // namespace quiver
