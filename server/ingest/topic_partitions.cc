#include "server/ingest/topic_partitions.h"

namespace quiver {

Result<std::set<TopicPartition>> ListPartitions(rd_kafka_t* rk, const std::set<std::string>& topics,
                                                int timeout_ms) {
  const rd_kafka_metadata_t* md = nullptr;
  // All topics: asking for one by name would create it with the broker's
  // defaults where auto-creation is on.
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, timeout_ms)) {
    return Status::Unavailable(std::string("kafka: cannot read the cluster's metadata: ") +
                               rd_kafka_err2str(err));
  }
  std::set<TopicPartition> found;
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR || !topics.contains(t.topic)) continue;
    for (int p = 0; p < t.partition_cnt; ++p)
      found.emplace(t.topic, t.partitions[p].id);
  }
  rd_kafka_metadata_destroy(md);
  return found;
}

}  // namespace quiver
