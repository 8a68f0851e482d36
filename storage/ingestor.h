// Ingestor: turns source events into versions of the views computed from
// them (storage/windows.h) and writes those through FeatureStore, the same
// path as client writes. Live ingestion (Kafka) and backfills both go
// through it, so online, streamed and backfilled values cannot disagree.
//
// It keeps the window state of every entity it has seen in memory and in
// the history's `state` column family, in the same atomic batch as the
// versions it produced (and, from Kafka, the offsets of the events): after
// a crash, state, history and offsets agree.
//
// Threads: every method may be called from any thread registered with
// rcu::ThreadRegistration; calls are serialised internally.
#pragma once

#include <cstdint>
#include <mutex>
#include <queue>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "quiver/status.h"
#include "storage/feature_store.h"
#include "storage/windows.h"

namespace quiver {

// One event as the views of its source see it (server/event_mapper.h).
struct SourceEvent {
  uint32_t view_id = 0;
  std::string key;  // encoded entity key
  int64_t event_time_ms = 0;
  std::vector<Value> values;  // per field of the view, typed as the field
};

struct IngestCounts {
  uint64_t events = 0;    // applied
  uint64_t too_late = 0;  // older than every window they could join
  uint64_t versions = 0;  // rows written
};

class Ingestor {
 public:
  explicit Ingestor(FeatureStore& store);

  // Loads the window states kept in the history. Call once, after
  // FeatureStore::Recover.
  Status Recover();

  // Applies the events in order and adds what they write (history, latest,
  // state) to *batch. Events of views that no longer exist are skipped.
  Status Apply(std::span<const SourceEvent> events, HistoryBatch* batch, IngestCounts* counts);

  // Emits the window changes due up to `until` (event time) for every
  // entity, e.g. when a window's oldest tile leaves it with no new event.
  Status Advance(int64_t until, HistoryBatch* batch, IngestCounts* counts);

  // Entities with a window state.
  size_t entities() const;

 private:
  struct Entry {
    EntityState state;
    int64_t scheduled = INT64_MAX;  // when Advance next looks at it
    bool dirty = false;             // its state is to be saved with the batch
  };
  using Due = std::pair<int64_t, std::string>;  // (time, state key)

  // Writes the versions of one entity and its new state.
  Status Write(const WindowedView& w, std::string_view key, const std::string& state_key,
               Entry& entry, std::vector<ComputedVersion>& versions, HistoryBatch* batch,
               IngestCounts* counts);

  // Adds the state of every entity changed by this call to the batch, once.
  void SaveDirty(const Catalog& catalog, HistoryBatch* batch);

  FeatureStore& store_;
  mutable std::mutex mu_;
  std::unordered_map<std::string, Entry> states_;  // by view id | entity key
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  // Changed since the last SaveDirty: keys and entries of states_ (stable:
  // a node-based map).
  std::vector<std::pair<const std::string*, Entry*>> dirty_;
  std::vector<ComputedRow> rows_;  // scratch
  std::string key_scratch_;        // scratch: the state key being looked up
};

}  // namespace quiver
