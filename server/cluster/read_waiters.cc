#include "server/cluster/read_waiters.h"

#include <string>

namespace quiver::cluster {

bool ReadWaiters::AllApplied(std::span<const Position> positions, IsApplied applied) {
  for (const Position& p : positions) {
    if (!applied(p)) return false;
  }
  return true;
}

Status ReadWaiters::Late(std::span<const Position> positions, IsApplied applied) {
  for (const Position& p : positions) {
    if (applied(p)) continue;
    return Status::Unavailable("this member had not applied offset " + std::to_string(p.offset) +
                               " of changelog partition " + std::to_string(p.partition) +
                               " when the read's wait ran out: it lags behind the changelog "
                               "(INFO replication shows by how much)");
  }
  return Status::Ok();
}

void ReadWaiters::Add(std::vector<Position> positions, int64_t deadline_ms, Ready ready,
                      IsApplied applied) {
  {
    // Checked under the lock: Complete publishes what is applied before it
    // takes the lock, so a waiter added after its check is seen by the next.
    std::lock_guard<std::mutex> lock(mu_);
    if (!AllApplied(positions, applied)) {
      waiters_.push_back({std::move(positions), deadline_ms, std::move(ready)});
      return;
    }
  }
  ready(Status::Ok());
}

void ReadWaiters::Complete(int64_t now_ms, IsApplied applied) {
  std::vector<std::pair<Ready, Status>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (waiters_.empty()) return;
    for (size_t i = 0; i < waiters_.size();) {
      Waiter& w = waiters_[i];
      if (AllApplied(w.positions, applied)) {
        done.emplace_back(std::move(w.ready), Status::Ok());
      } else if (w.deadline_ms <= now_ms) {
        done.emplace_back(std::move(w.ready), Late(w.positions, applied));
      } else {
        ++i;
        continue;
      }
      if (&w != &waiters_.back()) w = std::move(waiters_.back());
      waiters_.pop_back();
    }
  }
  for (auto& [ready, status] : done)
    ready(status);
}

void ReadWaiters::FailAll(const Status& why) {
  std::vector<Waiter> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    all.swap(waiters_);
  }
  for (Waiter& w : all)
    w.ready(why);
}

}  // namespace quiver::cluster
