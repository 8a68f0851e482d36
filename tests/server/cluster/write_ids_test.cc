// The write ids a changelog partition remembers (WriteIds): a window by
// the partition's clock and a cap, the same on every member, and stored
// in the history so that a restart remembers them; and reads waiting for
// changelog positions (ReadWaiters).
#include <filesystem>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "server/cluster/read_waiters.h"
#include "server/cluster/write_ids.h"
#include "storage/history/history_store.h"

namespace quiver::cluster {
namespace {

class WriteIdsTest : public ::testing::Test {
 protected:
  WriteIdsTest() {
    char dir[] = "/tmp/quiver-write-ids-test-XXXXXX";
    dir_ = mkdtemp(dir);
    OpenStore();
  }
  ~WriteIdsTest() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void OpenStore() {
    store_.reset();
    auto s = HistoryStore::Open({.dir = dir_, .durability = Durability::kAsync, .now_ms = {}});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  std::unique_ptr<WriteIds> Open(std::string_view topic = "log", int partitions = 2) {
    auto ids = WriteIds::Open(store_.get(), topic, partitions);
    EXPECT_TRUE(ids.ok()) << ids.status().message();
    return ids.ok() ? std::move(*ids) : nullptr;
  }
  void Commit(HistoryBatch batch) {
    Status result;
    store_->Submit(std::move(batch), [&result](const Status& s) { result = s; });
    store_->Drain();
    ASSERT_TRUE(result.ok()) << result.message();
  }
  // Applies a record as the changelog does: expire, find, remember.
  static const std::string* Apply(WriteIds& ids, int32_t p, std::string_view id, int64_t time,
                                  std::string_view reply, HistoryBatch* batch) {
    ids.Expire(p, time, batch);
    if (const std::string* first = ids.Find(p, id)) return first;
    ids.Remember(p, id, time, reply, batch);
    return nullptr;
  }

  std::string dir_;
  std::unique_ptr<HistoryStore> store_;
};

TEST_F(WriteIdsTest, ARetryGetsTheFirstReplyWithinItsPartitionOnly) {
  auto ids = Open();
  HistoryBatch batch;
  EXPECT_EQ(Apply(*ids, 0, "w1", 1000, "+1 0", &batch), nullptr);
  const std::string* again = Apply(*ids, 0, "w1", 2000, "+0 1", &batch);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(*again, "+1 0");
  EXPECT_EQ(Apply(*ids, 1, "w1", 2000, "+1 0", &batch), nullptr);  // another partition's
  EXPECT_EQ(ids->size(), 2);
  Apply(*ids, 0, "", 2000, "+1 0", &batch);  // no id: nothing remembered
  EXPECT_EQ(ids->size(), 2);
}

TEST_F(WriteIdsTest, AnIdIsForgottenOnceTheClockLeavesItsWindow) {
  auto ids = Open();
  Apply(*ids, 0, "w1", 1000, "+1 0", nullptr);
  EXPECT_NE(Apply(*ids, 0, "w1", 1000 + WriteIds::kWindowMs - 1, "+", nullptr), nullptr);
  ids->Expire(0, 1000 + WriteIds::kWindowMs, nullptr);
  EXPECT_EQ(ids->Find(0, "w1"), nullptr);
  EXPECT_EQ(ids->size(), 0);
}

TEST_F(WriteIdsTest, APartitionKeepsItsNewestIdsUpToTheCap) {
  auto ids = Open("log", 1);
  for (size_t i = 0; i <= WriteIds::kMaxPerPartition; ++i)
    Apply(*ids, 0, "w" + std::to_string(i), 1000, "+1 0", nullptr);
  EXPECT_EQ(ids->size(), static_cast<int64_t>(WriteIds::kMaxPerPartition));
  EXPECT_EQ(ids->Find(0, "w0"), nullptr);  // the oldest went first
  EXPECT_NE(ids->Find(0, "w1"), nullptr);
}

TEST_F(WriteIdsTest, IdsStoredWithTheirBatchAreRememberedAfterARestart) {
  {
    auto ids = Open();
    HistoryBatch batch;
    Apply(*ids, 0, "old", 1000, "+1 0", &batch);
    Apply(*ids, 1, "w2", 2000, "+0 1", &batch);
    Apply(*ids, 0, "w3", 1000 + WriteIds::kWindowMs, "+1 0", &batch);  // forgets "old"
    Commit(std::move(batch));
  }
  OpenStore();
  auto ids = Open();
  EXPECT_EQ(ids->size(), 2);
  EXPECT_EQ(ids->Find(0, "old"), nullptr);
  ASSERT_NE(ids->Find(1, "w2"), nullptr);
  EXPECT_EQ(*ids->Find(1, "w2"), "+0 1");
  ASSERT_NE(ids->Find(0, "w3"), nullptr);
  auto other = Open("another-topic");  // each topic its own ids
  EXPECT_EQ(other->size(), 0);
}

TEST_F(WriteIdsTest, WithoutAHistoryIdsLiveInMemory) {
  auto ids = WriteIds::Open(nullptr, "log", 1);
  ASSERT_TRUE(ids.ok());
  Apply(**ids, 0, "w1", 1000, "+1 0", nullptr);
  EXPECT_NE((*ids)->Find(0, "w1"), nullptr);
}

TEST(ReadWaitersTest, AReadIsServedOnceEveryPositionIsApplied) {
  ReadWaiters waiters;
  int64_t applied[2] = {5, 0};  // the next offset to apply, per partition
  auto is_applied = [&](const Position& p) { return applied[p.partition] > p.offset; };
  std::vector<Status> done;
  auto ready = [&](const Status& s) { done.push_back(s); };
  waiters.Add({{0, 4}}, 10'000, ready, is_applied);  // applied already: at once
  ASSERT_EQ(done.size(), 1u);
  waiters.Add({{0, 4}, {1, 2}}, 10'000, ready, is_applied);
  waiters.Complete(1000, is_applied);
  EXPECT_EQ(done.size(), 1u);
  applied[1] = 3;
  waiters.Complete(1000, is_applied);
  ASSERT_EQ(done.size(), 2u);
  EXPECT_TRUE(done[1].ok());
}

TEST(ReadWaitersTest, AReadWhoseTimeRunsOutFailsNamingThePositionItLacked) {
  ReadWaiters waiters;
  auto is_applied = [](const Position& p) { return p.partition == 0; };
  std::vector<Status> done;
  waiters.Add(
      {{0, 1}, {3, 7}}, 500, [&](const Status& s) { done.push_back(s); }, is_applied);
  waiters.Complete(499, is_applied);
  EXPECT_TRUE(done.empty());
  waiters.Complete(500, is_applied);
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(done[0].message().find("offset 7 of changelog partition 3"), std::string::npos);
  waiters.Add(
      {{3, 7}}, 10'000, [&](const Status& s) { done.push_back(s); }, is_applied);
  waiters.FailAll(Status::Unavailable("shutting down"));
  ASSERT_EQ(done.size(), 2u);
  EXPECT_EQ(done[1].message(), "shutting down");
}

}  // namespace
}  // namespace quiver::cluster
