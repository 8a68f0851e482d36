#include "server/cluster/changelog.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_map>

#include "server/cluster/topic.h"
#include "server/cluster/write_ids.h"
#include "service/kafka_options.h"
#include "storage/history/history_key.h"
#include "storage/history/meta_keys.h"
#include "util/clock.h"
#include "util/rcu.h"
#include "util/thread_name.h"

namespace quiver::cluster {

namespace {

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

// Why a partition stops when the log lost its next record.
Status Deleted() {
  return Status::FailedPrecondition(
      "the changelog no longer holds this record (the topic's retention deleted it before "
      "this member applied it): start the member again from a checkpoint of a peer "
      "(docs/cluster.md#adding-and-removing-a-member)");
}

uint64_t RandomOrigin() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(MonotonicMs());
}

}  // namespace

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
  std::unique_ptr<Part[]> parts;
  const uint64_t origin = RandomOrigin();
  std::atomic<uint64_t> next_seq{1};
  std::atomic<int64_t> proposed{0}, applied{0}, refused{0}, corrupt{0}, skipped{0};
  std::atomic<int64_t> deduplicated{0};
  std::unique_ptr<WriteIds> write_ids;  // the changelog's thread only
  ReadWaiters readers;
  std::vector<std::unique_ptr<SkipRequest>> skips;  // guarded by mu
  std::atomic<bool> caught_up{false};
  mutable std::mutex mu;
  std::unordered_map<uint64_t, Waiter> waiters;  // by seq; guarded by mu
  std::atomic<bool> stopping{false};
  std::thread thread;
  int64_t last_expiry_ms = 0;      // the changelog's thread only
  std::vector<int64_t> tick_sent;  // per partition; the changelog's thread only
};

namespace {

void LogFromKafka(const rd_kafka_t*, int level, const char* facility, const char* message) {
  LogKafka(level, facility, message);
}

Status Configure(rd_kafka_conf_t* conf,
                 const std::vector<std::pair<std::string, std::string>>& settings) {
  char err[512];
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      return Status::InvalidArgument("kafka setting " + key + "=" + value + ": " + err);
    }
  }
  return Status::Ok();
}

// librdkafka handle from settings; takes conf.
Result<rd_kafka_t*> NewHandle(rd_kafka_type_t type, rd_kafka_conf_t* conf,
                              const std::vector<std::pair<std::string, std::string>>& settings) {
  if (Status s = Configure(conf, settings); !s.ok()) {
    rd_kafka_conf_destroy(conf);
    return s;
  }
  rd_kafka_conf_set_log_cb(conf, &LogFromKafka);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);
  if (rk == nullptr) return Status::InvalidArgument(std::string("kafka: ") + err);
  return rk;
}

}  // namespace

Status Changelog::Impl::CreateProducer() {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", kafka.brokers},
      {"enable.idempotence", "true"},
      {"acks", "all"},
      {"linger.ms", "0"},
      {"message.timeout.ms", std::to_string(options.write_timeout_ms)},
      {"queue.buffering.max.kbytes", "65536"}};
  settings.insert(settings.end(), kafka.config.begin(), kafka.config.end());
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &Impl::Delivered);
  QUIVER_ASSIGN_OR_RETURN(producer, NewHandle(RD_KAFKA_PRODUCER, conf, settings));
  return Status::Ok();
}

Status Changelog::Impl::CreateConsumer() {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", kafka.brokers},
      {"group.id", "quiver-replica-" + options.replica_id},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      // A position the log no longer holds is an error, never a jump.
      {"auto.offset.reset", "error"},
      {"fetch.wait.max.ms", "10"},
      {"queued.min.messages", "1000000"}};
  settings.insert(settings.end(), kafka.config.begin(), kafka.config.end());
  QUIVER_ASSIGN_OR_RETURN(consumer, NewHandle(RD_KAFKA_CONSUMER, rd_kafka_conf_new(), settings));
  rd_kafka_poll_set_consumer(consumer);
  return Status::Ok();
}

