// ClusterOptions: how quiverd joins a replicated cluster through a Kafka
// changelog topic (server/cluster/changelog.h, docs/cluster.md); each
// member is a setting of service/settings.h.
#pragma once

#include <cstdint>
#include <string>

namespace quiver {

struct ClusterOptions {
  std::string topic;       // the changelog topic; empty: no cluster (a single server)
  std::string replica_id;  // this server's stable name; empty: the host name and RESP port
  int partitions = 16;     // when the topic is created
  int replication = 3;     // when the topic is created; at most the brokers' count
  // A write whose record is not in the log and applied by then fails.
  int64_t write_timeout_ms = 10'000;
  // Serve reads while catching up with the changelog (else LOADING).
  bool serve_stale = false;
  bool enabled() const { return !topic.empty(); }
};

}  // namespace quiver
