#include "service/backfill.h"

#include <vector>

#include "service/event_mapper.h"
#include "util/rcu.h"

namespace quiver {

namespace {

struct ViewSource {
  uint32_t view_id = 0;
  std::string source;
};

Result<ViewSource> SourceOf(FeatureStore& store, std::string_view view) {
  rcu::ReadLock lock;
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, store.registry().current().ResolveName(view));
  if (schema->source.empty()) {
    return Status::FailedPrecondition("view " + schema->QualifiedName() +
                                      " has no source to backfill from");
  }
  return ViewSource{schema->id, schema->source};
}

}  // namespace

Result<BackfillCounts> Backfill(FeatureStore& store, Ingestor& ingestor, std::string_view view,
                                std::span<const std::string_view> events,
                                std::optional<int64_t> finish_until_ms, HistoryBatch* writes) {
  QUIVER_ASSIGN_OR_RETURN(ViewSource target, SourceOf(store, view));
  // Checked once per request: a request is applied whole (OnlineTable::Limit).
  QUIVER_RETURN_IF_ERROR(store.IngestRefusal());
  EventMapper mapper(target.source, &store);
  mapper.Refresh(store.registry());
  std::vector<SourceEvent> ours;
  MappedEvent mapped;
  BackfillCounts counts;
  for (size_t i = 0; i < events.size(); ++i) {
    mapper.Map(events[i], &mapped);
    const size_t before = ours.size();
    for (SourceEvent& e : mapped.events) {
      if (e.view_id == target.view_id) ours.push_back(std::move(e));
    }
    if (ours.size() > before) continue;
    ++counts.malformed;
    if (counts.first_error_index < 0) {
      counts.first_error_index = static_cast<int64_t>(i);
      counts.first_error = mapped.message;
    }
  }
  IngestCounts applied;
  QUIVER_RETURN_IF_ERROR(ingestor.Apply(ours, writes, &applied));
  if (finish_until_ms) QUIVER_RETURN_IF_ERROR(ingestor.Advance(*finish_until_ms, writes, &applied));
  counts.events = applied.events;
  counts.too_late = applied.too_late;
  counts.versions = applied.versions;
  return counts;
}

}  // namespace quiver