// Every partition, from its stored offset and clock (or the beginning).
Status Changelog::Impl::Assign() {
  parts = std::make_unique<Part[]>(static_cast<size_t>(partitions));
  tick_sent.assign(static_cast<size_t>(partitions), 0);
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  std::vector<int32_t> gone;  // partitions whose next record the log no longer holds
  for (int32_t p = 0; p < partitions; ++p) {
    std::string stored;
    Result<bool> found = meta.Get(StateName(p), &stored);
    if (!found.ok()) {
      rd_kafka_topic_partition_list_destroy(list);
      return found.status();
    }
    int64_t offset = RD_KAFKA_OFFSET_BEGINNING;
    if (*found && stored.size() == 16) {
      offset = static_cast<int64_t>(history::ReadBig64(stored.data()));
      parts[p].applied = offset;
      parts[p].visible = offset;
      parts[p].clock = static_cast<int64_t>(history::ReadBig64(stored.data() + 8));
    } else if (*found) {
      rd_kafka_topic_partition_list_destroy(list);
      return Status::IoError("corrupt stored changelog state of " + StateName(p));
    }
    rd_kafka_topic_partition_list_add(list, options.topic.c_str(), p)->offset = offset;
    int64_t low = 0, high = -1;
    if (rd_kafka_query_watermark_offsets(consumer, options.topic.c_str(), p, &low, &high, 10'000) ==
        RD_KAFKA_RESP_ERR_NO_ERROR) {
      parts[p].start_end = high;
      // An empty member starts at the log's beginning, which must be offset 0.
      if (low > parts[p].applied.load()) gone.push_back(p);
    }
  }
  const rd_kafka_resp_err_t err = rd_kafka_assign(consumer, list);
  rd_kafka_topic_partition_list_destroy(list);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Status::Unavailable(std::string("kafka: cannot consume the changelog: ") +
                               rd_kafka_err2str(err));
  }
  for (int32_t p : gone)
    Stop(p, parts[p].applied.load(), Deleted());
  return Status::Ok();
}

Changelog::Impl::~Impl() {
  if (consumer != nullptr) {
    rd_kafka_consumer_close(consumer);
    rd_kafka_destroy(consumer);
  }
  if (producer != nullptr) {
    rd_kafka_flush(producer, 2000);
    rd_kafka_destroy(producer);
  }
}

void Changelog::Impl::Delivered(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) return;  // applying it completes it
  const auto seq = static_cast<uint64_t>(reinterpret_cast<uintptr_t>(m->_private));
  if (seq == 0) return;  // a tick
  static_cast<Impl*>(opaque)->Fail(
      seq, Status::ClusterDown(std::string("the changelog did not take the write: ") +
                               rd_kafka_err2str(m->err)));
}

void Changelog::Impl::Fail(uint64_t seq, const Status& status) {
  Done done;
  {
    std::lock_guard<std::mutex> lock(mu);
    auto it = waiters.find(seq);
    if (it == waiters.end()) return;
    done = std::move(it->second.done);
    waiters.erase(it);
  }
  refused.fetch_add(1, std::memory_order_relaxed);
  done(status);
}

void Changelog::Impl::ExpireWaiters() {
  const int64_t now = SystemNowMs();
  if (now - last_expiry_ms < 100) return;
  last_expiry_ms = now;
  std::vector<uint64_t> late;
  {
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [seq, w] : waiters) {
      if (w.deadline_ms <= now) late.push_back(seq);
    }
  }
  for (uint64_t seq : late) {
    Fail(seq, Status::ClusterDown(
                  "the write was not applied within cluster_write_timeout; it may still be "
                  "applied: retry it with its write id"));
  }
}

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

