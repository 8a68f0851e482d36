// The group commit (CommitQueue): completions in submission order, the
// bound on groups waiting for an fsync, and recovery from a failed write or
// sync.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "storage/history/commit_queue.h"
#include "storage/history/history_store.h"

namespace quiver {
namespace {

TEST(CommitQueueTest, EveryCompletionRunsOnceInSubmissionOrderAcrossThreads) {
  std::atomic<int> groups{0};
  std::atomic<size_t> written{0};
  CommitQueue queue(
      [&](std::span<const HistoryBatch* const> batches) {
        ++groups;
        written += batches.size();
        return Status::Ok();
      },
      [] { return Status::Ok(); }, nullptr, CommitQueue::Options{.max_queued_bytes = 1 << 10});
  constexpr int kThreads = 4, kPerThread = 2000;
  std::vector<std::vector<int>> done(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        HistoryBatch b;
        b.Put(HistoryStore::kMeta, "k", std::string(64, 'v'));
        // Completions run on the committer thread, one at a time.
        queue.Submit(std::move(b), [&done, t, i](const Status& s) {
          if (s.ok()) done[t].push_back(i);
        });
      }
    });
  }
  for (auto& th : threads)
    th.join();
  queue.Drain();
  EXPECT_EQ(written.load(), size_t{kThreads} * kPerThread);
  EXPECT_LE(groups.load(), kThreads * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    ASSERT_EQ(done[t].size(), size_t{kPerThread});
    EXPECT_TRUE(std::is_sorted(done[t].begin(), done[t].end()));
  }
}

// A disk whose fsyncs stall holds the committer back once the groups
// waiting for one pass the queue's bound, and the writers behind it: what
// waits in memory stays bounded however long the fsync takes.
TEST(CommitQueueTest, GroupsWaitingForAnFsyncAreBounded) {
  constexpr size_t kBound = 4 << 10, kBatch = 1 << 10;
  std::mutex mu;
  std::condition_variable cv;
  bool release = false;
  std::atomic<size_t> written_bytes{0};
  CommitQueue queue(
      [&](std::span<const HistoryBatch* const> batches) {
        for (const HistoryBatch* b : batches)
          written_bytes += b->bytes();
        return Status::Ok();
      },
      [&] {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return release; });
        return Status::Ok();
      },
      nullptr, CommitQueue::Options{.max_queued_bytes = kBound});
  std::atomic<int> submitted{0};
  std::thread writer([&] {
    for (int i = 0; i < 100; ++i) {
      HistoryBatch b;
      b.Put(HistoryStore::kMeta, "k", std::string(kBatch, 'v'));
      queue.Submit(std::move(b), nullptr);
      ++submitted;
    }
  });
  // A negative check: given time, the writer must not get through while
  // the first fsync stalls (a pass would be a wait of 100 ms, not a race).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_LT(submitted.load(), 100);
  // In the fsync, waiting for it, and queued: each about the bound.
  EXPECT_LE(written_bytes.load(), 3 * (kBound + kBatch + 64));
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  writer.join();
  queue.Drain();
  EXPECT_EQ(submitted.load(), 100);
}

// A failed sync fails no write: the queue reports the failure, recovers,
// writes the group again and only then completes it, in order.
TEST(CommitQueueTest, AFailedSyncIsRecoveredAndTheGroupWrittenAgain) {
  std::atomic<int> syncs{0}, writes{0}, recoveries{0};
  std::atomic<bool> failed_seen{false};
  CommitQueue* q = nullptr;
  CommitQueue queue(
      [&](std::span<const HistoryBatch* const>) {
        ++writes;
        return Status::Ok();
      },
      [&] { return ++syncs == 1 ? Status::IoError("disk gone") : Status::Ok(); },
      [&] {
        failed_seen = !q->health().ok() && q->health().kind() == ErrorKind::kMisconf;
        ++recoveries;
        return Status::Ok();
      },
      CommitQueue::Options{.retry_every = std::chrono::milliseconds(1)});
  q = &queue;
  std::vector<StatusCode> codes;
  for (int i = 0; i < 3; ++i) {
    HistoryBatch b;
    b.Put(HistoryStore::kMeta, "k", "v");
    std::promise<StatusCode> done;
    std::future<StatusCode> code = done.get_future();
    queue.Submit(std::move(b), [&done](const Status& s) { done.set_value(s.code()); });
    codes.push_back(code.get());  // Drain would return early while the queue is failed
  }
  EXPECT_EQ(codes, std::vector<StatusCode>(3, StatusCode::kOk));
  EXPECT_TRUE(failed_seen.load()) << "writes are refused while the queue recovers";
  EXPECT_EQ(recoveries.load(), 1);
  EXPECT_EQ(writes.load(), 4) << "the first group is written twice";
  EXPECT_TRUE(queue.health().ok());
}

// A store that does not recover before the queue stops: the writes held
// complete with the failure, after those before them succeeded.
TEST(CommitQueueTest, StoppingWhileFailedFailsWhatWasHeld) {
  std::atomic<int> writes{0};
  std::vector<StatusCode> codes;
  {
    CommitQueue queue(
        [&](std::span<const HistoryBatch* const>) {
          return ++writes == 1 ? Status::Ok() : Status::IoError("no space");
        },
        nullptr, [] { return Status::IoError("still no space"); },
        CommitQueue::Options{.retry_every = std::chrono::milliseconds(1)});
    for (int i = 0; i < 2; ++i) {
      HistoryBatch b;
      b.Put(HistoryStore::kMeta, "k", "v");
      queue.Submit(std::move(b), [&codes](const Status& s) { codes.push_back(s.code()); });
      if (i == 0) queue.Drain();  // two groups: the second one fails
    }
  }
  ASSERT_EQ(codes.size(), 2u);
  EXPECT_EQ(codes[0], StatusCode::kOk);
  EXPECT_EQ(codes[1], StatusCode::kUnavailable);
}

}  // namespace
}  // namespace quiver
