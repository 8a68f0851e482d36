#include "server/ingest/kafka_ingest.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <set>

#include <spdlog/spdlog.h>

#include "server/ingest/stored_offsets.h"
#include "server/ingest/topic_partitions.h"
#include "util/rcu.h"
#include "util/thread_name.h"

namespace quiver {

namespace {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void LogFromKafka(const rd_kafka_t*, int level, const char* facility, const char* message) {
  LogKafka(level, facility, message);
}

using PartitionKey = TopicPartition;

struct PartitionState {
  int64_t consumed = -1;     // next offset after the last message consumed
  bool dirty = false;        // `consumed` not yet in a batch
  int64_t next_offset = -1;  // next offset after what is applied and durable
  bool idle = false;         // at the end of the partition
  int64_t max_event_time_ms = INT64_MIN;
  int64_t low = -1, high = -1;  // the partition's offsets as last fetched
};

}  // namespace

struct KafkaIngest::Impl {
  Impl(FeatureStore& s, Ingestor& i, KafkaOptions o)
      : store(s), ingestor(i), options(std::move(o)), stored_offsets(s.history()) {}
  ~Impl();

  Status Create();
  void Run();
  void RefreshSources();
  // Subscribes to the topics in the consumer group, or, with
  // options.assign_all, assigns their partitions itself.
  void Follow(const std::set<std::string>& topics);
  // options.assign_all: assigns every partition of the source topics not
  // yet assigned, and drops those of topics no source reads any more. The
  // metadata is read again every few seconds (new partitions, new topics)
  // or now.
  void AssignEveryPartition(bool now);
  void Handle(const rd_kafka_message_t* m);
  void Malformed(const rd_kafka_message_t* m, const MappedEvent& mapped,
                 const std::string& dead_letter_topic);
  // Consumes until the batch is full, librdkafka has nothing more fetched,
  // or the batch is max_batch_ms old.
  void FillBatch();
  void Flush();
  // Holds the batch while writes are refused, with every partition paused
  // so that the consumer stays in its group; false if stopping first.
  bool WaitUntilWritable();
  void PauseAll(bool pause);
  // Adds the consumed offset of every partition with new messages to the
  // batch; returns them.
  std::vector<std::pair<PartitionKey, int64_t>> StoreOffsets(HistoryBatch* batch);
  // Commits the offsets stored since the last call to the group, if a
  // second has passed since (or now).
  void CommitToGroup(bool now);
  // Also refreshes each partition's offsets as librdkafka last fetched them.
  int64_t Watermark();
  void Assign(rd_kafka_topic_partition_list_t* parts, bool cooperative);
  void Revoke(rd_kafka_topic_partition_list_t* parts, bool cooperative);
  static void Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                        rd_kafka_topic_partition_list_t* parts, void* opaque);
  // Creates the dead-letter producer; false if librdkafka refused.
  bool CreateProducer();
  // A dead letter left librdkafka's queue (delivered or failed): its bytes
  // leave the memory budget.
  static void DeadLetterDone(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  // Counts dead letters waiting in librdkafka's queue against --max-memory.
  void ChargeDeadLetters(int64_t delta) {
    dead_letter_bytes.fetch_add(delta, std::memory_order_relaxed);
    store.table().budget().Add(MemoryPart::kDeadLetters, delta);
  }

  FeatureStore& store;
  Ingestor& ingestor;
  const KafkaOptions options;
  const StoredOffsets stored_offsets;
  rd_kafka_t* consumer = nullptr;
  rd_kafka_t* producer = nullptr;             // dead letters; created on first use
  std::atomic<int64_t> dead_letter_bytes{0};  // in the producer's queue
  std::thread thread;
  std::atomic<bool> stop{false};
  std::atomic<bool> running{false};

  // Consumer thread only.
  std::map<std::string, EventMapper> mappers;       // by source
  std::map<std::string, std::string> topic_source;  // topic -> source
  std::set<std::string> subscribed;
  std::set<PartitionKey> assigned;  // options.assign_all
  std::chrono::steady_clock::time_point next_partition_check;
  uint64_t generation = UINT64_MAX;
  std::vector<SourceEvent> pending;
  std::vector<std::pair<int64_t, int64_t>> pending_times;  // (event time ms, received us)
  MappedEvent mapped;
  std::array<bool, kEventErrorKinds> logged{};
  size_t last_batch_bytes = 0;                // to reserve room for the next batch
  std::map<PartitionKey, int64_t> to_commit;  // to the group, by CommitToGroup
  std::chrono::steady_clock::time_point last_group_commit;

  mutable std::mutex mu;  // guards what status() reads below
  std::map<PartitionKey, PartitionState> partitions;
  IngestCounts counts;
  uint64_t messages = 0, batches = 0, dead_lettered = 0, pauses = 0;
  std::string paused;  // why ingestion waits; empty while it runs
  std::array<uint64_t, kEventErrorKinds> malformed{};
  int64_t windows_through_ms = 0;
  Histogram event_to_visible, consume_to_visible;
};

std::vector<std::pair<std::string, std::string>> ConsumerSettings(const KafkaOptions& options) {
  std::vector<std::pair<std::string, std::string>> settings = {
      {"bootstrap.servers", options.brokers},
      {"group.id", options.group},
      {"client.id", "quiverd"},
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "true"},
      {"auto.offset.reset", "earliest"},
      // librdkafka stops fetching a partition while the consumer queue holds
      // queued.min.messages (100,000 by default) and waits a second (fixed
      // before 2.2, fetch.queue.backoff.ms since) before fetching it again:
      // a consumer faster than that drained the queue in half a second and
      // starved for the other half. The queue stays bounded by
      // queued.max.messages.kbytes (64 MiB).
      {"queued.min.messages", "1000000"}};
  settings.insert(settings.end(), options.config.begin(), options.config.end());
  return settings;
}