void Changelog::Impl::Handle(const rd_kafka_message_t& m, HistoryBatch* batch,
                             std::vector<std::pair<Done, Applied>>* done) {
  if (m.err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET && m.partition >= 0 &&
      m.partition < partitions && !parts[m.partition].stopped) {
    return Stop(m.partition, parts[m.partition].applied.load(), Deleted());
  }
  if (m.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      spdlog::warn("changelog {}: {}", options.topic, rd_kafka_message_errstr(&m));
    }
    return;
  }
  if (m.partition < 0 || m.partition >= partitions) return;
  Part& part = parts[m.partition];
  // A waiting partition's messages come again once it resumes; those below
  // `applied` were applied (fetched again after a seek).
  if (part.stopped || part.waiting || m.offset < part.applied.load(std::memory_order_relaxed)) {
    return;
  }
  RecordHeader header;
  std::string_view body;
  Status decoded =
      DecodeRecord(std::string_view(static_cast<const char*>(m.payload), m.len), &header, &body);
  if (!decoded.ok()) return Stop(m.partition, m.offset, decoded);
  const int64_t time = std::max(header.time_ms, part.clock.load(std::memory_order_relaxed));
  if (history != nullptr &&
      (header.kind == RecordKind::kPut || header.kind == RecordKind::kDelete)) {
    CommitNow(batch);
  }
  HistoryBatch* writes = history != nullptr ? batch : nullptr;
  write_ids->Expire(m.partition, time, writes);
  Result<std::string> reply = std::string();
  const std::string* first =
      header.write_id.empty() ? nullptr : write_ids->Find(m.partition, header.write_id);
  if (first != nullptr) {  // a retry: answered as the first time, not applied again
    reply = *first;
    deduplicated.fetch_add(1, std::memory_order_relaxed);
  } else if (header.kind != RecordKind::kTick) {
    reply = applier.Apply(header.kind, body, m.partition, time, writes);
    if (!reply.ok() && reply.status().code() == StatusCode::kUnavailable) {
      return Wait(m.partition, m.offset, reply.status());
    }
    if (!reply.ok()) return Stop(m.partition, m.offset, reply.status());
  }
  if (!part.why.empty() && !part.stopped) {
    std::lock_guard<std::mutex> lock(mu);
    part.why.clear();
  }
  if (first == nullptr) write_ids->Remember(m.partition, header.write_id, time, *reply, writes);
  part.clock.store(time, std::memory_order_relaxed);
  part.applied.store(m.offset + 1, std::memory_order_release);
  applied.fetch_add(1, std::memory_order_relaxed);
  if (history != nullptr) SaveState(batch, m.partition, m.offset + 1, time);
  if (header.origin != origin || header.seq == 0) return;
  std::lock_guard<std::mutex> lock(mu);
  auto it = waiters.find(header.seq);
  if (it == waiters.end()) return;  // it timed out
  done->emplace_back(std::move(it->second.done), Applied{m.partition, m.offset, std::move(*reply)});
  waiters.erase(it);
}

void Changelog::Impl::CommitNow(HistoryBatch* batch) {
  if (batch->empty()) return;
  std::mutex done_mu;
  std::condition_variable done_cv;
  bool done = false;
  Status status;
  history->Submit(std::move(*batch), [&](const Status& s) {
    std::lock_guard<std::mutex> lock(done_mu);
    status = s;
    done = true;
    done_cv.notify_one();
  });
  *batch = HistoryBatch();
  std::unique_lock<std::mutex> lock(done_mu);
  done_cv.wait(lock, [&] { return done; });
  // A refused commit stays queued until the disk comes back
  // (HistoryStore::Recover); applying goes on in memory meanwhile.
  if (!status.ok()) spdlog::warn("changelog {}: commit: {}", options.topic, status.message());
}

