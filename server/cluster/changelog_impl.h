// The changelog's insides (server/cluster/changelog.h), shared by its
// files: changelog.cc (consuming, applying, proposing) and
// partition_control.cc (pausing, stopping, retrying and skipping a
// partition). Internal to quiver_cluster.
#pragma once

#include <librdkafka/rdkafka.h>

#include <atomic>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "server/cluster/changelog.h"
#include "server/cluster/write_ids.h"
#include "storage/history/meta_keys.h"

namespace quiver::cluster {

namespace changelog_internal {

// Records applied in one history batch at most.
constexpr int kMaxBatch = 1000;
// A partition with no record for this long gets a tick, so its clock (and
// the sweep's SafeTime) moves on.
constexpr int64_t kTickAfterMs = 1000;

struct Waiter {
  Done done;
  int64_t deadline_ms = 0;
};

struct SkipRequest {
  int32_t partition = 0;
  int64_t offset = 0;
  std::promise<Status> done;
};

struct Part {
  std::atomic<int64_t> applied{0};  // the next offset to apply
  // `applied` once the history shows what it wrote: what status() reports
  // and readers may wait for.
  std::atomic<int64_t> visible{0};
  std::atomic<int64_t> clock{0};
  std::atomic<int64_t> start_end{-1};  // the log's end when consuming began
  std::atomic<bool> stopped{false};
  std::atomic<bool> waiting{false};
  int64_t retry_ms = 0;  // when a waiting record is tried again; the changelog's thread only
  std::string why;       // why it stopped or waits; guarded by Impl::mu
};

// A record that cannot be applied yet is tried again after this long.
constexpr int64_t kRetryMs = 200;

// This incarnation's origin: random, drawn once at start.
uint64_t RandomOrigin();

}  // namespace changelog_internal

struct Changelog::Impl {
  Impl(const ClusterOptions& o, const KafkaOptions& k, HistoryStore* h, RecordApplier& a)
      : options(o), kafka(k), history(h), applier(a), meta(h, "cluster/") {}
  ~Impl();

  Status CreateProducer();
  Status CreateConsumer();
  Status Assign();
  void Loop();
  // Applies one consumed message into the batch; its writer's Done (if
  // this server proposed it) joins `done`.
  void Handle(const rd_kafka_message_t& m, HistoryBatch* batch,
              std::vector<std::pair<Done, Applied>>* done);
  void Stop(int32_t partition, int64_t offset, const Status& why);
  // Commits what the batch holds and waits until the history shows it: a
  // feature row's apply reads the history (a late row merges into the
  // version it follows), which must hold every record applied before.
  void CommitNow(HistoryBatch* batch);
  // Pauses a partition at a record that cannot be applied yet, to try it
  // again after kRetryMs; RetryWaiting resumes those due.
  void Wait(int32_t partition, int64_t offset, const Status& why);
  void RetryWaiting();
  // Serves the operator's Skip requests (on the changelog's thread).
  void ServeSkips();
  Status SkipOne(int32_t partition, int64_t offset);
  // Adds a partition's position (the next offset and its clock) to a batch.
  void SaveState(HistoryBatch* batch, int32_t partition, int64_t next, int64_t clock) const;
  void Pause(int32_t partition, int64_t seek_to);
  void Fail(uint64_t seq, const Status& status);
  void ExpireWaiters();
  void Tick();
  // Whether the record at a position is applied and visible.
  bool Visible(const Position& p) const {
    return parts[p.partition].visible.load(std::memory_order_acquire) > p.offset;
  }
  std::string StateName(int32_t partition) const {
    return options.topic + "/" + std::to_string(partition);
  }
  static void Delivered(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque);

  ClusterOptions options;
  KafkaOptions kafka;
  HistoryStore* history;
  RecordApplier& applier;
  MetaKeys meta;
  rd_kafka_t* producer = nullptr;
  rd_kafka_t* consumer = nullptr;
  int partitions = 0;
  std::unique_ptr<changelog_internal::Part[]> parts;
  const uint64_t origin = changelog_internal::RandomOrigin();
  std::atomic<uint64_t> next_seq{1};
  std::atomic<int64_t> proposed{0}, applied{0}, refused{0}, corrupt{0}, skipped{0};
  std::atomic<int64_t> deduplicated{0};
  std::unique_ptr<WriteIds> write_ids;  // the changelog's thread only
  ReadWaiters readers;
  std::vector<std::unique_ptr<changelog_internal::SkipRequest>> skips;  // guarded by mu
  std::atomic<bool> caught_up{false};
  mutable std::mutex mu;
  std::unordered_map<uint64_t, changelog_internal::Waiter> waiters;  // by seq; guarded by mu
  std::atomic<bool> stopping{false};
  std::thread thread;
  int64_t last_expiry_ms = 0;      // the changelog's thread only
  std::vector<int64_t> tick_sent;  // per partition; the changelog's thread only
};

}  // namespace quiver::cluster
