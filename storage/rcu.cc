#include "storage/rcu.h"

#include <urcu/urcu-memb.h>

#include "storage/tsan.h"

namespace quiver::rcu {

namespace {
thread_local int registration_depth = 0;
// TSan only: the sync object through which read sections order frees.
[[maybe_unused]] char reclaim_token;
// TSan only: the sync object through which callbacks order Barrier's return.
[[maybe_unused]] char reclaimed_token;
}  // namespace

ThreadRegistration::ThreadRegistration() {
  if (registration_depth++ == 0) urcu_memb_register_thread();
}

ThreadRegistration::~ThreadRegistration() {
  if (--registration_depth == 0) urcu_memb_unregister_thread();
}

ReadLock::ReadLock() {
  urcu_memb_read_lock();
}

ReadLock::~ReadLock() {
  QUIVER_TSAN_RELEASE(&reclaim_token);
  urcu_memb_read_unlock();
}

void Retire(rcu_head* head, void (*fn)(rcu_head*)) {
  QUIVER_TSAN_RELEASE(&reclaim_token);
  urcu_memb_call_rcu(head, fn);
}

void BeforeReclaim() {
  QUIVER_TSAN_ACQUIRE(&reclaim_token);
}

void AfterReclaim() {
  QUIVER_TSAN_RELEASE(&reclaimed_token);
}

void Barrier() {
  urcu_memb_barrier();
  QUIVER_TSAN_ACQUIRE(&reclaimed_token);
}

}  // namespace quiver::rcu
