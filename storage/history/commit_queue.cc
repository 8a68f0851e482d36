#include "storage/history/commit_queue.h"

#include <cstring>
#include <utility>

#include "util/thread_name.h"

namespace quiver {

namespace {

// What the disk or the operating system refused is recovered and retried;
// any other failure (a batch naming a column never opened) is the batch's.
bool IsDiskFailure(const Status& s) {
  return s.code() == StatusCode::kIoError || s.code() == StatusCode::kUnavailable;
}

}  // namespace

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

CommitQueue::CommitQueue(WriteGroup write, SyncLog sync, Recover recover, Options options)
    : write_(std::move(write)),
      sync_(std::move(sync)),
      recover_(std::move(recover)),
      options_(options) {
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
  Close();
}

void CommitQueue::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    closed_ = true;
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
  if (stop_) {
    lock.unlock();
    if (done) done(Status::Unavailable("not written: quiverd is stopping"));
    return;
  }
  // An empty queue always takes the batch, however large it is.
  space_.wait(lock, [&] { return queue_.empty() || queued_bytes_ < options_.max_queued_bytes; });
  queued_bytes_ += batch.bytes();
  queue_.push_back(Item{std::move(batch), std::move(done)});
  ++submitted_;
  lock.unlock();
  work_.notify_one();
}

void CommitQueue::Drain() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = submitted_;
  space_.wait(lock, [&] { return committed_ >= target || failed_.load(); });
}

Status CommitQueue::health() const {
  if (!failed()) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  if (!failed_.load(std::memory_order_relaxed)) return Status::Ok();
  return Status::Misconf("writes are refused: " + cause_.message() +
                         "; they resume by themselves once the disk recovers");
}

void CommitQueue::Fail(const Status& cause) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    SetFailure(cause);
  }
  work_.notify_one();
}

void CommitQueue::SetFailure(const Status& cause) {
  cause_ = cause;
  failed_.store(true, std::memory_order_release);
  space_.notify_all();  // Drain returns
}

void CommitQueue::Complete(Group& items, const Status& status) {
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

size_t CommitQueue::GroupBytes(const Group& group) {
  size_t bytes = 0;
  for (const Item& item : group)
    bytes += item.batch.bytes();
  return bytes;
}

Status CommitQueue::WriteItems(const Group& group) {
  std::vector<const HistoryBatch*> batches;
  batches.reserve(group.size());
  for (const Item& item : group)
    batches.push_back(&item.batch);
  return write_(batches);
}

void CommitQueue::Run() {
  Group group;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_.wait(lock, [&] { return stop_ || !queue_.empty() || failed_.load(); });
      if (failed_.load()) {
        lock.unlock();
        if (!RecoverLoop()) return;
        continue;
      }
      if (queue_.empty()) return;  // stopping, and everything is written
      group.swap(queue_);
      queued_bytes_ = 0;
    }
    space_.notify_all();
    Status status = WriteItems(group);
    if (IsDiskFailure(status)) {
      Retry(std::move(group), status);
    } else if (!status.ok() || !sync_) {  // a bad batch (a bug) fails its group alone
      Complete(group, status);
    } else {
      {
        // Groups written wait for one fsync; while a slow disk holds more
        // than the queue's bound of them, the committer waits too (and
        // writers with it), so memory stays bounded.
        std::unique_lock<std::mutex> lock(mu_);
        sync_idle_.wait(
            lock, [&] { return written_.empty() || written_bytes_ < options_.max_queued_bytes; });
        written_bytes_ += GroupBytes(group);
        written_.push_back(std::move(group));
      }
      sync_work_.notify_one();
    }
    group = {};
  }
}

void CommitQueue::RunSync() {
  std::vector<Group> groups;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      sync_work_.wait(lock, [&] { return writer_done_ || !written_.empty(); });
      if (written_.empty()) return;  // the committer stopped and everything is synced
      groups.swap(written_);
      written_bytes_ = 0;
      syncing_ = true;
    }
    sync_idle_.notify_all();  // the committer may hand over more
    // One fsync makes every group written so far durable.
    const Status synced = sync_();
    if (synced.ok()) {
      for (Group& g : groups)
        Complete(g, synced);
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!synced.ok()) {
        // Not durable: written again (and synced) once the store recovers.
        for (Group& g : groups)
          retry_.push_back(std::move(g));
        SetFailure(synced);
      }
      syncing_ = false;
    }
    sync_idle_.notify_all();
    work_.notify_one();
    groups.clear();
  }
}

void CommitQueue::Retry(Group group, const Status& cause) {
  std::unique_lock<std::mutex> lock(mu_);
  // Groups written before this one come back from the sync step first.
  sync_idle_.wait(lock, [&] { return written_.empty() && !syncing_; });
  retry_.push_back(std::move(group));
  SetFailure(cause);
}

bool CommitQueue::RecoverLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  sync_idle_.wait(lock, [&] { return written_.empty() && !syncing_; });
  for (;;) {
    if (stop_) {
      GiveUp(lock);
      return false;
    }
    lock.unlock();
    const Status s = TryRecover();
    lock.lock();
    if (s.ok()) return true;
    cause_ = s;
    work_.wait_for(lock, options_.retry_every, [&] { return stop_; });
  }
}

Status CommitQueue::TryRecover() {
  if (recover_) QUIVER_RETURN_IF_ERROR(recover_());
  std::vector<Group> groups;
  {
    std::lock_guard<std::mutex> lock(mu_);
    groups = std::move(retry_);
    retry_.clear();
  }
  Status s = Status::Ok();
  for (const Group& g : groups) {
    s = WriteItems(g);
    if (!s.ok()) break;
  }
  if (s.ok() && sync_) s = sync_();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!s.ok()) {
      retry_.insert(retry_.begin(), std::make_move_iterator(groups.begin()),
                    std::make_move_iterator(groups.end()));
      return s;
    }
    // Healthy before the writes held are acknowledged: whoever waits for
    // them (Drain) then finds the store taking writes.
    failed_.store(false, std::memory_order_release);
    cause_ = Status::Ok();
  }
  for (Group& g : groups)
    Complete(g, s);
  return s;
}

void CommitQueue::GiveUp(std::unique_lock<std::mutex>& lock) {
  // Stopping while the store is failed: what was not made durable fails.
  std::vector<Group> groups = std::move(retry_);
  retry_.clear();
  groups.push_back(std::move(queue_));
  queue_.clear();
  queued_bytes_ = 0;
  const Status cause = Status::Misconf("not written: quiverd stopped before the disk recovered (" +
                                       cause_.message() + ")");
  lock.unlock();
  for (Group& g : groups)
    Complete(g, cause);
  lock.lock();
}

}  // namespace quiver
