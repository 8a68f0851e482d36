// NativeHandler's answers to Backfill, GetStatus and GetMonitoring.
#include <filesystem>

#include "server/native/codec.h"
#include "server/native/handler.h"
#include "service/backfill.h"
#include "service/drift_report.h"
#include "service/event_mapper.h"
#include "service/feature_report.h"
#include "service/freshness.h"
#include "service/ingest_status.h"
#include "storage/streaming/ingestor.h"
#include "util/rcu.h"

namespace quiver {

namespace {

using Builder = flatbuffers::FlatBufferBuilder;

flatbuffers::Offset<fb::LatencySummary> EncodeLatency(Builder& b, const Histogram::Summary& s) {
  return fb::CreateLatencySummary(b, s.count, s.p50, s.p90, s.p99, s.p999, s.max);
}

flatbuffers::Offset<fb::IngestInfo> EncodeIngest(Builder& b, const IngestStatus& s) {
  std::vector<flatbuffers::Offset<fb::MalformedCount>> malformed;
  for (size_t k = 1; k < kEventErrorKinds; ++k) {
    malformed.push_back(fb::CreateMalformedCount(
        b, b.CreateString(EventErrorName(static_cast<EventError>(k))), s.malformed[k]));
  }
  std::vector<flatbuffers::Offset<fb::PartitionInfo>> partitions;
  for (const PartitionStatus& p : s.partitions) {
    partitions.push_back(fb::CreatePartitionInfo(b, b.CreateString(p.topic), p.partition,
                                                 p.next_offset, p.high_watermark, p.lag,
                                                 p.max_event_time_ms));
  }
  auto brokers = b.CreateString(s.brokers);
  auto group = b.CreateString(s.group);
  auto malformed_v = b.CreateVector(malformed);
  auto event = EncodeLatency(b, s.event_to_visible_us);
  auto consume = EncodeLatency(b, s.consume_to_visible_us);
  auto partitions_v = b.CreateVector(partitions);
  auto paused = b.CreateString(s.paused);
  return fb::CreateIngestInfo(b, s.running, brokers, group, s.messages, s.events, s.versions,
                              s.too_late, s.batches, s.dead_lettered, malformed_v, event, consume,
                              partitions_v, s.windows_through_ms, paused, s.pauses);
}

}  // namespace

Status NativeHandler::HandleBackfill(const fb::Backfill& req, Builder& b, uint64_t id) {
  if (options_.ingestor == nullptr)
    return Status::FailedPrecondition("this server cannot backfill");
  std::vector<std::string_view> events;
  if (req.events() != nullptr) {
    events.reserve(req.events()->size());
    for (const flatbuffers::String* e : *req.events())
      events.push_back(e->string_view());
  }
  std::optional<int64_t> until;
  if (req.finish()) until = req.until_ms() != 0 ? req.until_ms() : store_.NowMs();
  QUIVER_ASSIGN_OR_RETURN(
      BackfillCounts c,
      Backfill(store_, *options_.ingestor, StringOf(req.view()), events, until, &writes_));
  FinishOk(b, id,
           fb::CreateBackfillReply(b, c.events, c.malformed, c.too_late, c.versions,
                                   b.CreateString(c.first_error), c.first_error_index));
  return Status::Ok();
}

namespace {

flatbuffers::Offset<fb::ClusterInfo> EncodeCluster(flatbuffers::FlatBufferBuilder& b,
                                                   const cluster::ChangelogStatus& c) {
  std::vector<flatbuffers::Offset<fb::ClusterPartition>> parts;
  for (const cluster::PartitionStatus& p : c.partitions) {
    parts.push_back(fb::CreateClusterPartition(b, p.partition, p.applied, p.log_end, p.lag(),
                                               b.CreateString(p.waiting),
                                               b.CreateString(p.stopped)));
  }
  return fb::CreateClusterInfo(b, b.CreateString(c.topic), b.CreateString(c.replica_id),
                               c.caught_up, c.proposed, c.applied, c.refused, c.corrupt,
                               b.CreateVector(parts));
}

}  // namespace

Status NativeHandler::HandleStatus(Builder& b, uint64_t id) {
  flatbuffers::Offset<fb::IngestInfo> kafka;
  if (options_.kafka != nullptr) kafka = EncodeIngest(b, options_.kafka->status());
  flatbuffers::Offset<fb::CompactionInfo> compaction;
  if (const HistoryStore* history = store_.history(); history != nullptr) {
    const HistoryStore::CompactionState c = history->compaction();
    compaction = fb::CreateCompactionInfo(b, c.running, c.started_ms, c.finished, c.last_seconds,
                                          b.CreateString(c.last_error));
  }
  auto version = b.CreateString(options_.server_version);
  auto durability = b.CreateString(options_.durability);
  const OnlineTable& table = store_.table();
  const MemoryBudget& budget = table.budget();
  std::vector<flatbuffers::Offset<fb::MemoryUse>> parts;
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const auto part = static_cast<MemoryPart>(i);
    parts.push_back(
        fb::CreateMemoryUse(b, b.CreateString(MemoryPartName(part)), budget.bytes(part)));
  }
  auto memory = b.CreateVector(parts);
  const Ingestor* ingestor = options_.ingestor;
  flatbuffers::Offset<fb::ClusterInfo> cluster;
  if (options_.changelog != nullptr) cluster = EncodeCluster(b, options_.changelog->status());
  FinishOk(b, id,
           fb::CreateStatusReply(b, version, durability, store_.NowMs(), table.size(),
                                 table.memory_bytes(), ingestor ? ingestor->entities() : 0, kafka,
                                 compaction, ingestor ? ingestor->memory_bytes() : 0, memory,
                                 budget.limit(), cluster));
  return Status::Ok();
}