void Changelog::Impl::SaveState(HistoryBatch* batch, int32_t partition, int64_t next,
                                int64_t clock) const {
  std::string state;
  history::AppendBig64(static_cast<uint64_t>(next), &state);
  history::AppendBig64(static_cast<uint64_t>(clock), &state);
  meta.Put(batch, StateName(partition), state);
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

void Changelog::Impl::Tick() {
  const int64_t now = SystemNowMs();
  for (int32_t p = 0; p < partitions; ++p) {
    Part& part = parts[p];
    if (part.stopped || part.clock.load(std::memory_order_relaxed) > now - kTickAfterMs ||
        tick_sent[p] > now - kTickAfterMs) {
      continue;
    }
    // Every server ticks a quiet partition: ticks only move the clock.
    tick_sent[p] = now;
    std::string record;
    EncodeHeader({.kind = RecordKind::kTick, .origin = origin, .seq = 0, .time_ms = now}, &record);
    rd_kafka_producev(producer, RD_KAFKA_V_TOPIC(options.topic.c_str()), RD_KAFKA_V_PARTITION(p),
                      RD_KAFKA_V_VALUE(record.data(), record.size()),
                      RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
  }
}

void Changelog::Impl::Loop() {
  NameThisThread("changelog");
  rcu::ThreadRegistration registration;
  std::vector<std::pair<Done, Applied>> done;
  int64_t last_tick_ms = 0;
  while (!stopping.load(std::memory_order_relaxed)) {
    rd_kafka_poll(producer, 0);  // delivery reports: failures fail their writers
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 20);
    if (m != nullptr) {
      HistoryBatch batch;
      for (int n = 0; m != nullptr;
           m = ++n < kMaxBatch ? rd_kafka_consumer_poll(consumer, 0) : nullptr) {
        Handle(*m, &batch, &done);
        rd_kafka_message_destroy(m);
      }
      // Answers and positions wait for the history: a reader of the history
      // (time travel, training sets) then sees every write acknowledged.
      if (history != nullptr) CommitNow(&batch);
      for (int32_t p = 0; p < partitions; ++p)
        parts[p].visible.store(parts[p].applied.load(std::memory_order_relaxed));
      for (auto& [fn, applied_record] : done)
        fn(std::move(applied_record));
      done.clear();
    }
    readers.Complete(SystemNowMs(), [this](const Position& p) { return Visible(p); });
    if (!caught_up.load(std::memory_order_relaxed)) {
      bool all = true;
      for (int32_t p = 0; p < partitions && all; ++p)
        all = parts[p].visible.load() >= parts[p].start_end.load();
      if (all) {
        caught_up = true;
        spdlog::info("changelog {}: caught up", options.topic);
      }
    }
    const int64_t now = SystemNowMs();
    if (now - last_tick_ms >= kTickAfterMs / 2) {
      last_tick_ms = now;
      Tick();
    }
    ServeSkips();
    RetryWaiting();
    ExpireWaiters();
  }
}

Changelog::Changelog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Changelog>> Changelog::Start(const ClusterOptions& options,
                                                    const KafkaOptions& kafka,
                                                    HistoryStore* history, RecordApplier& applier) {
  if (kafka.brokers.empty()) {
    return Status::InvalidArgument("cluster_topic needs kafka_brokers: the changelog is a topic");
  }
  auto impl = std::make_unique<Impl>(options, kafka, history, applier);
  QUIVER_RETURN_IF_ERROR(impl->CreateProducer());
  QUIVER_ASSIGN_OR_RETURN(impl->partitions, EnsureTopic(impl->producer, options));
  QUIVER_RETURN_IF_ERROR(impl->CreateConsumer());
  QUIVER_RETURN_IF_ERROR(impl->Assign());
  QUIVER_ASSIGN_OR_RETURN(impl->write_ids,
                          WriteIds::Open(history, options.topic, impl->partitions));
  Impl* raw = impl.get();
  impl->thread = std::thread([raw] { raw->Loop(); });
  spdlog::info("changelog {}: {} partitions, replica {}", options.topic, impl->partitions,
               options.replica_id);
  return std::unique_ptr<Changelog>(new Changelog(std::move(impl)));
}

Changelog::~Changelog() {
  impl_->stopping = true;
  if (impl_->thread.joinable()) impl_->thread.join();
  std::vector<uint64_t> left;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    for (const auto& [seq, w] : impl_->waiters)
      left.push_back(seq);
  }
  for (uint64_t seq : left)
    impl_->Fail(seq, Status::ClusterDown("the server is shutting down"));
  impl_->readers.FailAll(Status::Unavailable("the server is shutting down"));
  std::lock_guard<std::mutex> lock(impl_->mu);
  for (auto& r : impl_->skips)
    r->done.set_value(Status::Unavailable("the server is shutting down"));
}

