// KeySpace: plain keys in the online table: atomic read-modify-write from
// many threads, expiry, counts, SCAN's guarantee while the table grows,
// databases, stamps, and the gate.
#include "storage/keyspace/keyspace.h"

#include <atomic>
#include <charconv>
#include <cstring>
#include <deque>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keyspace/packed_items.h"
#include "util/rcu.h"

namespace quiver {
namespace {

using Change = KeySpace::Change;

class KeySpaceTest : public ::testing::Test {
 protected:
  KeySpaceTest()
      : table_({.shards = 4}),
        ks_(table_, {.databases = 4, .now_ms = [this] { return now_.load(); }}) {}

  Status Set(int db, const std::string& key, std::string_view value,
             int64_t expire = kNeverExpires) {
    rcu::ReadLock lock;
    return ks_
        .Mutate(db, key,
                [&](const Record*) -> Result<Change> {
                  return Change{Change::kPut,
                                ks_.NewRecord(db, key, RecordKind::kString, value, expire)};
                })
        .status();
  }
  std::string Get(int db, const std::string& key) {
    rcu::ReadLock lock;
    const Record* r = ks_.Find(db, key);
    if (r == nullptr) return "<none>";
    return {reinterpret_cast<const char*>(r->value().data()), r->value().size()};
  }