Status KafkaIngest::Impl::Create() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  const auto settings = ConsumerSettings(options);
  for (const auto& [key, value] : settings) {
    if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return Status::InvalidArgument("kafka setting " + key + "=" + value + ": " + err);
    }
  }
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_rebalance_cb(conf, &Impl::Rebalance);
  rd_kafka_conf_set_log_cb(conf, &LogFromKafka);
  consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);  // takes conf
  if (consumer == nullptr) return Status::InvalidArgument(std::string("kafka consumer: ") + err);
  rd_kafka_poll_set_consumer(consumer);
  return Status::Ok();
}

KafkaIngest::Impl::~Impl() {
  if (consumer != nullptr) rd_kafka_destroy(consumer);
  if (producer != nullptr) {
    rd_kafka_flush(producer, 5000);
    rd_kafka_destroy(producer);
  }
  ChargeDeadLetters(-dead_letter_bytes.load());  // those never delivered
}

bool KafkaIngest::Impl::CreateProducer() {
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char err[512];
  rd_kafka_conf_set(conf, "bootstrap.servers", options.brokers.c_str(), err, sizeof err);
  // While the topic cannot be reached, at most 64 MiB of dead letters wait
  // (librdkafka's default is a GiB); past it, they are dropped and logged.
  rd_kafka_conf_set(conf, "queue.buffering.max.kbytes", "65536", err, sizeof err);
  rd_kafka_conf_set_log_cb(conf, &LogFromKafka);
  rd_kafka_conf_set_opaque(conf, this);
  rd_kafka_conf_set_dr_msg_cb(conf, &Impl::DeadLetterDone);
  producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  if (producer == nullptr) spdlog::error("kafka: dead-letter producer: {}", err);
  return producer != nullptr;
}

void KafkaIngest::Impl::DeadLetterDone(rd_kafka_t*, const rd_kafka_message_t* m, void* opaque) {
  static_cast<Impl*>(opaque)->ChargeDeadLetters(
      -static_cast<int64_t>(reinterpret_cast<intptr_t>(m->_private)));
}

void KafkaIngest::Impl::RefreshSources() {
  {
    rcu::ReadLock lock;
    const Catalog& catalog = store.registry().current();
    if (catalog.generation() == generation) return;
    generation = catalog.generation();
    for (const Source& s : catalog.sources())
      mappers.try_emplace(s.name, s.name, &store);
  }
  std::set<std::string> topics;
  topic_source.clear();
  for (auto& [name, mapper] : mappers) {
    mapper.Refresh(store.registry());
    if (mapper.topic().empty()) continue;
    topics.insert(mapper.topic());
    topic_source[mapper.topic()] = name;
  }
  Follow(topics);
}

