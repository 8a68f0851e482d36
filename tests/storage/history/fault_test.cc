// Disk faults under the history store, injected through FaultFs: a full
// disk, a failed fsync, descriptors run out. Writes are refused while the
// fault lasts, reads go on, the writes in flight are committed once the
// fault goes away (without a restart), and a restart finds every
// acknowledged write and nothing that was not.
#include <chrono>
#include <filesystem>
#include <future>
#include <string>
#include <thread>

#include <gtest/gtest.h>

#include "storage/history/history_store.h"
#include "support/fault_fs.h"
#include "support/quiverd_process.h"

namespace quiver {
namespace {

using namespace std::chrono_literals;
using testing::FaultFs;

class FaultTest : public ::testing::TestWithParam<Durability> {
 protected:
  FaultTest() : dir_(testing::MakeTempDir()) { Open(); }
  ~FaultTest() override {
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Open() {
    store_.reset();
    auto s = HistoryStore::Open({.dir = dir_,
                                 .durability = GetParam(),
                                 .now_ms = {},
                                 .retry_every = 5ms,
                                 .file_system = fs_});
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
    auto c = store_->OpenColumn("things");
    ASSERT_TRUE(c.ok());
    column_ = *c;
  }
  // Submits a put; the future holds its completion's status.
  std::future<Status> Put(std::string key) {
    auto done = std::make_shared<std::promise<Status>>();
    std::future<Status> f = done->get_future();
    HistoryBatch b;
    b.Put(column_, key, "v-" + key);
    store_->Submit(std::move(b), [done](const Status& s) { done->set_value(s); });
    return f;
  }
  bool Has(const std::string& key) {
    std::string value;
    auto found = store_->Get(column_, key, &value);
    EXPECT_TRUE(found.ok()) << found.status().message();
    return found.ok() && *found;
  }
  // Waits (at most 10 s) until the store's health is as wanted.
  bool HealthBecomes(bool ok) {
    return WaitFor([&] { return store_->health().ok() == ok; });
  }
  // Waits until the store reports a failure found in the background, or
  // has already recovered from it (RocksDB may resume before the poll).
  bool FailureSeen() {
    return WaitFor([&] { return !store_->health().ok() || store_->recoveries() > 0; });
  }
  template <typename Fn>
  static bool WaitFor(Fn done) {
    const auto until = std::chrono::steady_clock::now() + 10s;
    while (!done()) {
      if (std::chrono::steady_clock::now() > until) return false;
      std::this_thread::sleep_for(1ms);
    }
    return true;
  }
  // The fault leaves a write in flight waiting, refuses new writes and
  // keeps reads; healed, the write completes and the store takes writes.
  void FailAndHeal(unsigned fault) {
    ASSERT_TRUE(Put("before").get().ok());
    fs_->Fail(fault);
    std::future<Status> in_flight = Put("in-flight");
    ASSERT_TRUE(HealthBecomes(false)) << "the failure is reported";
    const Status h = store_->health();
    EXPECT_EQ(h.kind(), ErrorKind::kMisconf);
    EXPECT_NE(h.message().find("injected"), std::string::npos) << h.message();
    EXPECT_EQ(in_flight.wait_for(20ms), std::future_status::timeout)
        << "a write the disk refused is not acknowledged";
    EXPECT_TRUE(Has("before")) << "reads go on";
    fs_->Heal();
    ASSERT_EQ(in_flight.wait_for(10s), std::future_status::ready);
    EXPECT_TRUE(in_flight.get().ok());
    EXPECT_TRUE(store_->health().ok());
    EXPECT_GE(store_->recoveries(), 1u);
    ASSERT_TRUE(Put("after").get().ok());
    Open();  // a restart finds every acknowledged write
    EXPECT_TRUE(Has("before"));
    EXPECT_TRUE(Has("in-flight"));
    EXPECT_TRUE(Has("after"));
  }

  std::shared_ptr<FaultFs> fs_ = std::make_shared<FaultFs>();
  std::string dir_;
  std::unique_ptr<HistoryStore> store_;
  ColumnFamily column_{0};
};

TEST_P(FaultTest, AFullDiskRefusesWritesUntilThereIsRoom) {
  if (GetParam() == Durability::kNone) GTEST_SKIP() << "without a log, the flush meets the fault";
  FailAndHeal(FaultFs::kAppend);
}

// Without a log, a write is acknowledged once in memory: the full disk
// fails the flush, and writes are refused until the flush is done again.
TEST_P(FaultTest, AFullDiskFailsTheFlushWhichIsDoneAgainWhenThereIsRoom) {
  ASSERT_TRUE(Put("before").get().ok());
  fs_->Fail(FaultFs::kAppend);
  EXPECT_FALSE(store_->Flush().ok());
  ASSERT_TRUE(FailureSeen()) << "a failed flush refuses writes at once";
  EXPECT_TRUE(Has("before")) << "reads go on";
  fs_->Heal();
  ASSERT_TRUE(HealthBecomes(true));
  ASSERT_TRUE(Put("after").get().ok());
  Open();
  EXPECT_TRUE(Has("before"));
  EXPECT_TRUE(Has("after"));
}

TEST_P(FaultTest, AFailedFsyncIsRecoveredByReopening) {
  if (GetParam() != Durability::kSync) GTEST_SKIP() << "only sync mode fsyncs each write";
  FailAndHeal(FaultFs::kSync);
}

// No descriptor left: a flush cannot create its table file. RocksDB stops
// for good on that error; the store reopens it once a file can be made.
TEST_P(FaultTest, RunningOutOfDescriptorsDoesNotStopWritesForGood) {
  ASSERT_TRUE(Put("before").get().ok());
  fs_->Fail(FaultFs::kCreate);
  EXPECT_FALSE(store_->Flush().ok()) << "a flush needs a new file";
  ASSERT_TRUE(FailureSeen());
  EXPECT_TRUE(Has("before"));
  fs_->Heal();
  ASSERT_TRUE(HealthBecomes(true));
  ASSERT_TRUE(Put("after").get().ok());
  EXPECT_GE(store_->recoveries(), 1u);
  Open();
  // Without a log, what only the memtables held when RocksDB stopped for
  // good is lost with the database object, as in a crash.
  if (GetParam() != Durability::kNone) {
    EXPECT_TRUE(Has("before"));
  }
  EXPECT_TRUE(Has("after"));
}

// quiverd stops before the disk recovers: the write in flight fails (it
// was never acknowledged) and is not there after a restart.
TEST_P(FaultTest, StoppingBeforeRecoveryFailsTheWriteInFlight) {
  if (GetParam() == Durability::kNone) GTEST_SKIP() << "without a log, nothing waits for the disk";
  ASSERT_TRUE(Put("before").get().ok());
  fs_->Fail(FaultFs::kAppend);
  std::future<Status> in_flight = Put("in-flight");
  ASSERT_TRUE(HealthBecomes(false));
  std::thread stop([&] { store_.reset(); });
  const Status s = in_flight.get();
  stop.join();
  EXPECT_EQ(s.kind(), ErrorKind::kMisconf) << s.message();
  fs_->Heal();
  Open();
  EXPECT_TRUE(Has("before"));
  EXPECT_FALSE(Has("in-flight"));
}

INSTANTIATE_TEST_SUITE_P(Durability, FaultTest,
                         ::testing::Values(Durability::kNone, Durability::kAsync,
                                           Durability::kSync),
                         [](const auto& info) { return std::string(DurabilityName(info.param)); });

}  // namespace
}  // namespace quiver
