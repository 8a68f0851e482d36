#include "server/net/work_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <string>

#include "util/rcu.h"
#include "util/thread_name.h"

namespace quiver {

namespace {
constexpr int kNice = 10;
}  // namespace

WorkPool::WorkPool(int threads) {
  for (int i = 0; i < std::max(1, threads); ++i) {
    threads_.emplace_back([this, i] {
      NameThisThread(("long-" + std::to_string(i)).c_str());
      // Below the I/O threads: when they want the core, short requests go
      // first and the long one waits (Linux's nice applies per thread).
      setpriority(PRIO_PROCESS, static_cast<id_t>(gettid()), kNice);
      rcu::ThreadRegistration registration;
      Loop();
    });
  }
}

WorkPool::~WorkPool() {
  Stop();
}

void WorkPool::Run(std::function<void()> work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    queue_.push_back(std::move(work));
  }
  wake_.notify_one();
}

size_t WorkPool::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size() + running_;
}

void WorkPool::Stop() {
  std::deque<std::function<void()>> dropped;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    dropped.swap(queue_);
  }
  wake_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  // `dropped` goes here, outside the lock: its work may own connections.
}

void WorkPool::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (stopping_) return;
    std::function<void()> work = std::move(queue_.front());
    queue_.pop_front();
    ++running_;
    lock.unlock();
    work();
    work = nullptr;  // what it captured goes before the lock is taken again
    lock.lock();
    --running_;
  }
}

}  // namespace quiver
