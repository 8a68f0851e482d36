#include "storage/memory/memory_budget.h"

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>

#include "storage/history/history_store.h"
#include "storage/online/online_table.h"
#include "support/quiverd_process.h"

namespace quiver {
namespace {

TEST(MemoryBudgetTest, TheTotalIsEveryPartAndTheLimitRefusesPastIt) {
  MemoryBudget budget(1000);
  budget.Add(MemoryPart::kRows, 600);
  budget.Add(MemoryPart::kClients, 300);
  EXPECT_EQ(budget.total(), 900);
  EXPECT_TRUE(budget.Check(100, "write refused", "reads continue").ok());
  Status refused = budget.Check(101, "write refused", "reads continue");
  EXPECT_EQ(refused.kind(), ErrorKind::kOutOfMemory);
  EXPECT_EQ(refused.message(),
            "write refused: quiverd holds 900 bytes (rows 600, clients 300) and its limit is 1000 "
            "(--max-memory); reads continue");
  EXPECT_TRUE(budget.Near(8));  // within 125 bytes of 1000
  EXPECT_FALSE(budget.Near(100));
  budget.set_limit(0);  // no limit: nothing is refused
  EXPECT_TRUE(budget.Check(1 << 30, "write refused", "").ok());
  EXPECT_FALSE(budget.Near(8));
}

TEST(MemoryBudgetTest, ASharePutsItsLastValueInItsPartAndTakesItBackWhenDestroyed) {
  MemoryBudget budget;
  {
    MemoryBudget::Share share(&budget, MemoryPart::kTransactions);
    share.Set(500);
    share.Set(200);
    EXPECT_EQ(budget.bytes(MemoryPart::kTransactions), 200);
    MemoryBudget::Share other(&budget, MemoryPart::kTransactions);
    other.Set(50);
    EXPECT_EQ(budget.bytes(MemoryPart::kTransactions), 250);
  }
  EXPECT_EQ(budget.bytes(MemoryPart::kTransactions), 0);
  MemoryBudget::Share nowhere;  // without a budget: counts nothing
  nowhere.Set(10);
}

TEST(MemoryBudgetTest, GaugesAreReadOnRefreshAndTheirPartEmptiesWithTheLastOne) {
  MemoryBudget budget;
  int64_t cache = 100, readers = 20;
  MemoryBudget::Gauge a = budget.Track(MemoryPart::kHistory, [&] { return cache; });
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 0);  // until the first refresh
  budget.Refresh();
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 100);
  {
    MemoryBudget::Gauge b = budget.Track(MemoryPart::kHistory, [&] { return readers; });
    cache = 150;
    budget.Refresh();
    EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 170);
  }
  budget.Refresh();
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 150);
  MemoryBudget::Gauge moved = std::move(a);
  a = {};  // the moved-from gauge tracks nothing
  budget.Refresh();
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 150);
  moved = {};
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 0);
}

TEST(MemoryBudgetTest, TheTableCountsItsRowsInTheBudgetAndObeysItsLimit) {
  MemoryBudget budget;
  OnlineTable table({.shards = 4, .budget = &budget});
  table.AddMemory(1000);
  EXPECT_EQ(budget.bytes(MemoryPart::kRows), 1000);
  EXPECT_EQ(table.memory_bytes(), 1000);
  table.set_max_memory_bytes(5000);
  EXPECT_EQ(budget.limit(), 5000);
  budget.Add(MemoryPart::kClients, 4000);  // another part fills the budget
  Status refused = budget.Check(1, "write refused", "reads continue");
  EXPECT_EQ(refused.kind(), ErrorKind::kOutOfMemory);
  table.AddMemory(-1000);
  budget.Add(MemoryPart::kClients, -4000);
}

TEST(MemoryBudgetTest, RocksDbMemtablesAndCacheAreOneMeasuredPart) {
  const std::string dir = testing::MakeTempDir();
  MemoryBudget budget;
  {
    auto opened = HistoryStore::Open({.dir = dir,
                                      .durability = Durability::kNone,
                                      .block_cache_bytes = 64 << 20,
                                      .budget = &budget});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    HistoryStore& store = **opened;
    HistoryBatch batch;
    const std::string value(1000, 'v');
    for (int i = 0; i < 4000; ++i)
      batch.Put(HistoryStore::kLatest, "key" + std::to_string(i), value);
    store.Submit(std::move(batch), nullptr);
    store.Drain();
    ASSERT_TRUE(store.health().ok());
    budget.Refresh();
    // Four MB of writes sit in a memtable, which is charged to the cache.
    EXPECT_GE(budget.bytes(MemoryPart::kHistory), 4 << 20);
    EXPECT_EQ(budget.bytes(MemoryPart::kHistory), store.memory_bytes());
  }
  EXPECT_EQ(budget.bytes(MemoryPart::kHistory), 0);  // closed: its gauge is gone
  std::filesystem::remove_all(dir);
}

TEST(MemoryBudgetTest, RocksDbTakesAQuarterOfTheLimitAndFlushesToStayWithinIt) {
  const std::string dir = testing::MakeTempDir();
  MemoryBudget budget(128 << 20);  // RocksDB's share: 32 MB, memtables flushed at 24 MB
  {
    auto opened =
        HistoryStore::Open({.dir = dir, .durability = Durability::kAsync, .budget = &budget});
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    HistoryStore& store = **opened;
    // Writes 80 MB; returns the most RocksDB held meanwhile. With pace,
    // each megabyte waits for the flush in progress, as a disk keeping up
    // would let it: how far the memtables grow past their bound while a
    // flush runs depends on the machine's load, not on quiver.
    auto write = [&store, n = 0](bool pace) mutable {
      const std::string value(1000, 'v');
      int64_t most = 0;
      for (int round = 0; round < 80; ++round) {
        HistoryBatch batch;
        for (int i = 0; i < 1000; ++i)
          batch.Put(HistoryStore::kLatest, "key" + std::to_string(n++), value);
        store.Submit(std::move(batch), nullptr);
        store.Drain();
        most = std::max(most, store.memory_bytes());
        while (pace && store.flushing())
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      return most;
    };
    const int64_t most = write(true);
    ASSERT_TRUE(store.health().ok());
    // The memtables fill most of their 24 MB before a flush, and no more:
    // the 80 MB never gather (without a limit they do, below).
    EXPECT_GE(most, 16 << 20);
    EXPECT_LE(most, 36 << 20);
    // Without a limit, RocksDB has --history-cache (256 MB): the memtables
    // take the 80 MB unflushed.
    store.FitMemory(0);
    EXPECT_GE(write(false), 80 << 20);
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace quiver