void KafkaIngest::Impl::Follow(const std::set<std::string>& topics) {
  if (topics == subscribed) return;
  subscribed = topics;
  if (options.assign_all) return AssignEveryPartition(true);
  if (topics.empty()) {
    rd_kafka_unsubscribe(consumer);
    return;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(topics.size());
  for (const std::string& t : topics)
    rd_kafka_topic_partition_list_add(list, t.c_str(), RD_KAFKA_PARTITION_UA);
  if (rd_kafka_resp_err_t e = rd_kafka_subscribe(consumer, list)) {
    spdlog::error("kafka: subscribing failed: {}", rd_kafka_err2str(e));
  } else {
    spdlog::info("kafka: subscribed to {} topic(s) as group {}", topics.size(), options.group);
  }
  rd_kafka_topic_partition_list_destroy(list);
}

void KafkaIngest::Impl::Malformed(const rd_kafka_message_t* m, const MappedEvent& event,
                                  const std::string& dead_letter_topic) {
  const auto kind = static_cast<size_t>(event.error);
  const char* topic = rd_kafka_topic_name(m->rkt);
  {
    std::lock_guard<std::mutex> lock(mu);
    ++malformed[kind];
  }
  if (!logged[kind]) {
    logged[kind] = true;
    spdlog::warn(
        "kafka: skipping a malformed event ({}) at {}/{} offset {}: {} (logged once per "
        "kind; see quiver status)",
        EventErrorName(event.error), topic, m->partition, m->offset, event.message);
  }
  if (dead_letter_topic.empty()) return;
  if (producer == nullptr && !CreateProducer()) return;
  const std::string origin =
      std::string(topic) + "/" + std::to_string(m->partition) + "/" + std::to_string(m->offset);
  const std::string_view error = EventErrorName(event.error);
  // About what librdkafka copies: the event, its key and the headers.
  const auto bytes = static_cast<intptr_t>(m->len + m->key_len + error.size() +
                                           event.message.size() + origin.size() + 256);
  const rd_kafka_resp_err_t e = rd_kafka_producev(
      producer, RD_KAFKA_V_TOPIC(dead_letter_topic.c_str()), RD_KAFKA_V_VALUE(m->payload, m->len),
      RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
      RD_KAFKA_V_HEADER("quiver-error", error.data(), static_cast<ssize_t>(error.size())),
      RD_KAFKA_V_HEADER("quiver-message", event.message.data(),
                        static_cast<ssize_t>(event.message.size())),
      RD_KAFKA_V_HEADER("quiver-origin", origin.data(), static_cast<ssize_t>(origin.size())),
      RD_KAFKA_V_OPAQUE(reinterpret_cast<void*>(bytes)), RD_KAFKA_V_END);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: dead-lettering {} failed: {}", origin, rd_kafka_err2str(e));
    return;
  }
  ChargeDeadLetters(bytes);
  rd_kafka_poll(producer, 0);
  std::lock_guard<std::mutex> lock(mu);
  ++dead_lettered;
}

void KafkaIngest::Impl::Handle(const rd_kafka_message_t* m) {
  if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = partitions.find({rd_kafka_topic_name(m->rkt), m->partition});
    if (it != partitions.end()) it->second.idle = true;
    return;
  }
  if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    spdlog::warn("kafka: {}", rd_kafka_message_errstr(m));
    return;
  }
  const std::string topic = rd_kafka_topic_name(m->rkt);
  auto source = topic_source.find(topic);
  int64_t event_time = INT64_MIN;
  if (source != topic_source.end()) {
    EventMapper& mapper = mappers.at(source->second);
    mapper.Map({static_cast<const char*>(m->payload), m->len}, &mapped);
    if (mapped.error != EventError::kNone) Malformed(m, mapped, mapper.dead_letter_topic());
    const int64_t received = NowUs();
    for (SourceEvent& e : mapped.events) {
      event_time = e.event_time_ms;
      pending_times.emplace_back(e.event_time_ms, received);
      pending.push_back(std::move(e));
    }
  }
  std::lock_guard<std::mutex> lock(mu);
  ++messages;
  PartitionState& p = partitions[{topic, m->partition}];
  p.consumed = m->offset + 1;
  p.dirty = true;
  p.idle = false;
  p.max_event_time_ms = std::max(p.max_event_time_ms, event_time);
}

