#include "storage/online_table.h"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/rcu.h"

namespace quiver {
namespace {

// A record whose value is one int64 (the "version" a writer wrote).
Record* MakeRecord(uint32_t view, std::string_view key, int64_t event_time, int64_t value,
                   int64_t expire_at = kNeverExpires) {
  Record* r = Record::Allocate(view, key, sizeof value);
  std::memcpy(r->mutable_value(), &value, sizeof value);
  r->event_time_ms = event_time;
  r->expire_at_ms = expire_at;
  return r;
}

int64_t ValueOf(const Record* r) {
  int64_t v;
  std::memcpy(&v, r->value().data(), sizeof v);
  return v;
}

class OnlineTableTest : public ::testing::Test {
 protected:
  Result<OnlineTable::Outcome> Put(std::string_view key, int64_t event_time, int64_t value,
                                   int64_t expire_at = kNeverExpires) {
    rcu::ReadLock lock;
    return table_.Upsert(1, key, event_time, [&](const Record*) {
      return MakeRecord(1, key, event_time, value, expire_at);
    });
  }
  std::optional<int64_t> Get(std::string_view key, uint32_t view = 1) {
    rcu::ReadLock lock;
    const Record* r = table_.Find(view, key);
    return r ? std::optional<int64_t>(ValueOf(r)) : std::nullopt;
  }

