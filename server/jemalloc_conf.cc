// jemalloc's options, built into quiverd (docs/operations.md#memory).
// MALLOC_CONF in the environment overrides them; --huge-pages false does
// so through it (util/allocator.h).
//
// thp:always asks the kernel for transparent huge pages for the heap (by
// madvise, so the kernel's default `madvise` mode is enough): rows and
// window states are millions of small blocks spread over gigabytes, reached
// in random order, and 2 MiB pages make their page faults and TLB misses
// far fewer. quiverd never forks, so huge pages cost it none of the
// copy-on-write stalls they cost Redis.
//
// background_thread:true (as Redis's jemalloc-bg-thread) gives freed
// memory back to the system on jemalloc's own threads, after its decay
// time (10 s): without them, decay runs only when the program allocates,
// so a server gone quiet after a large load kept what the load had freed
// (907 MB of RSS for the reference data set, 627 MB after a restart).
extern "C" {
// The name and type jemalloc looks for.
const char* malloc_conf = "thp:always,metadata_thp:auto,background_thread:true";
}
