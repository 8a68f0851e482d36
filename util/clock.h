// The wall clock in Unix milliseconds: event times, write times and TTLs
// are all measured on it. Components take it as their default clock and
// accept another (a fake one in tests).
#pragma once

#include <chrono>
#include <cstdint>

namespace quiver {

inline int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// a - b for times and durations, clamped to int64_t's range instead of
// overflowing: requests may carry INT64_MIN or INT64_MAX as times.
inline int64_t SaturatingSub(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_sub_overflow(a, b, &r)) return b > 0 ? INT64_MIN : INT64_MAX;
  return r;
}

// Milliseconds of a clock that never goes back, for idle times and timeouts.
inline int64_t MonotonicMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace quiver
