#include "server/file_limits.h"

#include <sys/resource.h>

#include <algorithm>

namespace quiver {

namespace {

int64_t SoftLimit() {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) != 0) return 1024;
  return l.rlim_cur == RLIM_INFINITY ? int64_t{1} << 30 : static_cast<int64_t>(l.rlim_cur);
}

// Sets the soft limit to `want`, or as close below it as the hard limit
// allows; returns the soft limit then.
int64_t RaiseTo(int64_t want) {
  rlimit l{};
  if (getrlimit(RLIMIT_NOFILE, &l) != 0) return 1024;
  if (l.rlim_cur != RLIM_INFINITY && static_cast<int64_t>(l.rlim_cur) < want) {
    const rlim_t hard = l.rlim_max;
    l.rlim_cur = hard == RLIM_INFINITY ? static_cast<rlim_t>(want)
                                       : std::min(hard, static_cast<rlim_t>(want));
    setrlimit(RLIMIT_NOFILE, &l);
  }
  return SoftLimit();
}

}  // namespace

FileBudget AdjustFileLimit(int64_t maxclients) {
  FileBudget b;
  b.limit = RaiseTo(maxclients + kRocksdbFiles + kReservedFiles);
  // Clients first, as Redis; RocksDB gets what is left, between 64 and
  // kRocksdbFiles table files, and a quarter of the limit when it is short.
  const int64_t for_tables = b.limit - kReservedFiles - maxclients;
  b.rocksdb_files = static_cast<int>(
      std::clamp<int64_t>(for_tables, std::min<int64_t>(64, b.limit / 4), kRocksdbFiles));
  b.maxclients = std::max<int64_t>(1, std::min(maxclients, ClientsThatFit(b.rocksdb_files)));
  if (b.maxclients < maxclients) {
    b.warning = "the descriptor limit is " + std::to_string(b.limit) + " (ulimit -n) and could " +
                "not be raised: serving at most " + std::to_string(b.maxclients) +
                " clients instead of maxclients " + std::to_string(maxclients) +
                "; raise the hard limit (LimitNOFILE=, /etc/security/limits.conf) for more";
  }
  return b;
}

int64_t ClientsThatFit(int rocksdb_files) {
  return std::max<int64_t>(1, SoftLimit() - kReservedFiles - rocksdb_files);
}

}  // namespace quiver