int64_t KafkaIngest::Impl::Watermark() {
  // Windows advance with the stream: the slowest partition still
  // delivering holds them back, so a replay of old events does not age
  // every window to the present first. Partitions at their end follow the
  // wall clock.
  int64_t w = NowUs() / 1000;
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [key, p] : partitions) {
    // librdkafka does not always report the end of a partition; its cached
    // end offset tells as well. If that is stale, windows run ahead of a
    // few late events, which then rewrite the versions after them.
    rd_kafka_get_watermark_offsets(consumer, key.first.c_str(), key.second, &p.low, &p.high);
    if (p.idle || p.max_event_time_ms == INT64_MIN) continue;
    if (p.high >= 0 && p.consumed >= p.high) continue;
    w = std::min(w, p.max_event_time_ms);
  }
  return w;
}

void KafkaIngest::Impl::PauseAll(bool pause) {
  rd_kafka_topic_partition_list_t* parts = nullptr;
  if (rd_kafka_assignment(consumer, &parts) != RD_KAFKA_RESP_ERR_NO_ERROR) return;
  if (pause) {
    rd_kafka_pause_partitions(consumer, parts);
  } else {
    rd_kafka_resume_partitions(consumer, parts);
  }
  rd_kafka_topic_partition_list_destroy(parts);
}

bool KafkaIngest::Impl::WaitUntilWritable() {
  Status refused = store.IngestRefusal();
  if (refused.ok()) return true;
  spdlog::warn("kafka: ingestion paused: {}", refused.KindAndMessage());
  {
    std::lock_guard<std::mutex> lock(mu);
    ++pauses;
    paused = refused.KindAndMessage();
  }
  PauseAll(true);
  while (!stop && !(refused = store.IngestRefusal()).ok()) {
    // Serves rebalances and keeps the group membership; a paused
    // partition delivers nothing, a newly assigned one joins the batch.
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, 100);
    if (m != nullptr) {
      Handle(m);
      rd_kafka_message_destroy(m);
    }
  }
  PauseAll(false);
  std::lock_guard<std::mutex> lock(mu);
  paused.clear();
  if (!stop) spdlog::info("kafka: ingestion resumed");
  return !stop;
}

void KafkaIngest::Impl::Flush() {
  if (!WaitUntilWritable()) return;
  HistoryBatch batch;
  batch.Reserve(last_batch_bytes + last_batch_bytes / 8);
  IngestCounts c;
  Status s = ingestor.Apply(pending, &batch, &c);
  const int64_t visible = NowUs();
  for (const auto& [event_ms, received_us] : pending_times) {
    event_to_visible.Record(std::max<int64_t>(0, visible - event_ms * 1000));
    consume_to_visible.Record(std::max<int64_t>(0, visible - received_us));
  }
  const bool had_events = !pending.empty();
  pending.clear();
  pending_times.clear();
  const int64_t watermark = Watermark();
  if (s.ok()) s = ingestor.Advance(watermark, &batch, &c);
  if (!s.ok()) {
    // The batch is not committed: its offsets stay behind, and a restart
    // consumes the events again.
    spdlog::error("kafka: ingestion stopped: {}", s.ToString());
    stop = true;
    return;
  }
  std::vector<std::pair<PartitionKey, int64_t>> offsets = StoreOffsets(&batch);
  {
    std::lock_guard<std::mutex> lock(mu);
    counts.events += c.events;
    counts.too_late += c.too_late;
    counts.versions += c.versions;
    batches += had_events ? 1 : 0;
  }
  // What status() reports as applied is what is durable.
  auto durable = [this, offsets = std::move(offsets), watermark](const Status& st) {
    if (!st.ok()) return;
    std::lock_guard<std::mutex> lock(mu);
    for (const auto& [key, offset] : offsets) {
      auto it = partitions.find(key);
      if (it != partitions.end()) it->second.next_offset = offset;
    }
    windows_through_ms = watermark;
  };
  last_batch_bytes = batch.bytes();
  if (!store.Commit(std::move(batch), durable)) durable(Status::Ok());
  CommitToGroup(false);
  if (producer != nullptr) rd_kafka_poll(producer, 0);
}

std::vector<std::pair<PartitionKey, int64_t>> KafkaIngest::Impl::StoreOffsets(HistoryBatch* batch) {
  std::vector<std::pair<PartitionKey, int64_t>> offsets;
  std::lock_guard<std::mutex> lock(mu);
  for (auto& [key, p] : partitions) {
    if (!p.dirty) continue;
    p.dirty = false;
    stored_offsets.Save(batch, key.first, key.second, p.consumed);
    offsets.emplace_back(key, p.consumed);
    to_commit[key] = p.consumed;
  }
  return offsets;
}

