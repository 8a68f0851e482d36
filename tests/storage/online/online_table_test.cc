#include "storage/online/online_table.h"

#include <atomic>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <urcu/urcu-memb.h>

#include "util/rcu.h"

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

// A RetireBatch hands its callbacks over when it closes, or every kMaxBatch:
// none runs before, and every one runs after.
TEST(RetireBatchTest, CallbacksRunOnlyOnceHandedOverAndAllOfThemThen) {
  rcu::ThreadRegistration registration;
  static std::atomic<int> ran{0};
  ran = 0;
  constexpr size_t kCount = 2 * rcu::RetireBatch::kMaxBatch + 10;
  std::vector<rcu_head> heads(kCount);
  {
    rcu::RetireBatch batch;
    {
      rcu::RetireBatch nested;
      for (rcu_head& h : heads)
        rcu::Retire(&h, [](rcu_head*) {
          rcu::BeforeReclaim();
          ++ran;
          rcu::AfterReclaim();
        });
    }
    rcu::Barrier();
    EXPECT_EQ(ran, static_cast<int>(2 * rcu::RetireBatch::kMaxBatch));  // the full ones
  }
  rcu::Barrier();
  EXPECT_EQ(ran, static_cast<int>(kCount));
}

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

TEST_F(OnlineTableTest, ASweepInSlicesGoesOnFromItsCursorUntilThePassEnds) {
  constexpr int kRows = 20000;
  for (int i = 0; i < kRows; ++i) {
    // Every third row expires at 1000, the others never.
    ASSERT_TRUE(Put("k" + std::to_string(i), 1, i, i % 3 == 0 ? 1000 : kNeverExpires).ok());
  }
  OnlineTable::SweepCursor cursor;
  size_t removed = 0, slices = 0;
  std::vector<int> seen;
  for (bool finished = false; !finished; ++slices) {
    ASSERT_LT(slices, 100000u) << "a slice with its deadline passed must still make progress";
    // A deadline already passed: each slice stops at its first clock read.
    const auto slice =
        table_.SweepExpired(1000, &cursor, OnlineTable::SweepDeadline::min(), [&](const Record& r) {
          int64_t v;
          std::memcpy(&v, r.value().data(), sizeof v);
          seen.push_back(static_cast<int>(v));
        });
    removed += slice.removed;
    finished = slice.finished;
  }
  EXPECT_GT(slices, 10u) << "the pass should have been cut into slices";
  EXPECT_EQ(removed, static_cast<size_t>((kRows + 2) / 3));
  EXPECT_EQ(seen.size(), removed);
  for (int v : seen)
    EXPECT_EQ(v % 3, 0) << "only rows with an expiry that ended are removed";
  EXPECT_EQ(table_.size(), kRows - static_cast<int64_t>(removed));
  EXPECT_EQ(Get("k1"), 1);
  EXPECT_EQ(Get("k3"), std::nullopt);
  EXPECT_EQ(cursor.shard, 0u) << "a finished pass starts the next one from the beginning";
  EXPECT_EQ(
      table_.SweepExpired(1000, &cursor, OnlineTable::SweepDeadline::max(), [](const Record&) {})
          .removed,
      0u);
}

// Slices of a pass with its deadline already passed until the pass ends;
// returns how many slices it took and adds what they removed to *removed.
size_t SweepPassInSlices(OnlineTable& table, int64_t now_ms, size_t* removed) {
  OnlineTable::SweepCursor cursor;
  size_t slices = 0;
  for (bool finished = false; !finished; ++slices) {
    const auto slice = table.SweepExpired(now_ms, &cursor, OnlineTable::SweepDeadline::min(),
                                          [](const Record&) {});
    *removed += slice.removed;
    finished = slice.finished;
  }
  return slices;
}

