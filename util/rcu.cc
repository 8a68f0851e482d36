#include "util/rcu.h"

#include <urcu/urcu-memb.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "util/tsan.h"

namespace quiver::rcu {

namespace {
thread_local int registration_depth = 0;
// TSan only: the sync object through which read sections order frees.
[[maybe_unused]] char reclaim_token;
// TSan only: the sync object through which callbacks order Barrier's return.
[[maybe_unused]] char reclaimed_token;

// The callbacks a RetireBatch gathered, retired as one.
struct Gathered {
  rcu_head head;  // first: the callback finds its Gathered from it
  std::vector<std::pair<rcu_head*, void (*)(rcu_head*)>> callbacks;
};
static_assert(offsetof(Gathered, head) == 0);

thread_local int batch_depth = 0;
thread_local Gathered* gathered = nullptr;

void RunGathered(rcu_head* head) {
  auto* g = reinterpret_cast<Gathered*>(head);
  QUIVER_TSAN_ACQUIRE(g);  // liburcu's hand-over is not instrumented
  for (const auto& [h, fn] : g->callbacks)
    fn(h);
  delete g;
}

void RetireGathered() {
  if (gathered == nullptr) return;
  QUIVER_TSAN_RELEASE(gathered);
  urcu_memb_call_rcu(&gathered->head, RunGathered);
  gathered = nullptr;
}
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
  if (batch_depth == 0) return urcu_memb_call_rcu(head, fn);
  if (gathered == nullptr) gathered = new Gathered{};
  gathered->callbacks.emplace_back(head, fn);
  if (gathered->callbacks.size() >= RetireBatch::kMaxBatch) RetireGathered();
}

RetireBatch::RetireBatch() {
  ++batch_depth;
}

RetireBatch::~RetireBatch() {
  if (--batch_depth == 0) RetireGathered();
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
