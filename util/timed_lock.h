// Taking a lock while a caller's condition allows waiting for it: the
// keyspace's gates and the Lua VM's lock, which a command waits for only
// until a script has run past busy-reply-threshold.
#pragma once

#include <chrono>

#include "util/function_ref.h"

namespace quiver {

// Asked between slices of waiting: true to stop waiting.
using GiveUp = FunctionRef<bool()>;
inline constexpr std::chrono::milliseconds kLockSlice{10};

// Takes a lock: at once if it is free; else, without give_up, as long as
// it takes; with it, in slices of kLockSlice until it is taken (true) or
// give_up says to stop (false). try_until(deadline) tries until then.
template <typename TryNow, typename Lock, typename TryUntil>
bool TakeUnless(TryNow try_now, Lock lock, TryUntil try_until, const GiveUp* give_up) {
  if (try_now()) return true;
  if (give_up == nullptr) {
    lock();
    return true;
  }
  while (!(*give_up)()) {
    // The system clock, though it may jump (a slice is only a slice): with
    // it, the timed locks are pthread's timedlock calls, which
    // ThreadSanitizer follows; with the steady clock they are clocklock
    // calls, which it does not.
    if (try_until(std::chrono::system_clock::now() + kLockSlice)) return true;
  }
  return false;
}

// TakeUnless for a timed mutex, or a std::unique_lock of one.
template <typename Mutex>
bool LockUnless(Mutex& mu, const GiveUp* give_up) {
  return TakeUnless([&] { return mu.try_lock(); }, [&] { mu.lock(); },
                    [&](auto deadline) { return mu.try_lock_until(deadline); }, give_up);
}

}  // namespace quiver