  rcu::ThreadRegistration registration_;
  std::atomic<int64_t> now_{1000};
  OnlineTable table_;
  KeySpace ks_;
};

TEST_F(KeySpaceTest, DatabasesAreSeparateAndCounted) {
  ASSERT_TRUE(Set(0, "k", "zero").ok());
  ASSERT_TRUE(Set(1, "k", "one").ok());
  ASSERT_TRUE(Set(1, "k", "one again").ok());
  EXPECT_EQ(Get(0, "k"), "zero");
  EXPECT_EQ(Get(1, "k"), "one again");
  EXPECT_EQ(ks_.Size(0), 1);
  EXPECT_EQ(ks_.Size(1), 1);
  EXPECT_EQ(ks_.Flush(1), 1u);
  EXPECT_EQ(ks_.Size(1), 0);
  EXPECT_EQ(Get(0, "k"), "zero");
  EXPECT_EQ(ks_.Flush(-1), 1u);
  EXPECT_EQ(ks_.Size(0), 0);
}

TEST_F(KeySpaceTest, ExpiredKeysAreAbsentAndRemovedByWritesOrTheSweep) {
  ASSERT_TRUE(Set(0, "a", "v", 2000).ok());
  ASSERT_TRUE(Set(0, "b", "v", 2000).ok());
  EXPECT_EQ(ks_.Expiring(0), 2);
  now_ = 2000;
  EXPECT_EQ(Get(0, "a"), "<none>");
  {
    rcu::ReadLock lock;
    EXPECT_NE(ks_.Stamp(0, "a"), 0u) << "an absent key has a stamp too";
    bool saw = true;
    // A mutator that keeps an expired key removes it.
    ASSERT_TRUE(ks_.Mutate(0, "a",
                           [&](const Record* cur) -> Result<Change> {
                             saw = cur != nullptr;
                             return Change{};
                           })
                    .ok());
    EXPECT_FALSE(saw);
  }
  EXPECT_EQ(ks_.Size(0), 1);
  EXPECT_EQ(table_.SweepExpired(now_, [&](const Record& r) { ks_.Swept(r); }), 1u);
  EXPECT_EQ(ks_.Size(0), 0);
  EXPECT_EQ(ks_.Expiring(0), 0);
}

TEST_F(KeySpaceTest, ConcurrentIncrementsLoseNothing) {
  constexpr int kThreads = 4, kEach = 2000;
  auto incr = [&] {
    rcu::ThreadRegistration registration;
    for (int i = 0; i < kEach; ++i) {
      KeySpace::SharedGate gate(ks_);
      rcu::ReadLock lock;
      ASSERT_TRUE(ks_.Mutate(0, "n",
                             [&](const Record* cur) -> Result<Change> {
                               int64_t v = 0;
                               if (cur != nullptr) {
                                 auto b = reinterpret_cast<const char*>(cur->value().data());
                                 std::from_chars(b, b + cur->value().size(), v);
                               }
                               const std::string text = std::to_string(v + 1);
                               return Change{
                                   Change::kPut,
                                   ks_.NewRecord(0, "n", RecordKind::kString, text, kNeverExpires)};
                             })
                      .ok());
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t)
    threads.emplace_back(incr);
  for (auto& t : threads)
    t.join();
  EXPECT_EQ(Get(0, "n"), std::to_string(kThreads * kEach));
  EXPECT_EQ(ks_.Size(0), 1);
}

TEST_F(KeySpaceTest, ExclusiveGateExcludesSharedWriters) {
  // Two keys always written together under the exclusive gate, and one at
  // a time under the shared gate: a reader under the shared gate never
  // sees them differ.
  ASSERT_TRUE(Set(0, "a", "0").ok());
  ASSERT_TRUE(Set(0, "b", "0").ok());
  std::atomic<bool> stop{false};
  std::atomic<int> checks{0};
  std::thread pair_writer([&] {
    rcu::ThreadRegistration registration;
    // At least 500 pairs, and on until the reader has checked many times
    // (a busy machine may schedule the reader late).
    for (int i = 1; i <= 500 || checks < 1000; ++i) {
      KeySpace::ExclusiveGate gate(ks_);
      ASSERT_TRUE(Set(0, "a", std::to_string(i)).ok());
      ASSERT_TRUE(Set(0, "b", std::to_string(i)).ok());
    }
    stop = true;
  });
  rcu::ThreadRegistration registration;
  int mismatches = 0;
  while (!stop) {
    KeySpace::SharedGate gate(ks_);
    if (Get(0, "a") != Get(0, "b")) ++mismatches;
    ++checks;
  }
  pair_writer.join();
  EXPECT_EQ(mismatches, 0);
  EXPECT_GE(checks, 1000);
}

TEST_F(KeySpaceTest, AClockScopeFreezesTheTimeOnItsThreadOnly) {
  now_ = 1000;
  ASSERT_TRUE(Set(0, "k", "v", 1500).ok());
  {
    KeySpace::ClockScope clock(ks_);
    now_ = 2000;
    EXPECT_EQ(ks_.NowMs(), 1000);
    EXPECT_EQ(Get(0, "k"), "v");  // expiry judged at the scope's start
    std::thread([&] { EXPECT_EQ(ks_.NowMs(), 2000); }).join();
    {
      KeySpace::ClockScope inner(ks_);
      now_ = 3000;
      EXPECT_EQ(ks_.NowMs(), 2000);
    }
    EXPECT_EQ(ks_.NowMs(), 1000);
  }
  EXPECT_EQ(ks_.NowMs(), 3000);
  EXPECT_EQ(Get(0, "k"), "<none>");
}

TEST_F(KeySpaceTest, ThreadsTakingNewStripesAreExcludedToo) {
  // The exclusive gate takes only the stripes in use: readers on threads
  // that start while pairs are being written (each its own new stripe,
  // until all are in use) must still never see the pair differ.
  ASSERT_TRUE(Set(0, "a", "0").ok());
  ASSERT_TRUE(Set(0, "b", "0").ok());
  std::atomic<bool> stop{false};
  std::thread pair_writer([&] {
    rcu::ThreadRegistration registration;
    for (int i = 1; !stop; ++i) {
      KeySpace::ExclusiveGate gate(ks_);
      ASSERT_TRUE(Set(0, "a", std::to_string(i)).ok());
      ASSERT_TRUE(Set(0, "b", std::to_string(i)).ok());
    }
  });
  std::atomic<int> mismatches{0};
  for (int round = 0; round < 12; ++round) {
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t) {
      readers.emplace_back([&] {
        rcu::ThreadRegistration registration;
        for (int i = 0; i < 200; ++i) {
          KeySpace::SharedGate gate(ks_);
          if (Get(0, "a") != Get(0, "b")) ++mismatches;
        }
      });
    }
    for (auto& t : readers)
      t.join();
  }
  stop = true;
  pair_writer.join();
  EXPECT_EQ(mismatches, 0);
}

// A gate taken with give_up, while another thread holds the exclusive
// gate: it waits while give_up says so, and once it says stop, holds
// nothing; the holder's gate is untouched.
TEST_F(KeySpaceTest, AGateGivesUpWhenToldAndHoldsNothing) {
  std::atomic<bool> release{false};
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    KeySpace::ExclusiveGate gate(ks_);
    holding = true;
    while (!release)
      std::this_thread::yield();
  });
  while (!holding)
    std::this_thread::yield();
  int asked = 0;
  auto third_time = [&] { return ++asked == 3; };
  {
    KeySpace::SharedGate shared(ks_, third_time);
    EXPECT_FALSE(shared.held());
    EXPECT_EQ(asked, 3);
  }
  asked = 0;
  {
    KeySpace::ExclusiveGate exclusive(ks_, third_time);
    EXPECT_FALSE(exclusive.held());
    EXPECT_EQ(asked, 3);
  }
  release = true;
  holder.join();
  // Nothing was left held: both gates can be taken, at once.
  KeySpace::ExclusiveGate exclusive(ks_, [] { return true; });
  EXPECT_TRUE(exclusive.held());
}

