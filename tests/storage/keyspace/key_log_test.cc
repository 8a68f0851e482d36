// KeyLog and the boxes' journals: a list's journal, applied to a model of
// the kv_items column family, always leaves exactly the list's items in
// order; a recovered KeySpace drops expired keys and orphaned items.
#include "storage/keyspace/key_log.h"

#include <stdlib.h>

#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/keyspace/keyspace.h"
#include "util/rcu.h"

namespace quiver {
namespace {

using Op = HistoryBatch::Op;

class KeyLogTest : public ::testing::Test {
 protected:
  KeyLogTest() {
    char dir[] = "/tmp/quiver-keylog-XXXXXX";
    dir_ = mkdtemp(dir);
    Open();
  }
  ~KeyLogTest() override {
    log_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    auto s = HistoryStore::Open({.dir = dir_, .durability = Durability::kAsync, .now_ms = {}});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto log = KeyLog::Open(*store_);
    ASSERT_TRUE(log.ok()) << log.status().message();
    log_ = std::move(*log);
  }
  // Applies a batch's item operations to disk_, as RocksDB would.
  void Apply(const HistoryBatch& batch) {
    batch.ForEach([&](Op op, ColumnFamily c, std::string_view key, std::string_view value) {
      if (c != log_->items()) return;
      if (op == Op::kPut) disk_[std::string(key)] = value;
      if (op == Op::kDelete) disk_.erase(std::string(key));
      if (op == Op::kDeleteRange) {
        disk_.erase(disk_.lower_bound(std::string(key)), disk_.lower_bound(std::string(value)));
      }
    });
  }
  std::vector<std::string> OnDisk() const {
    std::vector<std::string> items;
    for (const auto& [key, value] : disk_)
      items.push_back(value);
    return items;
  }
  // Entries of a column on disk, once everything submitted is committed.
  size_t Stored(ColumnFamily c) {
    store_->Drain();
    size_t n = 0;
    EXPECT_TRUE(store_
                    ->Scan(c, {},
                           [&](std::string_view, std::string_view) {
                             ++n;
                             return Status::Ok();
                           })
                    .ok());
    return n;
  }
  size_t StoredItems() { return Stored(log_->items()); }