void KafkaIngest::Impl::CommitToGroup(bool now) {
  // The group's offsets in Kafka are for lag tools only (quiver resumes
  // from the offsets stored with its data), so they are committed at most
  // once a second: a commit per batch would be a broker request per batch.
  const auto t = std::chrono::steady_clock::now();
  if (to_commit.empty() || (!now && t - last_group_commit < std::chrono::seconds(1))) return;
  last_group_commit = t;
  rd_kafka_topic_partition_list_t* list =
      rd_kafka_topic_partition_list_new(static_cast<int>(to_commit.size()));
  for (const auto& [key, offset] : to_commit)
    rd_kafka_topic_partition_list_add(list, key.first.c_str(), key.second)->offset = offset;
  to_commit.clear();
  rd_kafka_commit(consumer, list, 1);
  rd_kafka_topic_partition_list_destroy(list);
}

void KafkaIngest::Impl::Assign(rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  for (int i = 0; i < parts->cnt; ++i) {
    rd_kafka_topic_partition_t& p = parts->elems[i];
    Result<std::optional<int64_t>> stored = stored_offsets.Load(p.topic, p.partition);
    if (!stored.ok()) spdlog::error("kafka: {}", stored.status().ToString());
    const bool have = stored.ok() && stored->has_value();
    p.offset = have ? **stored : RD_KAFKA_OFFSET_BEGINNING;
    std::lock_guard<std::mutex> lock(mu);
    PartitionState& state = partitions[{p.topic, p.partition}];
    state = PartitionState{};
    state.next_offset = state.consumed = have ? p.offset : -1;
  }
  spdlog::info("kafka: assigned {} partition(s)", parts->cnt);
  rd_kafka_error_t* error = nullptr;
  if (cooperative) {
    error = rd_kafka_incremental_assign(consumer, parts);
  } else if (rd_kafka_resp_err_t e = rd_kafka_assign(consumer, parts)) {
    spdlog::error("kafka: assign failed: {}", rd_kafka_err2str(e));
  }
  if (error != nullptr) {
    spdlog::error("kafka: assign failed: {}", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
  }
}

void KafkaIngest::Impl::AssignEveryPartition(bool now) {
  const auto t = std::chrono::steady_clock::now();
  if (!now && t < next_partition_check) return;
  next_partition_check = t + std::chrono::seconds(5);
  std::set<PartitionKey> wanted;
  if (!subscribed.empty()) {
    Result<std::set<PartitionKey>> listed = ListPartitions(consumer, subscribed, 5000);
    if (!listed.ok()) {
      spdlog::warn("{}; the source partitions are listed again in 5 s", listed.status().message());
      return;
    }
    wanted = *std::move(listed);
  }
  auto list_of = [](const std::set<PartitionKey>& from, const std::set<PartitionKey>& without) {
    auto* list = rd_kafka_topic_partition_list_new(static_cast<int>(from.size()));
    for (const auto& [topic, partition] : from)
      if (!without.contains({topic, partition}))
        rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
    return list;
  };
  rd_kafka_topic_partition_list_t* gone = list_of(assigned, wanted);
  rd_kafka_topic_partition_list_t* added = list_of(wanted, assigned);
  if (gone->cnt > 0) Revoke(gone, true);
  if (added->cnt > 0) Assign(added, true);
  rd_kafka_topic_partition_list_destroy(gone);
  rd_kafka_topic_partition_list_destroy(added);
  assigned = std::move(wanted);
}

void KafkaIngest::Impl::Revoke(rd_kafka_topic_partition_list_t* parts, bool cooperative) {
  // What was consumed from these partitions is applied and durable before
  // another member may take them.
  Flush();
  CommitToGroup(true);
  if (store.history() != nullptr) store.history()->Drain();
  {
    std::lock_guard<std::mutex> lock(mu);
    for (int i = 0; i < parts->cnt; ++i)
      partitions.erase({parts->elems[i].topic, parts->elems[i].partition});
  }
  spdlog::info("kafka: revoked {} partition(s)", parts->cnt);
  if (cooperative) {
    if (rd_kafka_error_t* error = rd_kafka_incremental_unassign(consumer, parts)) {
      rd_kafka_error_destroy(error);
    }
  } else {
    rd_kafka_assign(consumer, nullptr);
  }
}

void KafkaIngest::Impl::Rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                                  rd_kafka_topic_partition_list_t* parts, void* opaque) {
  auto* self = static_cast<Impl*>(opaque);
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    self->Assign(parts, cooperative);
  } else if (err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
    self->Revoke(parts, cooperative);
  } else {
    spdlog::error("kafka: rebalance failed: {}", rd_kafka_err2str(err));
    self->Revoke(parts, cooperative);
  }
}