TEST_F(KeySpaceTest, AGateWithGiveUpWaitsForTheHolderWhileToldTo) {
  std::atomic<bool> release{false};
  std::atomic<bool> holding{false};
  std::thread holder([&] {
    rcu::ThreadRegistration registration;
    KeySpace::ExclusiveGate gate(ks_);
    holding = true;
    while (!release)
      std::this_thread::yield();
    ASSERT_TRUE(Set(0, "k", "written").ok());  // before the waiter's gate opens
  });
  while (!holding)
    std::this_thread::yield();
  rcu::ThreadRegistration registration;
  // Asked after each slice of waiting: the second time, the holder lets go.
  int asked = 0;
  KeySpace::SharedGate gate(ks_, [&] {
    if (++asked == 2) release = true;
    return false;
  });
  EXPECT_TRUE(gate.held());
  EXPECT_GE(asked, 2);
  EXPECT_EQ(Get(0, "k"), "written");
  holder.join();
}

TEST_F(KeySpaceTest, ScanReturnsEveryKeyPresentThroughoutWhileTheTableGrows) {
  std::set<std::string> before;
  for (int i = 0; i < 3000; ++i) {
    before.insert("old" + std::to_string(i));
    ASSERT_TRUE(Set(2, "old" + std::to_string(i), "v").ok());
  }
  std::set<std::string> seen;
  uint64_t cursor = 0;
  int round = 0;
  do {
    {
      rcu::ReadLock lock;
      cursor = ks_.Scan(2, cursor, 25, [&](const Record& r) { seen.insert(std::string(r.key())); });
    }
    for (int i = 0; i < 20; ++i)  // grows the table between calls, slower than the scan
      ASSERT_TRUE(Set(2, "new" + std::to_string(round) + "_" + std::to_string(i), "v").ok());
    ++round;
  } while (cursor != 0);
  for (const std::string& k : before)
    ASSERT_TRUE(seen.count(k)) << k;
}

TEST_F(KeySpaceTest, ScanOfAStableTableReturnsEachKeyOnce) {
  for (int i = 0; i < 5000; ++i)
    ASSERT_TRUE(Set(0, "k" + std::to_string(i), "v").ok());
  ASSERT_TRUE(Set(1, "other-db", "v").ok());
  std::multiset<std::string> seen;
  uint64_t cursor = 0;
  do {
    rcu::ReadLock lock;
    cursor = ks_.Scan(0, cursor, 100, [&](const Record& r) { seen.insert(std::string(r.key())); });
  } while (cursor != 0);
  EXPECT_EQ(seen.size(), 5000u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 5000u);
  EXPECT_EQ(seen.count("other-db"), 0u);
}

TEST_F(KeySpaceTest, RandomAndStamps) {
  rcu::ReadLock lock;
  EXPECT_EQ(ks_.Random(0), nullptr);
  ASSERT_TRUE(Set(0, "only", "v").ok());
  ASSERT_NE(ks_.Random(0), nullptr);
  EXPECT_EQ(ks_.Random(0)->key(), "only");
  const uint64_t first = ks_.Stamp(0, "only");
  ASSERT_TRUE(Set(0, "only", "v").ok());
  EXPECT_NE(ks_.Stamp(0, "only"), first) << "every version has its own stamp";
  EXPECT_NE(ks_.Stamp(0, "only"), 0u);

  const uint64_t absent = ks_.Stamp(0, "ghost");
  EXPECT_EQ(ks_.Stamp(0, "ghost"), absent);
  ASSERT_TRUE(Set(0, "ghost", "boo").ok());
  ASSERT_TRUE(
      ks_.Mutate(0, "ghost", [](const Record*) -> Result<Change> { return Change{Change::kErase}; })
          .ok());
  EXPECT_NE(ks_.Stamp(0, "ghost"), absent) << "created and deleted since: a change";
  const uint64_t again = ks_.Stamp(0, "ghost");
  ASSERT_TRUE(Set(0, "ghost", "short-lived", now_.load() + 10).ok());
  now_ += 20;  // it expires: absent again, but it existed in between
  EXPECT_NE(ks_.Stamp(0, "ghost"), again);
}

