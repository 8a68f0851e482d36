// ReadWaiters: reads that wait until this member has applied given
// changelog positions (docs/cluster.md#reading-your-writes). A client
// that wrote through one member and reads from another passes the
// positions its write's answer carried; the read is served once every
// one of them is applied here, or fails when its time is up.
//
// Thread-safe: Add from any thread; Complete from the changelog's.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <span>
#include <vector>

#include "quiver/status.h"
#include "util/function_ref.h"

namespace quiver::cluster {

// Where a record is in the changelog.
struct Position {
  int32_t partition = 0;
  int64_t offset = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

class ReadWaiters {
 public:
  // Whether this member applied (and made visible) the record at a position.
  using IsApplied = FunctionRef<bool(const Position&)>;
  // Ok once every position is applied; Unavailable when the time is up.
  using Ready = std::function<void(const Status&)>;

  // Calls ready at once (on the calling thread) if every position is
  // applied already; otherwise once they are, or at deadline_ms (Unix ms).
  void Add(std::vector<Position> positions, int64_t deadline_ms, Ready ready, IsApplied applied);
  // Calls, outside the lock, the waiters whose positions are now applied,
  // and those whose deadline passed by now_ms.
  void Complete(int64_t now_ms, IsApplied applied);
  // Fails every waiter (shutting down).
  void FailAll(const Status& why);

 private:
  struct Waiter {
    std::vector<Position> positions;
    int64_t deadline_ms = 0;
    Ready ready;
  };
  static bool AllApplied(std::span<const Position> positions, IsApplied applied);
  // The error of a wait that ran out, naming a position not applied.
  static Status Late(std::span<const Position> positions, IsApplied applied);

  std::mutex mu_;
  std::vector<Waiter> waiters_;  // guarded by mu_
};

}  // namespace quiver::cluster
