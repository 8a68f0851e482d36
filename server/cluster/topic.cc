#include "server/cluster/topic.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <string>
#include <thread>

namespace quiver::cluster {

namespace {

constexpr int kTimeoutMs = 15'000;

struct Found {
  int brokers = 0;
  int partitions = 0;  // 0: no such topic
  bool led = false;    // every partition has a leader
};

Result<Found> Describe(rd_kafka_t* rk, const std::string& topic) {
  const rd_kafka_metadata_t* md = nullptr;
  // All topics: asking for one by name would create it with the broker's
  // defaults where auto-creation is on.
  const rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, nullptr, &md, kTimeoutMs);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::ClusterDown(std::string("kafka: cannot read the cluster's metadata: ") +
                               rd_kafka_err2str(err));
  }
  Found found{.brokers = md->broker_cnt};
  for (int i = 0; i < md->topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md->topics[i];
    if (topic != t.topic || t.err != RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    found.partitions = t.partition_cnt;
    found.led = true;
    for (int p = 0; p < t.partition_cnt; ++p)
      found.led = found.led && t.partitions[p].leader >= 0;
  }
  rd_kafka_metadata_destroy(md);
  return found;
}

Status Create(rd_kafka_t* rk, const ClusterOptions& options, int brokers) {
  const int replication = std::max(1, std::min(options.replication, brokers));
  char err[512];
  rd_kafka_NewTopic_t* topic = rd_kafka_NewTopic_new(options.topic.c_str(), options.partitions,
                                                     replication, err, sizeof err);
  if (topic == nullptr) return Status::InvalidArgument(std::string("cluster_topic: ") + err);
  // Every record is kept: a new member may apply the log from its beginning.
  rd_kafka_NewTopic_set_config(topic, "retention.ms", "-1");
  if (replication > 1) {
    // Acknowledged by acks=all means in this many replicas.
    const std::string min_isr = std::to_string(std::min(2, replication));
    rd_kafka_NewTopic_set_config(topic, "min.insync.replicas", min_isr.c_str());
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kTimeoutMs);
  Status status = Status::Ok();
  if (event == nullptr) {
    status = Status::ClusterDown(
        "kafka: creating the changelog topic " + options.topic +
        " timed out (a cluster that does not answer CreateTopics needs the topic created first: "
        "docs/cluster.md)");
  } else if (const rd_kafka_CreateTopics_result_t* result =
                 rd_kafka_event_CreateTopics_result(event)) {
    size_t n = 0;
    const rd_kafka_topic_result_t** topics = rd_kafka_CreateTopics_result_topics(result, &n);
    for (size_t i = 0; i < n; ++i) {
      const rd_kafka_resp_err_t e = rd_kafka_topic_result_error(topics[i]);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR && e != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS) {
        status = Status::ClusterDown("kafka: cannot create the changelog topic " + options.topic +
                                     ": " + rd_kafka_err2str(e));
      }
    }
  } else if (rd_kafka_event_error(event) != RD_KAFKA_RESP_ERR_NO_ERROR) {
    status = Status::ClusterDown(std::string("kafka: cannot create the changelog topic: ") +
                                 rd_kafka_event_error_string(event));
  }
  if (event != nullptr) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(topic);
  if (status.ok()) {
    spdlog::info("changelog topic {} created: {} partitions, replication factor {}", options.topic,
                 options.partitions, replication);
  }
  return status;
}

}  // namespace

Result<int> EnsureTopic(rd_kafka_t* rk, const ClusterOptions& options) {
  QUIVER_ASSIGN_OR_RETURN(Found found, Describe(rk, options.topic));
  if (found.partitions == 0) QUIVER_RETURN_IF_ERROR(Create(rk, options, found.brokers));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kTimeoutMs);
  while (found.partitions == 0 || !found.led) {
    if (std::chrono::steady_clock::now() > deadline) {
      return Status::ClusterDown("kafka: the changelog topic " + options.topic +
                                 " has no leader for every partition");
    }
    // Metadata propagates to the brokers after creation: ask again.
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    QUIVER_ASSIGN_OR_RETURN(found, Describe(rk, options.topic));
  }
  if (found.partitions != options.partitions) {
    spdlog::info(
        "changelog topic {} has {} partitions (cluster_partitions {} applies only when "
        "quiverd creates it)",
        options.topic, found.partitions, options.partitions);
  }
  return found.partitions;
}

}  // namespace quiver::cluster
