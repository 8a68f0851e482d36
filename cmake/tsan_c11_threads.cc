// Linked into the programs that use librdkafka (quiverd, quiver), in
// ThreadSanitizer builds only (see server/ and client/CMakeLists.txt).
//
// GCC 12's ThreadSanitizer runtime does not intercept C11 threads, which
// librdkafka uses: threads started with thrd_create have no TSan state and
// crash on their first allocation, and its mtx_*/cnd_* synchronisation is
// invisible. These definitions take precedence over glibc's for librdkafka
// and implement C11 threads over pthreads, which TSan intercepts. (glibc's
// mtx_t and cnd_t have the layout of pthread_mutex_t and pthread_cond_t.)
#include <pthread.h>
#include <threads.h>

#include <cerrno>
#include <cstdint>
#include <new>

namespace {

struct Start {
  thrd_start_t func;
  void* arg;
};

void* Trampoline(void* p) {
  const Start start = *static_cast<Start*>(p);
  delete static_cast<Start*>(p);
  return reinterpret_cast<void*>(static_cast<intptr_t>(start.func(start.arg)));
}

}  // namespace

extern "C" int thrd_create(thrd_t* thread, thrd_start_t func, void* arg) {
  auto* start = new (std::nothrow) Start{func, arg};
  if (start == nullptr) return thrd_nomem;
  const int rc = pthread_create(thread, nullptr, &Trampoline, start);
  if (rc == 0) return thrd_success;
  delete start;
  return rc == EAGAIN ? thrd_nomem : thrd_error;
}

extern "C" int thrd_join(thrd_t thread, int* result) {
  void* value = nullptr;
  if (pthread_join(thread, &value) != 0) return thrd_error;
  if (result != nullptr) *result = static_cast<int>(reinterpret_cast<intptr_t>(value));
  return thrd_success;
}

extern "C" int thrd_detach(thrd_t thread) {
  return pthread_detach(thread) == 0 ? thrd_success : thrd_error;
}

namespace {

pthread_mutex_t* M(mtx_t* m) {
  return reinterpret_cast<pthread_mutex_t*>(m);
}
pthread_cond_t* C(cnd_t* c) {
  return reinterpret_cast<pthread_cond_t*>(c);
}
int Rc(int pthread_rc) {
  return pthread_rc == 0           ? thrd_success
         : pthread_rc == ETIMEDOUT ? thrd_timedout
         : pthread_rc == EBUSY     ? thrd_busy
                                   : thrd_error;
}

}  // namespace

extern "C" int mtx_init(mtx_t* m, int type) {
  pthread_mutexattr_t attr;
  pthread_mutexattr_init(&attr);
  if ((type & mtx_recursive) != 0) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
  const int rc = pthread_mutex_init(M(m), &attr);
  pthread_mutexattr_destroy(&attr);
  return Rc(rc);
}
extern "C" int mtx_lock(mtx_t* m) {
  return Rc(pthread_mutex_lock(M(m)));
}
extern "C" int mtx_trylock(mtx_t* m) {
  return Rc(pthread_mutex_trylock(M(m)));
}
extern "C" int mtx_timedlock(mtx_t* __restrict m, const struct timespec* __restrict t) {
  return Rc(pthread_mutex_timedlock(M(m), t));
}
extern "C" int mtx_unlock(mtx_t* m) {
  return Rc(pthread_mutex_unlock(M(m)));
}
extern "C" void mtx_destroy(mtx_t* m) {
  pthread_mutex_destroy(M(m));
}
extern "C" int cnd_init(cnd_t* c) {
  return Rc(pthread_cond_init(C(c), nullptr));
}
extern "C" int cnd_signal(cnd_t* c) {
  return Rc(pthread_cond_signal(C(c)));
}
extern "C" int cnd_broadcast(cnd_t* c) {
  return Rc(pthread_cond_broadcast(C(c)));
}
extern "C" int cnd_wait(cnd_t* c, mtx_t* m) {
  return Rc(pthread_cond_wait(C(c), M(m)));
}
extern "C" int cnd_timedwait(cnd_t* __restrict c, mtx_t* __restrict m,
                             const struct timespec* __restrict t) {
  return Rc(pthread_cond_timedwait(C(c), M(m), t));
}
extern "C" void cnd_destroy(cnd_t* c) {
  pthread_cond_destroy(C(c));
}
