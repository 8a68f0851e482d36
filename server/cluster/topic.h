// The changelog topic: found, or created with --cluster-partitions and a
// replication factor of --cluster-replication capped at the brokers'
// count.
#pragma once

#include <librdkafka/rdkafka.h>

#include "quiver/status.h"
#include "service/cluster_options.h"

namespace quiver::cluster {

// The topic's partition count, once it exists and every partition has a
// leader. Uses the handle's admin API (any client handle).
Result<int> EnsureTopic(rd_kafka_t* rk, const ClusterOptions& options);

}  // namespace quiver::cluster
