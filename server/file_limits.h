// Descriptors, as Redis budgets them: at start quiverd raises its
// RLIMIT_NOFILE towards what maxclients, RocksDB's open table files and
// its own few (listening sockets, logs, Kafka) need. If the system allows
// fewer, RocksDB keeps fewer table files open and quiverd serves fewer
// clients, and says so.
#pragma once

#include <cstdint>
#include <string>

namespace quiver {

struct FileBudget {
  int64_t limit = 0;       // RLIMIT_NOFILE once raised
  int64_t maxclients = 0;  // the clients that fit (at most the maxclients asked)
  int rocksdb_files = 0;   // RocksDB's max_open_files
  std::string warning;     // why fewer clients than asked fit; empty if they all do
};

// Descriptors kept for what is not a client or a table file: listening
// sockets, the write-ahead log, RocksDB's LOG and MANIFEST, Kafka's
// sockets, eventfds, the config and definitions files.
inline constexpr int64_t kReservedFiles = 64;
// Table files RocksDB keeps open at most (more are opened on demand, and
// closed again, from its table cache).
inline constexpr int kRocksdbFiles = 1024;

// Raises the soft limit as far as the hard one allows (towards maxclients
// + kRocksdbFiles + kReservedFiles) and divides what it got.
FileBudget AdjustFileLimit(int64_t maxclients);

// The clients that fit the descriptor limit as it is now (CONFIG SET
// maxclients beyond it is refused, as Redis does).
int64_t ClientsThatFit(int rocksdb_files);

}  // namespace quiver
