// WorkPool: threads of their own for requests that may run long (a
// training set of a million rows, a History of a hundred thousand
// versions, a backfill, KEYS over millions of keys, a large EXEC), so that
// the I/O threads keep serving every other connection meanwhile. A
// connection hands one such request over and stops reading until its
// answer is back (StreamConnection::Offload), so its answers stay in order.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace quiver {

class WorkPool {
 public:
  // threads: at least one.
  explicit WorkPool(int threads);
  // Stop().
  ~WorkPool();
  WorkPool(const WorkPool&) = delete;
  WorkPool& operator=(const WorkPool&) = delete;

  // Runs `work` on one of the pool's threads (which hold an RCU
  // registration). After Stop(), `work` is dropped unrun.
  void Run(std::function<void()> work);
  // Lets the running work finish, drops what is queued, joins the threads.
  void Stop();
  // Work queued or running.
  size_t busy() const;

 private:
  void Loop();

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::function<void()>> queue_;
  size_t running_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace quiver
