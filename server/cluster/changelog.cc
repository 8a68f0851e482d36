#include "server/cluster/changelog.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <condition_variable>
#include <random>

#include "server/cluster/changelog_impl.h"
#include "server/cluster/topic.h"
#include "service/kafka_options.h"
#include "storage/history/history_key.h"
#include "util/clock.h"
#include "util/rcu.h"
#include "util/thread_name.h"

namespace quiver::cluster {

using namespace changelog_internal;  // NOLINT: this file is the changelog

namespace {

// Why a partition stops when the log lost its next record.
Status Deleted() {
  return Status::FailedPrecondition(
      "the changelog no longer holds this record (the topic's retention deleted it before "
      "this member applied it): start the member again from a checkpoint of a peer "
      "(docs/cluster.md#adding-and-removing-a-member)");
}

}  // namespace

uint64_t changelog_internal::RandomOrigin() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd() ^ static_cast<uint64_t>(MonotonicMs());
}

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

const std::string& Changelog::topic() const {
  return impl_->options.topic;
}

const std::string& Changelog::replica_id() const {
  return impl_->options.replica_id;
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

void Changelog::ProposeAll(std::span<const Proposed> records, RecordKind kind,
                           std::string_view write_id, DoneAll done) {
  struct Gather {
    std::vector<Result<Applied>> outcomes;
    std::atomic<size_t> left{0};
    DoneAll done;
  };
  auto gather = std::make_shared<Gather>();
  gather->outcomes.assign(records.size(), Status::Internal("not answered"));
  gather->left = records.size();
  gather->done = std::move(done);
  for (size_t i = 0; i < records.size(); ++i) {
    // Each writes its own outcome; the last one hands them all on.
    Propose(records[i].partition, kind, records[i].body, write_id,
            [gather, i](Result<Applied> applied) {
              gather->outcomes[i] = std::move(applied);
              if (gather->left.fetch_sub(1, std::memory_order_acq_rel) == 1) {
                gather->done(std::move(gather->outcomes));
              }
            });
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
  std::vector<int64_t> newest(static_cast<size_t>(impl_->partitions), -1);
  for (const Position& p : positions) {
    if (p.partition < 0 || p.partition >= impl_->partitions || p.offset < 0) {
      return ready(Status::InvalidArgument("no such changelog position: partition " +
                                           std::to_string(p.partition) + " offset " +
                                           std::to_string(p.offset) + " (the changelog has " +
                                           std::to_string(impl_->partitions) + " partitions)"));
    }
    newest[p.partition] = std::max(newest[p.partition], p.offset);
  }
  positions.clear();  // one per partition: a waiter's checks stay bounded
  for (int32_t p = 0; p < impl_->partitions; ++p) {
    if (newest[p] >= 0) positions.push_back({p, newest[p]});
  }
  impl_->readers.Add(std::move(positions), SystemNowMs() + timeout_ms, std::move(ready),
                     [this](const Position& p) { return impl_->Visible(p); });
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
