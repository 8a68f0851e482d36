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

#include <boost/container/small_vector.hpp>

#include "quiver/status.h"
#include "storage/registry/schema.h"

namespace quiver {

struct Tile {
  int64_t index = 0;   // floor(event time / hop); 0 for a field without window
  double value = 0;    // sum (sum, mean), min or max of the values
  uint64_t count = 0;  // events (count) or values (others) in the tile
};

struct FieldState {
  // Ascending index, non-empty tiles only. Most entities of a large
  // keyspace have seen few events: their one tile needs no allocation.
  boost::container::small_vector<Tile, 1> tiles;
  int64_t last_time = INT64_MIN;
  Value last;  // `last`: the value of the newest event; monostate if none
};

struct EntityState {
  int64_t clock = INT64_MIN;    // newest event time applied
  int64_t through = INT64_MIN;  // versions were emitted for every change up to here
  std::vector<FieldState> fields;
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

  // The state's durable form, and back. Decode fails with Internal on corrupt bytes.
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
  bool AddToField(size_t field, FieldState& f, int64_t clock, int64_t event_time,
                  const Value& v) const;
  void Prune(EntityState& s) const;

  const ViewSchema* view_;
};

// The bytes a state holds outside its own object: its fields, the tiles
// beyond the first of each, and long `last` values.
size_t StateHeapBytes(const EntityState& s);

// floor(a / b) for b > 0, also for negative a.
inline int64_t FloorDiv(int64_t a, int64_t b) {
  const int64_t q = a / b;
  return (a % b != 0 && a < 0) ? q - 1 : q;
}

}  // namespace quiver