  rcu::ThreadRegistration registration_;
  OnlineTable table_{OnlineTable::Options{}};
};

TEST_F(OnlineTableTest, InsertThenFind) {
  EXPECT_EQ(*Put("u1", 100, 7), OnlineTable::Outcome::kInserted);
  EXPECT_EQ(Get("u1"), 7);
  EXPECT_EQ(Get("u2"), std::nullopt);
  EXPECT_EQ(Get("u1", /*view=*/2), std::nullopt) << "views do not share keys";
  EXPECT_EQ(table_.size(), 1);
}

TEST_F(OnlineTableTest, NewerEventReplacesOlder) {
  ASSERT_TRUE(Put("u1", 100, 1).ok());
  EXPECT_EQ(*Put("u1", 200, 2), OnlineTable::Outcome::kReplaced);
  EXPECT_EQ(Get("u1"), 2);
  EXPECT_EQ(table_.size(), 1);
}

TEST_F(OnlineTableTest, LateEventNeverReplacesNewerValue) {
  ASSERT_TRUE(Put("u1", 200, 2).ok());
  EXPECT_EQ(*Put("u1", 199, 1), OnlineTable::Outcome::kStale);
  EXPECT_EQ(Get("u1"), 2);
}

TEST_F(OnlineTableTest, EqualEventTimeGoesToLaterArrival) {
  ASSERT_TRUE(Put("u1", 200, 1).ok());
  EXPECT_EQ(*Put("u1", 200, 2), OnlineTable::Outcome::kReplaced);
  EXPECT_EQ(Get("u1"), 2);
}

TEST_F(OnlineTableTest, EraseRemovesKey) {
  ASSERT_TRUE(Put("u1", 1, 1).ok());
  {
    rcu::ReadLock lock;
    EXPECT_TRUE(table_.Erase(1, "u1"));
    EXPECT_FALSE(table_.Erase(1, "u1"));
  }
  EXPECT_EQ(Get("u1"), std::nullopt);
  EXPECT_EQ(table_.size(), 0);
  EXPECT_EQ(table_.memory_bytes(), 0);
}

TEST_F(OnlineTableTest, SweepRemovesOnlyExpired) {
  ASSERT_TRUE(Put("old", 1, 1, /*expire_at=*/1000).ok());
  ASSERT_TRUE(Put("new", 1, 2, /*expire_at=*/5000).ok());
  ASSERT_TRUE(Put("forever", 1, 3).ok());
  EXPECT_EQ(table_.SweepExpired(999), 0u);
  EXPECT_EQ(table_.SweepExpired(1000), 1u) << "expiry instant itself is expired";
  EXPECT_EQ(Get("old"), std::nullopt);
  EXPECT_EQ(Get("new"), 2);
  EXPECT_EQ(Get("forever"), 3);
}

TEST_F(OnlineTableTest, MemoryLimitRefusesWritesButKeepsReads) {
  OnlineTable small(OnlineTable::Options{.shards = 4, .max_memory_bytes = 4096});
  int written = 0;
  Status last;
  for (int i = 0; i < 1000 && last.ok(); ++i) {
    rcu::ReadLock lock;
    const std::string key = "k" + std::to_string(i);
    auto r = small.Upsert(1, key, 1, [&](const Record*) { return MakeRecord(1, key, 1, i); });
    last = r.status();
    written += r.ok() ? 1 : 0;
  }
  EXPECT_EQ(last.code(), StatusCode::kResourceExhausted);
  EXPECT_NE(last.message().find("--max-memory"), std::string::npos);
  EXPECT_GT(written, 10);
  EXPECT_LE(small.memory_bytes(), 4096);
  rcu::ReadLock lock;
  EXPECT_NE(small.Find(1, "k0"), nullptr) << "reads go on at the limit";
}

TEST_F(OnlineTableTest, ManyKeysSurviveResizing) {
  constexpr int kKeys = 200'000;
  for (int i = 0; i < kKeys; ++i)
    ASSERT_TRUE(Put("key" + std::to_string(i), 1, i).ok());
  EXPECT_EQ(table_.size(), kKeys);
  for (int i = 0; i < kKeys; i += 997)
    EXPECT_EQ(Get("key" + std::to_string(i)), i);
}

// Readers never see a torn or freed record while writers replace values and
// the sweeper removes them. Run under ThreadSanitizer and AddressSanitizer.
TEST(OnlineTableConcurrency, ReadersSeeWholeRecordsWhileWritersReplace) {
  OnlineTable table(OnlineTable::Options{.shards = 8});
  constexpr int kKeys = 64;
  constexpr int kWritesPerWriter = 20'000;
  std::atomic<bool> done{false};
  std::atomic<int64_t> reads{0};

  auto writer = [&](int id) {
    rcu::ThreadRegistration reg;
    for (int n = 0; n < kWritesPerWriter; ++n) {
      const std::string key = "k" + std::to_string(n % kKeys);
      const int64_t event_time = n;
      rcu::ReadLock lock;
      // The value encodes the event time so readers can check consistency.
      auto r = table.Upsert(1, key, event_time, [&](const Record*) {
        return MakeRecord(1, key, event_time, event_time * 10 + id, n % 7 == 0 ? 0 : kNeverExpires);
      });
      ASSERT_TRUE(r.ok());
    }
  };
  auto reader = [&] {
    rcu::ThreadRegistration reg;
    while (!done.load(std::memory_order_acquire)) {
      for (int k = 0; k < kKeys; ++k) {
        rcu::ReadLock lock;
        const Record* r = table.Find(1, "k" + std::to_string(k));
        if (r == nullptr) continue;
        ASSERT_EQ(ValueOf(r) / 10, r->event_time_ms);
        ASSERT_EQ(r->key(), "k" + std::to_string(k));
        reads.fetch_add(1, std::memory_order_relaxed);
      }
    }
  };
  auto sweeper = [&] {
    rcu::ThreadRegistration reg;
    while (!done.load(std::memory_order_acquire))
      table.SweepExpired(1);
  };

  std::vector<std::thread> threads;
  threads.emplace_back(reader);
  threads.emplace_back(reader);
  threads.emplace_back(sweeper);
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w)
    writers.emplace_back(writer, w);
  for (auto& t : writers)
    t.join();
  done.store(true, std::memory_order_release);
  for (auto& t : threads)
    t.join();
  EXPECT_GT(reads.load(), 0);
  rcu::Barrier();
}

}  // namespace
}  // namespace quiver
