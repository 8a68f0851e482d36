#include "util/allocator.h"

#include <unistd.h>

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string_view>

// jemalloc's control interface; null unless jemalloc is linked in.
extern "C" int mallctl(const char* name, void* oldp, size_t* oldlenp, void* newp, size_t newlen)
    __attribute__((weak));
extern "C" void malloc_stats_print(void (*write)(void*, const char*), void* opaque,
                                   const char* options) __attribute__((weak));

namespace quiver {

namespace {

bool Jemalloc() {
  return mallctl != nullptr;
}

// Re-executes the process with `setting` appended to the environment
// variable `name` (joined by `separator`), unless it already mentions `key`.
void ReexecWith(const char* name, std::string_view key, std::string_view setting, char separator,
                char** argv) {
  const char* current = std::getenv(name);
  const std::string before = current ? current : "";
  if (before.find(key) != std::string::npos) return;
  const std::string value =
      before.empty() ? std::string(setting) : before + separator + std::string(setting);
  // The resolved path, not /proc/self/exe, so the process keeps its name.
  std::error_code ec;
  const std::string self = std::filesystem::read_symlink("/proc/self/exe", ec).string();
  if (ec) return;
  setenv(name, value.c_str(), 1);
  execv(self.c_str(), argv);
  if (current != nullptr) {  // exec failed: run on as we are
    setenv(name, before.c_str(), 1);
  } else {
    unsetenv(name);
  }
}

}  // namespace

std::string AllocatorName() {
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (!Jemalloc() || mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
    return "libc";
  }
  // "5.3.0-0-g54eaed1d8b56b1aa528be3bdd1877e59c56fa90c": the release only.
  const std::string_view full(version);
  return "jemalloc-" + std::string(full.substr(0, full.find('-')));
}

std::string AllocatorStats() {
  if (malloc_stats_print == nullptr) return "Stats not supported for the current allocator";
  std::string out;
  malloc_stats_print(
      [](void* opaque, const char* text) { static_cast<std::string*>(opaque)->append(text); }, &out,
      nullptr);
  return out;
}

void PurgeAllocator() {
  // MALLCTL_ARENAS_ALL (4096) names every arena.
  if (Jemalloc()) (void)mallctl("arena.4096.purge", nullptr, nullptr, nullptr, 0);
}

void UseHugePages(bool enabled, char** argv) {
  if (Jemalloc()) {
    if (!enabled) ReexecWith("MALLOC_CONF", "thp:", "thp:never,metadata_thp:disabled", ',', argv);
  } else if (enabled) {
    ReexecWith("GLIBC_TUNABLES", "glibc.malloc.hugetlb", "glibc.malloc.hugetlb=1", ':', argv);
  }
}

}  // namespace quiver
