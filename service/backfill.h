// Backfill: past JSON events of one view's source fed through the same
// mapping (EventMapper) and the same Ingestor as Kafka ingestion, so that
// a backfilled value is the value streaming would have computed. The
// native Backfill request calls it; `quiver backfill` sends such requests.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "storage/features/feature_store.h"
#include "storage/streaming/ingestor.h"

namespace quiver {

struct BackfillCounts {
  uint64_t events = 0;      // applied to the view
  uint64_t malformed = 0;   // refused, or not for this view
  uint64_t too_late = 0;    // older than every window they could join
  uint64_t versions = 0;    // rows written
  std::string first_error;  // the first refusal's message
  int64_t first_error_index = -1;
};

// Maps and applies `events` to `view` (which must have a source); with
// finish_until_ms, then advances its windows to that time. The writes to
// make durable are appended to *writes. Fails without applying anything if
// the view is unknown or has no source, or if writes are refused (a disk
// fault, the online table at its memory limit: FeatureStore::IngestRefusal).
// REQUIRES: an rcu::ThreadRegistration on this thread, no rcu::ReadLock held.
Result<BackfillCounts> Backfill(FeatureStore& store, Ingestor& ingestor, std::string_view view,
                                std::span<const std::string_view> events,
                                std::optional<int64_t> finish_until_ms, HistoryBatch* writes);

}  // namespace quiver
