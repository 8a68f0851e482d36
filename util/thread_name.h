// Names the calling thread as `top -H`, `ps -L` and perf show it
// (docs/operations.md#threads). Linux keeps the first 15 bytes.
#pragma once

#include <pthread.h>

namespace quiver {

inline void NameThisThread(const char* name) {
  pthread_setname_np(pthread_self(), name);
}

}  // namespace quiver
