// Ingestor: turns source events into versions of the views computed from
// them (storage/streaming/windows.h) and writes those through FeatureStore, the same
// path as client writes. Live ingestion (Kafka) and backfills both go
// through it, so online, streamed and backfilled values cannot disagree.
//
// It keeps the window state of every entity it has seen in memory and in
// the history's `state` column family (its own, kStateColumn), in the same
// atomic batch as the versions it produced (and, from Kafka, the offsets
// of the events): after a crash, state, history and offsets agree. A state
// key is the view and entity as in the history's latest column
// (history_key.h); its value, the encoded EntityState (windows.h).
//
// Threads: every method may be called from any thread registered with
// rcu::ThreadRegistration; calls are serialised internally.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <optional>
#include <queue>
#include <span>
#include <string>
#include <vector>

#include "quiver/status.h"
#include "storage/features/feature_store.h"
#include "storage/streaming/windows.h"
#include "util/hash_slots.h"

namespace quiver {

// One event as the views of its source see it (service/event_mapper.h).
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
  static constexpr char kStateColumn[] = "state";

  explicit Ingestor(FeatureStore& store);
  ~Ingestor();
  Ingestor(const Ingestor&) = delete;
  Ingestor& operator=(const Ingestor&) = delete;

  // Loads the window states kept in the history. Call once, after
  // FeatureStore::Recover. Fails, as Apply and Advance then do, if the
  // state column could not be opened.
  Status Recover();

  // Applies the events in order and adds what they write (history, latest,
  // state) to *batch. Events of views that no longer exist are skipped.
  Status Apply(std::span<const SourceEvent> events, HistoryBatch* batch, IngestCounts* counts);

  // Emits the window changes due up to `until` (event time) for every
  // entity, e.g. when a window's oldest tile leaves it with no new event.
  Status Advance(int64_t until, HistoryBatch* batch, IngestCounts* counts);

  // Entities with a window state, and about how many bytes the states
  // hold (entries, tiles, values and the table's slots; not the
  // allocator's rounding). Lock-free: as of the last call that changed them.
  size_t entities() const { return entities_.load(std::memory_order_relaxed); }
  size_t memory_bytes() const { return bytes_.load(std::memory_order_relaxed); }

 private:
  // The window state of one entity of one view; one allocation, followed
  // by the entity key. Entries are never freed before the Ingestor, so
  // pointers to them stay valid.
  struct Entry {
    EntityState state;
    int64_t scheduled = INT64_MAX;  // when Advance next looks at it
    uint32_t view_id = 0;
    uint32_t key_size = 0;
    uint32_t bytes = 0;  // the entry and its state's heap, as Account last saw them
    bool dirty = false;  // its state is to be saved with the batch
    std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
  };
  using Due = std::pair<int64_t, Entry*>;  // (time, entity)
  static uint64_t Hash(uint32_t view_id, std::string_view key);
  // The entry of (view_id, key) with this Hash, added with a new state if
  // absent.
  Entry& FindOrAdd(uint64_t hash, uint32_t view_id, std::string_view key, const WindowedView& w);
  // Apply takes events in chunks of kChunk: PrefetchChunk hashes their keys
  // into hashes_ and starts fetching their window states and online rows.
  static constexpr size_t kChunk = 16;
  void PrefetchChunk(std::span<const SourceEvent> chunk);

  // Writes the entity's new versions (versions_) and notes its state for
  // SaveDirty and when Advance is next to look at it.
  Status Write(const WindowedView& w, Entry& entry, HistoryBatch* batch, IngestCounts* counts);

  // Adds the state of every entity changed by this call to the batch, once.
  void SaveDirty(const Catalog& catalog, HistoryBatch* batch);
  // Brings state_bytes_ up to date with the entry's state.
  void Account(Entry& entry);
  // Publishes entities() and memory_bytes().
  void Publish();

  FeatureStore& store_;
  std::optional<ColumnFamily> state_column_;  // none without a history
  Status column_status_;                      // why the state column could not be opened
  mutable std::mutex mu_;
  HashSlots<Entry> states_;  // by view id and entity key
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  std::vector<Entry*> dirty_;              // changed since the last SaveDirty
  std::vector<ComputedVersion> versions_;  // scratch: one entity's new versions
  std::vector<ComputedRow> rows_;          // scratch: versions_ as rows
  std::vector<uint64_t> hashes_;           // scratch: the Hash of each event of a chunk
  std::vector<std::string_view> keys_;     // scratch: a chunk's keys of one view
  std::string key_scratch_;                // scratch: a state key and its state
  size_t state_bytes_ = 0;                 // the sum of Entry::bytes
  std::atomic<size_t> entities_{0}, bytes_{0};
};

}  // namespace quiver
