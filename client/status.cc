// Decoding of the Backfill, GetStatus, Compact and GetMonitoring answers.
#include "client/wire.h"

namespace quiver::client_internal {

namespace {

std::string Str(const flatbuffers::String* s) {
  return s ? s->str() : std::string();
}

LatencySummary DecodeLatency(const fb::LatencySummary* l) {
  if (l == nullptr) return {};
  return {l->count(), l->p50_us(), l->p90_us(), l->p99_us(), l->p999_us(), l->max_us()};
}

KafkaStatus DecodeKafka(const fb::IngestInfo& k) {
  KafkaStatus s;
  s.running = k.running();
  s.brokers = Str(k.brokers());
  s.group = Str(k.group());
  s.messages = k.messages();
  s.events = k.events();
  s.versions = k.versions();
  s.too_late = k.too_late();
  s.batches = k.batches();
  s.dead_lettered = k.dead_lettered();
  if (k.malformed() != nullptr) {
    for (const fb::MalformedCount* m : *k.malformed())
      s.malformed.emplace_back(Str(m->kind()), m->count());
  }
  s.event_to_visible = DecodeLatency(k.event_to_visible());
  s.consume_to_visible = DecodeLatency(k.consume_to_visible());
  if (k.partitions() != nullptr) {
    for (const fb::PartitionInfo* p : *k.partitions()) {
      s.partitions.push_back({Str(p->topic()), p->partition(), p->next_offset(),
                              p->high_watermark(), p->lag(), p->max_event_time_ms()});
    }
  }
  s.windows_through_ms = k.windows_through_ms();
  s.paused = Str(k.paused());
  s.pauses = k.pauses();
  return s;
}

ClusterStatus DecodeCluster(const fb::ClusterInfo& c) {
  ClusterStatus s{Str(c.topic()), Str(c.replica_id()), c.caught_up(),    c.proposed(),
                  c.applied(),    c.refused(),         c.unapplicable(), {}};
  if (c.partitions() != nullptr) {
    for (const auto* p : *c.partitions()) {
      s.partitions.push_back({p->partition(), p->applied(), p->log_end(), p->lag(),
                              Str(p->waiting()), Str(p->stopped())});
    }
  }
  return s;
}

}  // namespace

Result<BackfillResult> DecodeBackfill(const Frame& frame) {
  const auto* r = ResponseOf(frame)->body_as_BackfillReply();
  if (r == nullptr) return Status::ProtocolError("Backfill answered without a BackfillReply");
  return BackfillResult{r->events(),   r->malformed(),        r->too_late(),
                        r->versions(), Str(r->first_error()), r->first_error_index()};
}

Result<ServerStatus> DecodeStatus(const Frame& frame) {
  const auto* r = ResponseOf(frame)->body_as_StatusReply();
  if (r == nullptr) return Status::ProtocolError("GetStatus answered without a StatusReply");
  ServerStatus s;
  s.server_version = Str(r->server_version());
  s.durability = Str(r->durability());
  s.server_time_ms = r->server_time_ms();
  s.rows = r->rows();
  s.memory_bytes = r->memory_bytes();
  s.window_entities = r->window_entities();
  s.window_bytes = r->window_bytes();
  if (const auto* parts = r->memory(); parts != nullptr) {
    for (const auto* p : *parts)
      s.memory.emplace_back(Str(p->part()), p->bytes());
  }
  s.max_memory = r->max_memory();
  if (r->kafka() != nullptr) s.kafka = DecodeKafka(*r->kafka());
  if (r->cluster() != nullptr) s.cluster = DecodeCluster(*r->cluster());
  if (const auto* c = r->compaction(); c != nullptr) {
    s.compaction = CompactionStatus{c->running(), c->started_ms(), c->finished(), c->last_seconds(),
                                    Str(c->last_error())};
  }
  return s;
}

Result<uint64_t> DecodeCompact(const Frame& frame) {
  const auto* r = ResponseOf(frame)->body_as_CompactReply();
  if (r == nullptr) return Status::ProtocolError("Compact answered without a CompactReply");
  return r->finished();
}

Result<std::string> DecodeMonitoring(const Frame& frame) {
  const auto* r = ResponseOf(frame)->body_as_MonitoringReply();
  if (r == nullptr)
    return Status::ProtocolError("GetMonitoring answered without a MonitoringReply");
  return Str(r->json());
}

}  // namespace quiver::client_internal
