// HistoryStore's background compaction of the whole history (quiver
// compact): one at a time, on a thread of its own.
#include <chrono>

#include <spdlog/spdlog.h>

#include "storage/history/history_store.h"
#include "util/clock.h"
#include "util/thread_name.h"

namespace quiver {

Result<uint64_t> HistoryStore::StartCompaction() {
  std::lock_guard<std::mutex> lock(compaction_mu_);
  if (compaction_.running) {
    return Status::FailedPrecondition("a compaction of the history is already running");
  }
  if (compactor_.joinable()) compactor_.join();  // the last one, finished
  compaction_.running = true;
  compaction_.started_ms = SystemNowMs();
  compactor_ = std::thread([this] {
    NameThisThread("compactor");
    const auto start = std::chrono::steady_clock::now();
    const Status s = CompactHistory();
    std::lock_guard<std::mutex> done(compaction_mu_);
    compaction_.running = false;
    ++compaction_.finished;
    compaction_.last_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    compaction_.last_error = s.ok() ? "" : s.ToString();
    if (!s.ok()) spdlog::warn("compaction of the history failed: {}", s.ToString());
  });
  return compaction_.finished;
}

HistoryStore::CompactionState HistoryStore::compaction() const {
  std::lock_guard<std::mutex> lock(compaction_mu_);
  return compaction_;
}

}  // namespace quiver