int Changelog::partitions() const {
  return impl_->partitions;
}

void Changelog::Propose(int partition, RecordKind kind, std::string_view body,
                        std::string_view write_id, Done done) {
  Impl& impl = *impl_;
  const uint64_t seq = impl.next_seq.fetch_add(1, std::memory_order_relaxed);
  std::string record;
  const int64_t now = SystemNowMs();
  EncodeHeader(
      {.kind = kind, .origin = impl.origin, .seq = seq, .time_ms = now, .write_id = write_id},
      &record);
  record.append(body);
  {
    std::lock_guard<std::mutex> lock(impl.mu);
    impl.waiters.emplace(seq, Waiter{std::move(done), now + impl.options.write_timeout_ms + 1000});
  }
  impl.proposed.fetch_add(1, std::memory_order_relaxed);
  const rd_kafka_resp_err_t err = rd_kafka_producev(
      impl.producer, RD_KAFKA_V_TOPIC(impl.options.topic.c_str()), RD_KAFKA_V_PARTITION(partition),
      RD_KAFKA_V_VALUE(record.data(), record.size()), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(static_cast<uintptr_t>(seq))), RD_KAFKA_V_END);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    impl.Fail(seq, Status::ClusterDown(std::string("the changelog did not take the write: ") +
                                       rd_kafka_err2str(err)));
  }
}

ChangelogStatus Changelog::status() const {
  const Impl& impl = *impl_;
  ChangelogStatus s{.topic = impl.options.topic,
                    .replica_id = impl.options.replica_id,
                    .caught_up = impl.caught_up.load(),
                    .proposed = impl.proposed.load(),
                    .applied = impl.applied.load(),
                    .refused = impl.refused.load(),
                    .corrupt = impl.corrupt.load(),
                    .skipped = impl.skipped.load(),
                    .deduplicated = impl.deduplicated.load(),
                    .write_ids = impl.write_ids->size()};
  for (int32_t p = 0; p < impl.partitions; ++p) {
    const Part& part = impl.parts[p];
    PartitionStatus ps{
        .partition = p, .applied = part.visible.load(), .clock_ms = part.clock.load()};
    int64_t low = 0, high = -1;
    if (rd_kafka_get_watermark_offsets(impl.consumer, impl.options.topic.c_str(), p, &low, &high) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        high >= 0) {
      ps.log_end = high;
    }
    if (part.stopped || part.waiting) {
      std::lock_guard<std::mutex> lock(impl.mu);
      (part.stopped ? ps.stopped : ps.waiting) = part.why;
    }
    s.partitions.push_back(std::move(ps));
  }
  return s;
}

void Changelog::WhenApplied(std::vector<Position> positions, int64_t timeout_ms,
                            ReadWaiters::Ready ready) {
  for (const Position& p : positions) {
    if (p.partition < 0 || p.partition >= impl_->partitions || p.offset < 0) {
      return ready(Status::InvalidArgument("no such changelog position: partition " +
                                           std::to_string(p.partition) + " offset " +
                                           std::to_string(p.offset) + " (the changelog has " +
                                           std::to_string(impl_->partitions) + " partitions)"));
    }
  }
  impl_->readers.Add(std::move(positions), SystemNowMs() + timeout_ms, std::move(ready),
                     [this](const Position& p) { return impl_->Visible(p); });
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

Status Changelog::ReadsAllowed() const {
  if (impl_->caught_up.load(std::memory_order_acquire) || impl_->options.serve_stale) {
    return Status::Ok();
  }
  return Status::Loading(
      "this cluster member is catching up with the changelog; it serves reads once it has "
      "caught up (or with --serve-stale): read from another member meanwhile");
}

int64_t Changelog::SafeTime() const {
  int64_t safe = INT64_MAX;
  for (int32_t p = 0; p < impl_->partitions; ++p)
    safe = std::min(safe, impl_->parts[p].clock.load(std::memory_order_relaxed));
  return safe == INT64_MAX ? 0 : safe;
}

}  // namespace quiver::cluster