Status NativeHandler::HandleCompact(Builder& b, uint64_t id) {
  HistoryStore* history = store_.history();
  if (history == nullptr) {
    return Status::FailedPrecondition(
        "this server keeps no history to compact (started with --durability memory)");
  }
  QUIVER_ASSIGN_OR_RETURN(uint64_t finished, history->StartCompaction());
  FinishOk(b, id, fb::CreateCompactReply(b, finished));
  return Status::Ok();
}

Status NativeHandler::HandleCheckpoint(const fb::Checkpoint& request, Builder& b, uint64_t id) {
  HistoryStore* history = store_.history();
  if (history == nullptr) {
    return Status::FailedPrecondition(
        "this server keeps no data directory to checkpoint (started with --durability memory)");
  }
  std::error_code ec;
  const std::filesystem::path dir = std::filesystem::absolute(StringOf(request.dir()), ec);
  if (ec || StringOf(request.dir()).empty()) {
    return Status::InvalidArgument("a checkpoint needs a directory that does not exist yet");
  }
  QUIVER_RETURN_IF_ERROR(history->Checkpoint(dir.string()));
  FinishOk(b, id, fb::CreateCheckpointReply(b, b.CreateString(dir.string())));
  return Status::Ok();
}

Status NativeHandler::HandleMonitoring(const fb::GetMonitoring& request, Builder& b, uint64_t id) {
  auto text = [](const flatbuffers::String* s, std::string_view fallback) {
    return StringOf(s).empty() ? fallback : StringOf(s);
  };
  const std::string_view view = StringOf(request.view());
  auto document = [&]() -> Result<std::string> {
    switch (request.kind()) {
      case fb::MonitoringKind::Stats:
        return ViewStatsDocument(store_, view);
      case fb::MonitoringKind::Freshness:
        return FreshnessJson(
            options_.freshness != nullptr ? options_.freshness->Get() : MeasureFreshness(store_),
            store_.NowMs());
      case fb::MonitoringKind::Drift:
        return DriftDocument(store_, view, text(request.window(), "recent"));
      case fb::MonitoringKind::CaptureBaseline:
        return CaptureBaselineDocument(store_, view, text(request.window(), "since_start"));
      case fb::MonitoringKind::ClearBaseline:
        return ClearBaselineDocument(store_, view);
    }
    return Status::InvalidArgument("unknown monitoring kind " +
                                   std::to_string(static_cast<int>(request.kind())));
  };
  QUIVER_ASSIGN_OR_RETURN(std::string json, document());
  FinishOk(b, id, fb::CreateMonitoringReply(b, b.CreateString(json)));
  return Status::Ok();
}

}  // namespace quiver