// A list record shares its box with its copies (EXPIRE, RENAME); the box
// is freed, and its memory given back, when the last record holding it is.
TEST_F(KeySpaceTest, ListBoxesAreSharedCountedAndFreed) {
  const int64_t empty = table_.memory_bytes();
  ListBox* box = ListBox::New(table_, {});
  {
    std::lock_guard lock(box->mu());
    box->Push(false, "a");
    box->Push(false, std::string(100, 'b'));
    box->Push(true, "c");
  }
  // The items' packed chunks are what the memory count holds.
  EXPECT_GT(box->items().bytes(), 106u);
  EXPECT_EQ(table_.memory_bytes() - empty, static_cast<int64_t>(box->items().bytes()));
  uint64_t stamp = 0;
  {
    rcu::ReadLock lock;
    ASSERT_TRUE(ks_.Mutate(0, "l",
                           [&](const Record*) -> Result<Change> {
                             return Change{Change::kPut, ks_.NewBoxed(0, "l", RecordKind::kList,
                                                                      *box, kNeverExpires)};
                           })
                    .ok());
    box->Unref();  // the record holds the box now
    const Record* r = ks_.Find(0, "l");
    ASSERT_NE(r, nullptr);
    EXPECT_EQ(&ListBox::Of(*r), box);
    EXPECT_TRUE(ks_.HoldsBox(0, "l", *box));
    stamp = ks_.Stamp(0, "l");
    ASSERT_TRUE(ks_.Mutate(0, "m",
                           [&](const Record*) -> Result<Change> {
                             return Change{Change::kPut, ks_.Copy(0, "m", *r, 5000)};
                           })
                    .ok());
    std::lock_guard box_lock(box->mu());
    box->Push(false, "d");
  }
  {
    rcu::ReadLock lock;
    EXPECT_NE(ks_.Stamp(0, "l"), stamp) << "a change in place is a new version for WATCH";
    EXPECT_TRUE(ks_.HoldsBox(0, "m", *box));
    std::lock_guard box_lock(box->mu());
    EXPECT_EQ(box->size(), 4u);
  }
  EXPECT_EQ(ks_.Flush(0), 2u);
  rcu::Barrier();
  EXPECT_EQ(table_.memory_bytes(), empty);
}

TEST(ListBoxTest, RemoveAndKeep) {
  OnlineTable table({.shards = 1});
  ListBox* box = ListBox::New(table, {});
  {
    std::lock_guard lock(box->mu());
    for (std::string_view s : {"a", "b", "a", "c", "a"})
      box->Push(false, s);
    EXPECT_EQ(box->Remove("a", 1, /*from_tail=*/true), 1u);
    EXPECT_EQ(box->items().ToVector(), (std::vector<std::string>{"a", "b", "a", "c"}));
    EXPECT_EQ(box->Remove("a", 0, false), 2u);
    EXPECT_EQ(box->items().ToVector(), (std::vector<std::string>{"b", "c"}));
    const uint64_t version = box->version();
    EXPECT_EQ(box->Remove("zz", 0, false), 0u);
    EXPECT_EQ(box->version(), version) << "nothing removed: no new version";
    box->Insert(1, "x");
    box->Set(0, "y");
    box->Keep(1, 3);
    EXPECT_EQ(box->items().ToVector(), (std::vector<std::string>{"x", "c"}));
    box->Keep(5, 9);
    EXPECT_TRUE(box->empty());
  }
  EXPECT_EQ(table.memory_bytes(), 0);
  box->Unref();
}

TEST(PackedItemsTest, RoundTripsAndRefusesTruncatedValues) {
  const std::vector<std::string_view> items = {"field", std::string_view("\0\xff", 2), "", "v"};
  std::vector<uint8_t> packed(PackedSize(items));
  PackItems(items, packed.data());
  std::vector<std::string_view> out;
  ASSERT_TRUE(DecodeItems(packed, &out));
  EXPECT_EQ(out, items);
  for (size_t cut = 0; cut < packed.size(); ++cut) {
    EXPECT_FALSE(DecodeItems(std::span(packed).first(cut), &out)) << cut;
  }
  packed.push_back(0);
  EXPECT_FALSE(DecodeItems(packed, &out)) << "trailing bytes";
}

}  // namespace
}  // namespace quiver
