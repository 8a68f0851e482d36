// KafkaOptions: how quiverd's Kafka ingestion (server/ingest/kafka_ingest.h)
// connects and batches; each member is a setting of service/settings.h.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/status.h"

namespace quiver {

struct KafkaOptions {
  std::string brokers;  // bootstrap.servers; empty: no ingestion
  std::string group = "quiver";
  // Every partition of every source topic is assigned directly, with no
  // group membership (the group only records the offsets, for lag tools):
  // a cluster member, which consumes every source in full, resumes at once
  // after a restart instead of waiting for its dead session to expire.
  bool assign_all = false;
  // Extra librdkafka settings, e.g. {"session.timeout.ms", "6000"}.
  std::vector<std::pair<std::string, std::string>> config;
  // A batch is applied when it holds max_batch_events, when librdkafka has
  // nothing more fetched, or max_batch_ms after the batch began.
  size_t max_batch_events = 20'000;
  int max_batch_ms = 20;
};

// "a=1,b=2" -> {{"a","1"},{"b","2"}}; fails on an item without '='.
Result<std::vector<std::pair<std::string, std::string>>> ParseKafkaConfig(std::string_view text);
// The inverse: {{"a","1"},{"b","2"}} -> "a=1,b=2".
// key=value,... again, with the values of secrets (IsKafkaSecret) shown
// as "(hidden)": what CONFIG GET kafka_config answers.
std::string FormatKafkaConfig(const std::vector<std::pair<std::string, std::string>>& config);
// Whether a librdkafka setting holds a secret (sasl.password,
// ssl.key.password, ssl.keystore.password, sasl.jaas.config, ...).
bool IsKafkaSecret(std::string_view key);

// librdkafka's log line (syslog level: 0-3 errors, 4 warning, 5-6 info,
// 7 debug) into quiverd's log: every Kafka client's log callback calls it.
void LogKafka(int level, const char* facility, const char* message);

}  // namespace quiver
