// Windowed aggregation of source events into the rows of a view
// (docs/features.md#sources-and-windowed-features).
//
// Windows are sawtooth windows, as in Airbnb's Chronon. A field with window
// W and hop H keeps one tile per hop [kH, (k+1)H) that holds events; its
// value at time t aggregates every applied event of time <= t in tiles
// floor((t - W) / H) .. floor(t / H), so it covers between W and W + H of
// the past. Memory per entity is bounded by W / H + 2 tiles per field.
//
// The value changes at events and when a tile leaves the window, at
// (k + 1)H + W. WindowedView emits a version for each of those times: the
// history then answers "the value as of t" exactly, whether the versions
// were written by live ingestion or by a backfill of the same events in the
// same order, because both run this code.
//
// An event older than the entity's newest one (late) joins its tile if the
// tile is still in the window, and its version is written at the entity's
// newest event time: nothing ever appears before the time it is known.
//
// Pure computation over caller-owned state; a WindowedView is immutable
// and may be shared by threads, an EntityState belongs to one thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/registry/schema.h"
#include "storage/streaming/packed_state.h"

namespace quiver {

struct EntityState {
  int64_t clock = INT64_MIN;    // newest event time applied
  int64_t through = INT64_MIN;  // versions were emitted for every change up to here
  // Every field's tiles (ascending index, non-empty tiles only) and last
  // value, packed by the view's layout (packed_state.h).
  PackedBytes fields;
};

// One version of an entity's row: its packed row as of event_time.
struct ComputedVersion {
  int64_t event_time = 0;
  std::string row;
};

class WindowedView {
 public:
  // REQUIRES: view outlives this; view.source is set.
  explicit WindowedView(const ViewSchema& view);

  const ViewSchema& view() const { return *view_; }
  EntityState NewState() const;

  // Adds one event whose per-field values are `values` (monostate where the
  // event has none; ignored for count), after emitting the versions of the
  // window changes before it. Appends the versions to *out. Returns false if
  // the event was too late to change anything.
  bool Apply(EntityState& s, int64_t event_time, std::span<const Value> values,
             std::vector<ComputedVersion>* out) const;

  // Emits the versions of the window changes up to `until` (an event-time
  // clock: the stream's progress, or now).
  void Advance(EntityState& s, int64_t until, std::vector<ComputedVersion>* out) const;

  // The first time after s.through (or s.clock) at which a value changes
  // without a new event, or INT64_MAX.
  int64_t NextChange(const EntityState& s) const;

  // The time of the newest version emitted so far: the newest event, or a
  // later window change up to s.through.
  int64_t LastChange(const EntityState& s) const;

  // The packed row of the entity as of t (t >= s.clock).
  std::string Row(const EntityState& s, int64_t t) const;

  // The tiles the state keeps for a field (for tests and accounting).
  size_t TileCount(const EntityState& s, size_t field) const;

  // The state's durable form, and back: its packed bytes after a format
  // byte and its clocks. Decode also reads the unpacked form quiverd
  // wrote before 2026-12 (format 1). It fails with Internal on corrupt
  // bytes.
  std::string Encode(const EntityState& s) const;
  void EncodeTo(const EntityState& s, std::string* out) const;  // appends
  Result<EntityState> Decode(std::string_view bytes) const;

 private:
  // Calls fn with the time each tile leaves its window.
  template <typename Fn>
  void ForEachLeaveTime(const EntityState& s, Fn&& fn) const;
  // The window-change times in (after, upto], ascending.
  std::vector<int64_t> Changes(const EntityState& s, int64_t after, int64_t upto) const;
  void Emit(const EntityState& s, int64_t t, std::vector<ComputedVersion>* out) const;
  // Adds v to field's segment, at `at` in s.fields.
  bool AddToField(size_t field, const FieldShape& shape, EntityState& s, size_t at,
                  int64_t event_time, const Value& v) const;
  // Decodes format 1.
  Result<EntityState> DecodeUnpacked(std::string_view bytes) const;
  Status Corrupt() const;
  void Prune(EntityState& s) const;

  const ViewSchema* view_;
};

// The bytes a state holds outside its own object: its packed fields, once
// they pass PackedBytes's inline capacity.
size_t StateHeapBytes(const EntityState& s);

// floor(a / b) for b > 0, also for negative a.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace quiver
