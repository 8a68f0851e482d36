#include "storage/history/commit_queue.h"

#include <cstring>
#include <utility>

#include "util/thread_name.h"

namespace quiver {

void HistoryBatch::Add(Op op, ColumnFamily c, std::string_view key, std::string_view value) {
  const auto klen = static_cast<uint32_t>(key.size());
  const auto vlen = static_cast<uint32_t>(value.size());
  ops_.push_back(static_cast<char>(op));
  ops_.push_back(static_cast<char>(c.id));
  ops_.append(reinterpret_cast<const char*>(&klen), 4);
  ops_.append(reinterpret_cast<const char*>(&vlen), 4);
  ops_.append(key);
  ops_.append(value);
  ++count_;
}

uint32_t HistoryBatch::ReadU32(size_t pos) const {
  uint32_t v;
  std::memcpy(&v, ops_.data() + pos, 4);
  return v;
}

CommitQueue::CommitQueue(WriteGroup write, SyncLog sync, size_t max_queued_bytes)
    : write_(std::move(write)), sync_(std::move(sync)), max_queued_bytes_(max_queued_bytes) {
  thread_ = std::thread([this] {
    NameThisThread("committer");
    Run();
  });
  if (sync_) {
    sync_thread_ = std::thread([this] {
      NameThisThread("fsync");
      RunSync();
    });
  }
}

CommitQueue::~CommitQueue() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_.notify_one();
  thread_.join();
  {
    std::lock_guard<std::mutex> lock(mu_);
    writer_done_ = true;
  }
  sync_work_.notify_one();
  if (sync_thread_.joinable()) sync_thread_.join();
}

void CommitQueue::Submit(HistoryBatch batch, Done done) {
  std::unique_lock<std::mutex> lock(mu_);
  // An empty queue always takes the batch, however large it is.
  space_.wait(lock, [&] { return queue_.empty() || queued_bytes_ < max_queued_bytes_; });
  queued_bytes_ += batch.bytes();
  queue_.push_back(Item{std::move(batch), std::move(done)});
  ++submitted_;
  lock.unlock();
  work_.notify_one();
}

void CommitQueue::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_;
  space_.wait(lock, [&] { return committed_ >= target; });
}

void CommitQueue::Complete(std::vector<Item>& items, const Status& status) {
  for (Item& item : items) {
    // The completion, and what it holds (a connection, say), is released
    // before Drain can return: its caller may then tear down what it uses.
    Done done = std::exchange(item.done, nullptr);
    if (done) done(status);
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    committed_ += items.size();
  }
  space_.notify_all();
}

void CommitQueue::Run() {
  std::vector<Item> group;
  std::vector<const HistoryBatch*> batches;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything is written
      group.swap(queue_);
      queued_bytes_ = 0;
    }
    space_.notify_all();
    batches.clear();
    for (const Item& item : group)
      batches.push_back(&item.batch);
    Status status = write_(batches);
    if (!sync_) {
      Complete(group, status);
      group.clear();
      continue;
    }
    {
      // Even a failed group goes through the sync step: completions keep
      // their order.
      std::lock_guard<std::mutex> lock(mu_);
      written_.push_back(Written{std::move(group), std::move(status)});
    }
    sync_work_.notify_one();
    group = {};
  }
}

void CommitQueue::RunSync() {
  std::vector<Written> groups;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      sync_work_.wait(lock, [&] { return writer_done_ || !written_.empty(); });
      if (written_.empty()) return;  // the committer stopped and everything is synced
      groups.swap(written_);
    }
    // One fsync makes every group written so far durable.
    const Status synced = sync_();
    for (Written& w : groups)
      Complete(w.items, w.status.ok() ? synced : w.status);
    groups.clear();
  }
}

}  // namespace quiver