// Each shard keeps a lower bound of its rows' expiries: a pass skips the
// shards where nothing is due without reading them (so a pass with its
// deadline passed still ends in one slice), and raises the bound back to
// what is left after reading one.
TEST_F(OnlineTableTest, ASweepSkipsTheShardsWhereNothingIsDue) {
  constexpr int kRows = 20000;
  for (int i = 0; i < kRows; ++i)
    ASSERT_TRUE(Put("k" + std::to_string(i), 1, i, i % 2 == 0 ? 1000 : 5000).ok());
  size_t removed = 0;
  EXPECT_EQ(SweepPassInSlices(table_, 999, &removed), 1u) << "nothing due: every shard skipped";
  EXPECT_EQ(removed, 0u);
  EXPECT_GT(SweepPassInSlices(table_, 1000, &removed), 10u) << "shards with rows due are read";
  EXPECT_EQ(removed, static_cast<size_t>(kRows / 2));
  EXPECT_EQ(SweepPassInSlices(table_, 4999, &removed), 1u) << "the bounds were raised to 5000";
  EXPECT_GT(SweepPassInSlices(table_, 5000, &removed), 10u);
  EXPECT_EQ(removed, static_cast<size_t>(kRows));
  EXPECT_EQ(table_.size(), 0);
  EXPECT_EQ(SweepPassInSlices(table_, 1'000'000, &removed), 1u) << "empty shards are skipped";

  // A row written after its shard was swept lowers the bound again.
  ASSERT_TRUE(Put("late", 1, 7, 6000).ok());
  ASSERT_TRUE(Put("forever", 1, 8).ok());
  EXPECT_EQ(SweepPassInSlices(table_, 5999, &removed), 1u);
  EXPECT_EQ(table_.SweepExpired(6000), 1u);
  EXPECT_EQ(Get("late"), std::nullopt);
  EXPECT_EQ(Get("forever"), 8);
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
// Runs writer(0) .. writer(n - 1) on threads of their own, waits for them,
// then sets *done for the threads that run until the writers are through.
template <typename Writer>
void RunWriters(int n, Writer& writer, std::atomic<bool>* done) {
  std::vector<std::thread> writers;
  for (int w = 0; w < n; ++w)
    writers.emplace_back(writer, w);
  for (auto& t : writers)
    t.join();
  done->store(true, std::memory_order_release);
}

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
  RunWriters(3, writer, &done);
  for (auto& t : threads)
    t.join();
  EXPECT_GT(reads.load(), 0);
  rcu::Barrier();
}

