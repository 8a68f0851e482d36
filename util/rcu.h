// Read-copy-update, from liburcu's `memb` flavour: readers of the online
// table and the catalog run inside a ReadLock (a few plain instructions, no
// shared writes); writers publish new immutable objects and Retire the old
// ones, which are freed after every reader that could hold them has left
// its read section. No call here blocks on a grace period except Barrier().
#pragma once

#include <cstddef>

struct rcu_head;

namespace quiver::rcu {

// Every thread that takes a ReadLock registers first, for as long as it
// reads. Nests: an inner registration on the same thread is a no-op.
class ThreadRegistration {
 public:
  ThreadRegistration();
  ~ThreadRegistration();
  ThreadRegistration(const ThreadRegistration&) = delete;
  ThreadRegistration& operator=(const ThreadRegistration&) = delete;
};

// A read-side critical section. Nests. Pointers read from RCU-protected
// structures stay valid until the outermost ReadLock ends.
class ReadLock {
 public:
  ReadLock();
  ~ReadLock();
  ReadLock(const ReadLock&) = delete;
  ReadLock& operator=(const ReadLock&) = delete;
};

// Calls fn(head) on a background thread after a grace period. Callable from
// a registered thread, inside or outside a ReadLock.
void Retire(rcu_head* head, void (*fn)(rcu_head*));

// While one is open on this thread, Retire gathers its callbacks and hands
// them to liburcu as one when the outermost batch closes (or every
// kMaxBatch): one call_rcu, and at most one wake-up of its thread, for a
// batch of requests instead of one per replaced record. Nests. Reclaiming
// only starts later, so keep a batch short (a batch of requests).
class RetireBatch {
 public:
  static constexpr std::size_t kMaxBatch = 1024;
  RetireBatch();
  ~RetireBatch();
  RetireBatch(const RetireBatch&) = delete;
  RetireBatch& operator=(const RetireBatch&) = delete;
};

// Called first thing by a retire callback, before it frees: tells TSan that
// every read section that ended before now happens-before the free.
void BeforeReclaim();

// Called last by a retire callback whose work touches memory other threads
// use afterwards (a list box giving its bytes back to the table's count):
// tells TSan that the callback happens-before the end of the next Barrier.
void AfterReclaim();

// Waits until every callback retired so far has run (those gathered by a
// RetireBatch once it has handed them over). Not for request paths.
void Barrier();

}  // namespace quiver::rcu
