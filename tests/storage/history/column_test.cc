// Columns of other subsystems in the history store (OpenColumn, Get, Scan)
// and the meta entries they keep under a prefix of their own (MetaKeys).
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "storage/history/history_store.h"
#include "storage/history/meta_keys.h"

namespace quiver {
namespace {

class ColumnTest : public ::testing::Test {
 protected:
  ColumnTest() {
    char dir[] = "/tmp/quiver-column-test-XXXXXX";
    dir_ = mkdtemp(dir);
    Open();
  }
  ~ColumnTest() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    auto s = HistoryStore::Open({.dir = dir_, .durability = Durability::kAsync, .now_ms = {}});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  Status Commit(HistoryBatch batch) {
    Status result;
    store_->Submit(std::move(batch), [&result](const Status& s) { result = s; });
    store_->Drain();
    return result;
  }
  std::map<std::string, std::string> ScanAll(ColumnFamily c, std::string_view prefix) {
    std::map<std::string, std::string> out;
    const Status s = store_->Scan(c, prefix, [&](std::string_view k, std::string_view v) {
      out.emplace(k, v);
      return Status::Ok();
    });
    EXPECT_TRUE(s.ok()) << s.message();
    return out;
  }

  std::string dir_;
  std::unique_ptr<HistoryStore> store_;
};

TEST_F(ColumnTest, ANameGivesOneColumnAndTheStoresOwnNamesAreRefused) {
  auto a = store_->OpenColumn("subsystem_a");
  auto b = store_->OpenColumn("subsystem_b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_NE(*a, *b);
  EXPECT_EQ(*store_->OpenColumn("subsystem_a"), *a);
  for (auto own : {HistoryStore::kMeta, HistoryStore::kHistory, HistoryStore::kLatest})
    EXPECT_NE(*a, own);
  for (const char* name : {"default", "history", "latest", ""}) {
    EXPECT_EQ(store_->OpenColumn(name).status().code(), StatusCode::kInvalidArgument) << name;
  }
}

TEST_F(ColumnTest, WritesSurviveARestartAndScansStayInsideTheirPrefix) {
  auto c = store_->OpenColumn("things");
  ASSERT_TRUE(c.ok());
  HistoryBatch batch;
  batch.Put(*c, "a/1", "one");
  batch.Put(*c, "a/2", "two");
  batch.Put(*c, "b/1", "three");
  batch.Put(*c, "a/3", "gone");
  batch.Delete(*c, "a/3");
  ASSERT_TRUE(Commit(std::move(batch)).ok());

  Open();  // the column is found on disk, whatever order columns open in
  auto again = store_->OpenColumn("things");
  ASSERT_TRUE(again.ok());
  const std::map<std::string, std::string> want = {{"a/1", "one"}, {"a/2", "two"}};
  EXPECT_EQ(ScanAll(*again, "a/"), want);
  EXPECT_EQ(ScanAll(*again, "").size(), 3u);
  std::string value;
  ASSERT_TRUE(*store_->Get(*again, "b/1", &value));
  EXPECT_EQ(value, "three");
  EXPECT_FALSE(*store_->Get(*again, "a/3", &value));

  HistoryBatch range;
  range.DeleteRange(*again, "a/", "a0");
  ASSERT_TRUE(Commit(std::move(range)).ok());
  EXPECT_EQ(ScanAll(*again, "").size(), 1u);
}

TEST_F(ColumnTest, AWriteToAColumnNeverOpenedFailsAloneAndWritesNothing) {
  auto c = store_->OpenColumn("things");
  ASSERT_TRUE(c.ok());
  HistoryBatch bad;
  bad.Put(*c, "k", "v");
  bad.Put(ColumnFamily{HistoryStore::kMaxColumns - 1}, "k", "v");
  const Status s = Commit(std::move(bad));
  EXPECT_EQ(s.code(), StatusCode::kInternal) << s.message();
  EXPECT_TRUE(ScanAll(*c, "").empty()) << "the batch is atomic";
  EXPECT_TRUE(store_->health().ok()) << "the store keeps accepting writes";
  HistoryBatch good;
  good.Put(*c, "k", "v");
  EXPECT_TRUE(Commit(std::move(good)).ok());
  EXPECT_FALSE(store_
                   ->Scan(ColumnFamily{HistoryStore::kMaxColumns - 1}, "",
                          [](auto, auto) { return Status::Ok(); })
                   .ok());
}

TEST_F(ColumnTest, MetaKeysLiveBesideTheRegistryWithoutTouchingIt) {
  ASSERT_TRUE(store_->AppendDefinitions("doc one").ok());
  const MetaKeys mine(store_.get(), "mine/");
  const MetaKeys other(store_.get(), "other/");
  HistoryBatch batch;
  mine.Put(&batch, "x", "1");
  other.Put(&batch, "x", "2");
  ASSERT_TRUE(Commit(std::move(batch)).ok());
  Open();
  const MetaKeys reopened(store_.get(), "mine/");
  std::string value;
  ASSERT_TRUE(*reopened.Get("x", &value));
  EXPECT_EQ(value, "1");
  EXPECT_FALSE(*reopened.Get("y", &value));
  auto docs = store_->LoadDefinitions();
  ASSERT_TRUE(docs.ok());
  EXPECT_EQ(*docs, std::vector<std::string>{"doc one"});
  EXPECT_FALSE(*MetaKeys(nullptr, "mine/").Get("x", &value)) << "no store: nothing stored";
}

// A sorted run added as a table file is read like committed writes, beside
// them and after a restart; a run out of order adds nothing.
TEST_F(ColumnTest, ASortedRunIsIngestedWholeOrNotAtAll) {
  auto c = store_->OpenColumn("runs");
  ASSERT_TRUE(c.ok());
  HistoryBatch batch;
  batch.Put(*c, "r/0500", "committed");
  ASSERT_TRUE(Commit(std::move(batch)).ok());
  std::vector<std::string> keys;
  std::map<std::string, std::string> want = {{"r/0500", "committed"}};
  for (int i = 0; i < 1000; ++i) {
    char key[16];
    std::snprintf(key, sizeof key, "r/%04d", 2 * i + 1);
    keys.emplace_back(key);
    want.emplace(key, "v" + std::to_string(i));
  }
  auto entry = [&](size_t i) { return HistoryStore::Entry{keys[i], want.at(keys[i])}; };
  ASSERT_TRUE(store_->IngestSorted(*c, keys.size(), entry).ok());
  EXPECT_EQ(ScanAll(*c, "r/"), want);

  std::swap(keys[10], keys[11]);
  keys.push_back("s/1");
  want.emplace("s/1", "never");
  const Status out_of_order = store_->IngestSorted(*c, keys.size(), entry);
  EXPECT_EQ(out_of_order.code(), StatusCode::kIoError) << out_of_order.message();
  EXPECT_TRUE(ScanAll(*c, "s/").empty());

  Open();
  want.erase("s/1");
  EXPECT_EQ(ScanAll(*store_->OpenColumn("runs"), "r/"), want);
  for (const auto& f : std::filesystem::directory_iterator(dir_))
    EXPECT_EQ(f.path().filename().string().rfind("ingest-", 0), std::string::npos) << f.path();
}

}  // namespace
}  // namespace quiver