// One round of RowsWrittenDuringASweepAreSweptLater: the rows left.
int64_t RowsLeftAfterWritingDuringASweep() {
  OnlineTable table(OnlineTable::Options{.shards = 8});
  constexpr int kWritesPerWriter = 30'000;
  std::atomic<bool> done{false};
  auto writer = [&](int id) {
    rcu::ThreadRegistration reg;
    for (int n = 0; n < kWritesPerWriter; ++n) {
      const std::string key = std::to_string(id) + "/" + std::to_string(n % 10'000);
      rcu::ReadLock lock;
      EXPECT_TRUE(table
                      .Upsert(1, key, n,
                              [&](const Record*) { return MakeRecord(1, key, n, n, 1 + n % 100); })
                      .ok());
    }
  };
  auto sweeper = [&] {
    rcu::ThreadRegistration reg;
    OnlineTable::SweepCursor cursor;
    while (!done.load(std::memory_order_acquire)) {
      table.SweepExpired(1000, &cursor, std::chrono::steady_clock::now(), [](const Record&) {});
    }
  };
  std::thread sweeping(sweeper);
  RunWriters(2, writer, &done);
  sweeping.join();
  rcu::ThreadRegistration reg;
  // A pass that was cut short resumes; the next is a whole one.
  size_t removed = 0;
  SweepPassInSlices(table, 1000, &removed);
  SweepPassInSlices(table, 1000, &removed);
  const int64_t left = table.size();
  rcu::Barrier();
  return left;
}

// Writers publish rows that are already expired while a sweep runs in slices
// and the shards grow: however their writes interleave with the sweep's
// passes, no row is left out of its shard's bound, so the passes after the
// writers stop remove every one.
TEST(OnlineTableConcurrency, RowsWrittenDuringASweepAreSweptLater) {
  for (int round = 0; round < 6; ++round)
    EXPECT_EQ(RowsLeftAfterWritingDuringASweep(), 0) << "rows outside their shard's bound stay";
}

// Tables grow (copying their slots) while writers insert and replace and
// readers look keys up, one by one and in batches: nothing is lost, nothing
// is duplicated, and no reader sees a torn record.
TEST(OnlineTableConcurrency, GrowingUnderConcurrentWritersAndReaders) {
  OnlineTable table(OnlineTable::Options{.shards = 2});  // few shards: many grows
  constexpr int kWriters = 3;
  constexpr int kKeysPerWriter = 20'000;
  std::atomic<bool> done{false};
  auto key_of = [](int writer, int n) {
    return "w" + std::to_string(writer) + "-" + std::to_string(n);
  };

  auto writer = [&](int id) {
    rcu::ThreadRegistration reg;
    for (int n = 0; n < kKeysPerWriter; ++n) {
      for (int version = 0; version < (n % 3 == 0 ? 2 : 1); ++version) {  // some keys twice
        const std::string key = key_of(id, n);
        const int64_t event_time = version;
        rcu::ReadLock lock;
        auto r = table.Upsert(1, key, event_time, [&](const Record*) {
          return MakeRecord(1, key, event_time, event_time * 10);
        });
        ASSERT_TRUE(r.ok());
      }
    }
  };
  auto reader = [&] {
    rcu::ThreadRegistration reg;
    std::vector<std::string> names;
    for (int n = 0; n < 64; ++n)
      names.push_back(key_of(n % kWriters, n * 97 % kKeysPerWriter));
    std::vector<std::string_view> keys(names.begin(), names.end());
    std::vector<const Record*> found(keys.size());
    while (!done.load(std::memory_order_acquire)) {
      rcu::ReadLock lock;
      table.FindMany(1, keys, found);
      for (size_t i = 0; i < keys.size(); ++i) {
        if (found[i] == nullptr) continue;
        ASSERT_EQ(found[i]->key(), keys[i]);
        ASSERT_EQ(ValueOf(found[i]), found[i]->event_time_ms * 10);
        ASSERT_EQ(table.Find(1, keys[i])->key(), keys[i]);
      }
    }
  };
  std::vector<std::thread> readers;
  for (int r = 0; r < 2; ++r)
    readers.emplace_back(reader);
  RunWriters(kWriters, writer, &done);
  for (auto& t : readers)
    t.join();

  EXPECT_EQ(table.size(), kWriters * kKeysPerWriter);
  rcu::ReadLock lock;
  for (int w = 0; w < kWriters; ++w) {
    for (int n = 0; n < kKeysPerWriter; ++n) {
      const Record* r = table.Find(1, key_of(w, n));
      ASSERT_NE(r, nullptr) << key_of(w, n);
      ASSERT_EQ(r->event_time_ms, n % 3 == 0 ? 1 : 0) << "the newest version is served";
    }
  }
  int64_t visited = 0;
  table.ForEachInView(1, [&](const Record&) { ++visited; });
  EXPECT_EQ(visited, kWriters * kKeysPerWriter) << "no key appears twice";
  int64_t all = 0;
  table.ForEach([&](const Record&) { ++all; });
  EXPECT_EQ(all, table.size()) << "every record of every view, once";
}

TEST_F(OnlineTableTest, FindManyAnswersEachKey) {
  for (int i = 0; i < 100; ++i)
    ASSERT_TRUE(Put("k" + std::to_string(i), 1, i).ok());
  std::vector<std::string> names;
  for (int i = 0; i < 150; i += 3)
    names.push_back("k" + std::to_string(i));
  std::vector<std::string_view> keys(names.begin(), names.end());
  std::vector<const Record*> found(keys.size());
  rcu::ReadLock lock;
  table_.FindMany(1, keys, found);
  for (size_t i = 0; i < keys.size(); ++i) {
    const int n = static_cast<int>(i) * 3;
    if (n < 100) {
      ASSERT_NE(found[i], nullptr);
      EXPECT_EQ(ValueOf(found[i]), n);
    } else {
      EXPECT_EQ(found[i], nullptr);
    }
  }
}

TEST_F(OnlineTableTest, ErasedKeysCanComeBackAndTombstonesAreReclaimed) {
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 5000; ++i)
      ASSERT_TRUE(Put("k" + std::to_string(i), round, round).ok());
    rcu::ReadLock lock;
    for (int i = 0; i < 5000; i += 2)
      ASSERT_TRUE(table_.Erase(1, "k" + std::to_string(i)));
  }
  EXPECT_EQ(table_.size(), 5000 / 2 + 0);
  for (int i = 0; i < 5000; ++i) {
    EXPECT_EQ(Get("k" + std::to_string(i)), i % 2 == 0 ? std::nullopt : std::optional<int64_t>(4));
  }
}

}  // namespace
}  // namespace quiver
