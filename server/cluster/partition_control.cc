// The changelog's control of its partitions (server/cluster/changelog.h):
// a record that cannot be applied yet pauses its partition and is tried
// again; one that cannot be applied at all stops it, until an operator
// skips it (CHANGELOG SKIP).
#include <spdlog/spdlog.h>

#include <chrono>

#include "server/cluster/changelog_impl.h"
#include "util/clock.h"

namespace quiver::cluster {

using namespace changelog_internal;  // NOLINT: this file is part of the changelog

void Changelog::Impl::Stop(int32_t partition, int64_t offset, const Status& why) {
  Part& part = parts[partition];
  corrupt.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(mu);
    part.why = "offset " + std::to_string(offset) + ": " + why.message();
  }
  part.stopped = true;
  spdlog::error("changelog {} partition {} stopped at offset {}: {}", options.topic, partition,
                offset, why.message());
  Pause(partition, -1);
}

void Changelog::Impl::Pause(int32_t partition, int64_t seek_to) {
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, options.topic.c_str(), partition)->offset = seek_to;
  rd_kafka_pause_partitions(consumer, list);
  if (seek_to >= 0) {
    // The messages fetched after it are dropped; they come again from here.
    if (rd_kafka_error_t* e = rd_kafka_seek_partitions(consumer, list, 5000)) {
      spdlog::warn("changelog {} partition {}: seek: {}", options.topic, partition,
                   rd_kafka_error_string(e));
      rd_kafka_error_destroy(e);
    }
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void Changelog::Impl::Wait(int32_t partition, int64_t offset, const Status& why) {
  Part& part = parts[partition];
  {
    std::lock_guard<std::mutex> lock(mu);
    if (part.why != why.message()) {
      spdlog::warn("changelog {} partition {} waits at offset {}: {}", options.topic, partition,
                   offset, why.message());
    }
    part.why = why.message();
  }
  part.waiting = true;
  part.retry_ms = SystemNowMs() + kRetryMs;
  Pause(partition, offset);
}

void Changelog::Impl::RetryWaiting() {
  const int64_t now = SystemNowMs();
  for (int32_t p = 0; p < partitions; ++p) {
    Part& part = parts[p];
    if (!part.waiting.load(std::memory_order_relaxed) || part.retry_ms > now) continue;
    part.waiting = false;
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(list, options.topic.c_str(), p);
    rd_kafka_resume_partitions(consumer, list);
    rd_kafka_topic_partition_list_destroy(list);
  }
}

void Changelog::Impl::ServeSkips() {
  std::vector<std::unique_ptr<SkipRequest>> todo;
  {
    std::lock_guard<std::mutex> lock(mu);
    todo.swap(skips);
  }
  for (auto& r : todo)
    r->done.set_value(SkipOne(r->partition, r->offset));
}

Status Changelog::Impl::SkipOne(int32_t partition, int64_t offset) {
  if (partition < 0 || partition >= partitions) {
    return Status::InvalidArgument("the changelog has no partition " + std::to_string(partition));
  }
  Part& part = parts[partition];
  const int64_t at = part.applied.load();
  if (!part.stopped || at != offset) {
    return Status::FailedPrecondition(
        "partition " + std::to_string(partition) + " is not stopped at offset " +
        std::to_string(offset) +
        (part.stopped ? " (it stopped at " + std::to_string(at) + ")" : " (it is running)"));
  }
  if (history != nullptr) {
    HistoryBatch batch;
    SaveState(&batch, partition, offset + 1, part.clock.load());
    CommitNow(&batch);
  }
  part.applied = offset + 1;
  part.visible = offset + 1;
  {
    std::lock_guard<std::mutex> lock(mu);
    part.why.clear();
  }
  part.stopped = false;
  skipped.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("changelog {} partition {}: the record at offset {} was skipped by an operator",
               options.topic, partition, offset);
  Pause(partition, offset + 1);  // from the record after it
  part.retry_ms = 0;
  part.waiting = true;  // RetryWaiting resumes it at once
  return Status::Ok();
}

Status Changelog::Skip(int partition, int64_t offset) {
  auto request = std::make_unique<SkipRequest>();
  request->partition = partition;
  request->offset = offset;
  std::future<Status> done = request->done.get_future();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->skips.push_back(std::move(request));
  }
  if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
    return Status::Unavailable("the changelog's thread did not answer");
  }
  return done.get();
}

}  // namespace quiver::cluster