  rcu::ThreadRegistration registration_;
  std::string dir_;
  std::unique_ptr<HistoryStore> store_;
  std::shared_ptr<KeyLog> log_;
  std::map<std::string, std::string> disk_;
};

TEST_F(KeyLogTest, ListJournalKeepsTheDiskEqualToTheList) {
  OnlineTable table({.shards = 2});
  ListBox* box = ListBox::New(table, {log_, 3, 0});
  ASSERT_NE(box, nullptr);
  std::mt19937 rng(7);
  std::deque<std::string> model;
  {
    std::lock_guard lock(box->mu());
    box->Push(false, "first");
    HistoryBatch batch;
    box->Persist(&batch);  // the items so far, then a journal from here on
    Apply(batch);
  }
  model.push_back("first");
  for (int step = 0; step < 5000; ++step) {
    std::lock_guard lock(box->mu());
    const std::string item = std::to_string(rng() % 50);
    const size_t n = box->size();
    switch (rng() % 8) {
      case 0:
      case 1:
        box->Push(rng() % 2 == 0, item);
        break;
      case 2:
        if (n > 0) box->Pop(rng() % 2 == 0);
        break;
      case 3:
        if (n > 0) box->Set(rng() % n, item);
        break;
      case 4:
        box->Insert(n == 0 ? 0 : rng() % (n + 1), item);
        break;
      case 5:
        if (n > 4) box->Keep(rng() % 3, n - rng() % 3);
        break;
      case 6:
        box->Remove(item, rng() % 3, rng() % 2 == 0);
        break;
      default:
        for (int i = 0; i < 5; ++i)
          box->Push(false, item);
    }
    HistoryBatch journal;
    box->TakeJournal(&journal);
    Apply(journal);
    const std::vector<std::string> expected = box->items().ToVector();
    ASSERT_EQ(OnDisk(), expected) << "after step " << step;
  }
  box->Unref();
}

// Keys swept because they expired leave the disk at once; a key written
// again after it expired keeps its new value there.
TEST_F(KeyLogTest, SweptKeysLeaveTheDisk) {
  int64_t now = 1'000;
  OnlineTable table({.shards = 2});
  KeySpace ks(table, {.databases = 1, .now_ms = [&] { return now; }, .log = log_});
  ASSERT_TRUE(ks.Recover().ok());
  auto set = [&](const std::string& key, int64_t expire_at) {
    rcu::ReadLock read;
    ASSERT_TRUE(ks.Mutate(0, key, [&](const Record*) -> Result<KeySpace::Change> {
                    return KeySpace::Change{
                        KeySpace::Change::kPut,
                        ks.NewRecord(0, key, RecordKind::kString, "v", expire_at)};
                  }).ok());
    std::unique_lock<std::mutex> key_lock = ks.LockForLog(0, key);
    HistoryBatch ops;
    std::unique_lock<std::mutex> box_lock = ks.Snapshot(0, key, &ops);
    log_->Submit(std::move(ops), nullptr);
  };
  for (int i = 0; i < 100; ++i)
    set("k" + std::to_string(i), 2'000);
  set("kept", kNeverExpires);
  ASSERT_EQ(Stored(log_->kv()), 101u);
  now = 3'000;
  ASSERT_EQ(table.SweepExpired(now, [&](const Record& r) { ks.Swept(r); }), 100u);
  set("k7", kNeverExpires);  // written again between the sweep and its log
  ks.FinishSweep();
  EXPECT_EQ(Stored(log_->kv()), 2u) << "kept and the new k7";
  rcu::ReadLock read;
  EXPECT_NE(ks.Find(0, "k7"), nullptr);
}

TEST_F(KeyLogTest, RecoveryDropsExpiredKeysAndOrphanedItems) {
  HistoryBatch batch;
  Record* live = Record::Allocate(kPlainViewBase, "live", 1);
  live->kind = RecordKind::kString;
  live->expire_at_ms = kNeverExpires;
  live->mutable_value()[0] = 'v';
  Record* gone = Record::Allocate(kPlainViewBase, "gone", 1);
  gone->kind = RecordKind::kString;
  gone->expire_at_ms = 5;  // long past
  batch.Put(log_->kv(), KeyLog::KvKey(0, "live"), KeyLog::KvValue(*live, 0));
  batch.Put(log_->kv(), KeyLog::KvKey(1, "gone"), KeyLog::KvValue(*gone, 0));
  batch.Put(log_->items(), KeyLog::ItemPrefix(0, 42) + KeyLog::ListSuffix(0), "orphan");
  Record::Free(live);
  Record::Free(gone);
  store_->Submit(std::move(batch), nullptr);
  ASSERT_EQ(StoredItems(), 1u);

  OnlineTable table({.shards = 2});
  KeySpace ks(table, {.databases = 4, .now_ms = {}, .log = log_});
  ASSERT_TRUE(ks.Recover().ok());
  {
    rcu::ReadLock lock;
    ASSERT_NE(ks.Find(0, "live"), nullptr);
    EXPECT_EQ(ks.Find(1, "gone"), nullptr);
  }
  EXPECT_EQ(StoredItems(), 0u) << "the orphaned item is deleted";
  EXPECT_EQ(Stored(log_->kv()), 1u) << "the expired key is deleted";

  KeySpace few(table, {.databases = 1, .now_ms = {}, .log = log_});
  store_->Submit(
      [this] {
        HistoryBatch b;
        b.Put(log_->kv(), KeyLog::KvKey(3, "k"),
              std::string("\x01\x00", 2) + std::string(8, '\x7f'));
        return b;
      }(),
      nullptr);
  store_->Drain();
  const Status refused = few.Recover();
  EXPECT_NE(refused.message().find("keys of database 3"), std::string::npos) << refused.message();
}

}  // namespace
}  // namespace quiver
