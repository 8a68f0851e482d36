// The partitions of a set of topics, read from the Kafka cluster's
// metadata: what a consumer that assigns partitions itself (a cluster
// member, KafkaOptions::assign_all) consumes.
#pragma once

#include <librdkafka/rdkafka.h>

#include <cstdint>
#include <set>
#include <string>
#include <utility>

#include "quiver/status.h"

namespace quiver {

using TopicPartition = std::pair<std::string, int32_t>;

// Every partition of each of `topics` that exists; a topic missing from the
// cluster contributes none. Fails if the metadata cannot be read within
// timeout_ms.
Result<std::set<TopicPartition>> ListPartitions(rd_kafka_t* rk, const std::set<std::string>& topics,
                                                int timeout_ms);

}  // namespace quiver