void KafkaIngest::Impl::FillBatch() {
  using Clock = std::chrono::steady_clock;
  using std::chrono::milliseconds;
  // Idle, the loop still comes round every few ms: to see new sources and
  // stop, and to age the windows with the clock (Flush).
  const auto idle_until = Clock::now() + milliseconds(std::min(options.max_batch_ms, 100));
  Clock::time_point batch_until;
  while (!stop && pending.size() < options.max_batch_events) {
    const bool idle = pending.empty();
    const auto now = Clock::now();
    const auto until = idle ? idle_until : batch_until;
    if (now >= until) return;
    // With events pending, take only what librdkafka has already fetched:
    // the batch is applied as soon as the consumer catches up with the
    // broker instead of waiting for more.
    const auto wait = idle ? std::chrono::ceil<milliseconds>(until - now) : milliseconds(0);
    rd_kafka_message_t* m = rd_kafka_consumer_poll(consumer, static_cast<int>(wait.count()));
    if (m == nullptr) {
      if (idle) continue;
      return;
    }
    Handle(m);
    rd_kafka_message_destroy(m);
    if (idle) batch_until = now + milliseconds(options.max_batch_ms);
  }
}

void KafkaIngest::Impl::Run() {
  rcu::ThreadRegistration registration;
  running = true;
  while (!stop) {
    RefreshSources();
    if (options.assign_all) AssignEveryPartition(false);
    FillBatch();
    Flush();
  }
  Flush();
  CommitToGroup(true);
  rd_kafka_consumer_close(consumer);  // revokes (and flushes) through the callback
  if (store.history() != nullptr) store.history()->Drain();
  running = false;
}

KafkaIngest::KafkaIngest(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<KafkaIngest>> KafkaIngest::Start(FeatureStore& store, Ingestor& ingestor,
                                                        KafkaOptions options) {
  auto impl = std::make_unique<Impl>(store, ingestor, std::move(options));
  QUIVER_RETURN_IF_ERROR(impl->Create());
  Impl* raw = impl.get();
  raw->thread = std::thread([raw] {
    NameThisThread("kafka-ingest");
    raw->Run();
  });
  return std::unique_ptr<KafkaIngest>(new KafkaIngest(std::move(impl)));
}

KafkaIngest::~KafkaIngest() {
  impl_->stop = true;
  if (impl_->thread.joinable()) impl_->thread.join();
}

IngestStatus KafkaIngest::status() const {
  const Impl& i = *impl_;
  IngestStatus s;
  s.running = i.running;
  s.brokers = i.options.brokers;
  s.group = i.options.group;
  s.event_to_visible_us = i.event_to_visible.Summarize();
  s.event_to_visible_counts = i.event_to_visible.Counts();
  s.consume_to_visible_us = i.consume_to_visible.Summarize();
  std::lock_guard<std::mutex> lock(i.mu);
  s.messages = i.messages;
  s.events = i.counts.events;
  s.versions = i.counts.versions;
  s.too_late = i.counts.too_late;
  s.batches = i.batches;
  s.dead_lettered = i.dead_lettered;
  s.pauses = i.pauses;
  s.paused = i.paused;
  s.malformed = i.malformed;
  s.windows_through_ms = i.windows_through_ms;
  for (const auto& [key, p] : i.partitions) {
    PartitionStatus ps{key.first, key.second, p.next_offset, -1, -1, p.max_event_time_ms};
    if (p.high >= 0) {
      ps.high_watermark = p.high;
      ps.lag = p.next_offset >= 0 ? std::max<int64_t>(0, p.high - p.next_offset) : p.high - p.low;
    }
    if (ps.max_event_time_ms == INT64_MIN) ps.max_event_time_ms = 0;
    s.partitions.push_back(std::move(ps));
  }
  return s;
}

}  // namespace quiver
