// ThreadSanitizer cannot see the synchronisation inside liburcu (it is not
// instrumented), so the places where liburcu orders our memory are told to
// TSan explicitly. Outside TSan builds these compile to nothing.
#pragma once

#if defined(__SANITIZE_THREAD__)
#define QUIVER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define QUIVER_TSAN 1
#endif
#endif

#ifdef QUIVER_TSAN
extern "C" void __tsan_acquire(void* addr);
extern "C" void __tsan_release(void* addr);
#define QUIVER_TSAN_ACQUIRE(addr) __tsan_acquire((void*)(addr))
#define QUIVER_TSAN_RELEASE(addr) __tsan_release((void*)(addr))
#else
#define QUIVER_TSAN_ACQUIRE(addr) ((void)0)
#define QUIVER_TSAN_RELEASE(addr) ((void)0)
#endif
