// The memory allocator quiverd runs on: jemalloc in release builds, with
// its options in server/jemalloc_conf.cc, and the C library's malloc under
// the sanitizers and libFuzzer, which bring their own.
#pragma once

#include <string>

namespace quiver {

// "jemalloc-5.3.0" or "libc", as Redis reports it in INFO's mem_allocator.
std::string AllocatorName();

// The allocator's statistics as text (jemalloc's malloc_stats_print), or
// Redis's "Stats not supported for the current allocator".
std::string AllocatorStats();

// Returns the allocator's dirty pages to the system (jemalloc's arenas'
// purge); nothing for another allocator.
void PurgeAllocator();

// Makes the allocator back the heap with transparent huge pages or not
// (--huge-pages). Allocators read that setting once, when the process
// starts, so where the setting asked for is not the one in effect, this
// re-executes the process (same pid and arguments) with the allocator's
// environment variable changed: MALLOC_CONF for jemalloc (huge pages are
// its built-in default), GLIBC_TUNABLES for glibc's malloc (off by
// default). An explicit setting in that variable is left alone, and a
// failed re-exec runs on as is. Call first thing in main.
void UseHugePages(bool enabled, char** argv);

}  // namespace quiver
