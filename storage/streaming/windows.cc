#include "storage/streaming/windows.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "storage/online/row.h"
#include "util/byte_codec.h"

namespace quiver {

namespace {

bool Windowed(const FieldMapping& m) {
  return m.window_ms > 0;
}

// The oldest tile index inside the window at time t.
int64_t LowTile(const FieldMapping& m, int64_t t) {
  return FloorDiv(t - m.window_ms, m.hop_ms);
}

// When tile k leaves the window.
int64_t LeaveTime(const FieldMapping& m, int64_t k) {
  return (k + 1) * m.hop_ms + m.window_ms;
}

double AsNumber(const Value& v) {
  return std::visit(
      [](const auto& x) -> double {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<T>) {
          return static_cast<double>(x);
        } else {
          return 0;
        }
      },
      v);
}

Value FromNumber(TypeSpec type, double x) {
  switch (type.type) {
    case FieldType::kInt32:
      return static_cast<int32_t>(std::llround(x));
    case FieldType::kInt64:
      return static_cast<int64_t>(std::llround(x));
    case FieldType::kFloat32:
      return static_cast<float>(x);
    default:
      return x;
  }
}

void Merge(FieldAgg agg, Tile& t, double x) {
  if (t.count == 0) {
    t.value = agg == FieldAgg::kCount ? 0 : x;
  } else if (agg == FieldAgg::kMin) {
    t.value = std::min(t.value, x);
  } else if (agg == FieldAgg::kMax) {
    t.value = std::max(t.value, x);
  } else if (agg != FieldAgg::kCount) {
    t.value += x;
  }
  ++t.count;
}

// The aggregate of the tiles of the segment at `at` in the window at t;
// monostate where the aggregation of no values is undefined (mean, min,
// max).
Value Aggregate(const Field& field, const FieldShape& shape, const PackedBytes& bytes, size_t at,
                int64_t t) {
  const FieldMapping& m = field.mapping;
  const int64_t low = Windowed(m) ? LowTile(m, t) : std::numeric_limits<int64_t>::min();
  Tile total;
  const size_t n = packed::TileCount(bytes, at);
  for (size_t i = 0; i < n; ++i) {
    const Tile tile = packed::ReadTile(shape, bytes.data() + packed::TilePos(shape, at, i));
    if (tile.index < low) continue;
    if (total.count == 0) {
      total = tile;
      continue;
    }
    total.count += tile.count;
    if (m.agg == FieldAgg::kMin) {
      total.value = std::min(total.value, tile.value);
    } else if (m.agg == FieldAgg::kMax) {
      total.value = std::max(total.value, tile.value);
    } else {
      total.value += tile.value;
    }
  }
  switch (m.agg) {
    case FieldAgg::kCount:
      return FromNumber(field.type, static_cast<double>(total.count));
    case FieldAgg::kSum:
      return FromNumber(field.type, total.value);
    case FieldAgg::kMean:
      if (total.count == 0) return std::monostate{};
      return FromNumber(field.type, total.value / static_cast<double>(total.count));
    default:
      if (total.count == 0) return std::monostate{};
      return FromNumber(field.type, total.value);
  }
}

// Adds x to tile k of the segment at `at`, which it creates if absent.
void AddToTile(const FieldShape& shape, FieldAgg agg, int64_t k, double x, PackedBytes& bytes,
               size_t at) {
  const size_t n = packed::TileCount(bytes, at);
  size_t lo = 0, hi = n;  // the first tile of index >= k
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (LoadUnaligned<int64_t>(bytes.data() + packed::TilePos(shape, at, mid)) < k) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  const size_t pos = packed::TilePos(shape, at, lo);
  Tile tile{k, 0, 0};
  if (lo < n && LoadUnaligned<int64_t>(bytes.data() + pos) == k) {
    tile = packed::ReadTile(shape, bytes.data() + pos);
  } else {
    bytes.insert(pos, shape.tile_bytes());
    StoreUnaligned<uint16_t>(bytes.data() + at, static_cast<uint16_t>(n + 1));
  }
  Merge(agg, tile, x);
  packed::WriteTile(shape, tile, bytes.data() + pos);
}

// Calls fn(field, shape, at) for each field of the view, with the offset
// of its segment in `bytes`, which fn may change (its own segment only).
template <typename Fn>
void ForEachSegment(const ViewSchema& view, const PackedBytes& bytes, Fn&& fn) {
  size_t at = 0;
  for (size_t i = 0; i < view.fields.size(); ++i) {
    const FieldShape shape = FieldShape::Of(view.fields[i]);
    fn(i, shape, at);
    at += packed::SegmentSize(shape, bytes, at);
  }
}

constexpr uint8_t kUnpackedFormat = 1;  // before 2026-12
constexpr uint8_t kPackedFormat = 2;

}  // namespace

WindowedView::WindowedView(const ViewSchema& view) : view_(&view) {}

EntityState WindowedView::NewState() const {
  std::string fields;
  for (const Field& field : view_->fields)
    packed::AppendEmpty(FieldShape::Of(field), &fields);
  EntityState s;
  s.fields.assign(fields);
  return s;
}

bool WindowedView::AddToField(size_t field, const FieldShape& shape, EntityState& s, size_t at,
                              int64_t event_time, const Value& v) const {
  const FieldMapping& m = view_->fields[field].mapping;
  if (m.agg != FieldAgg::kCount && std::holds_alternative<std::monostate>(v)) return false;
  const int64_t k = Windowed(m) ? FloorDiv(event_time, m.hop_ms) : 0;
  if (Windowed(m) && k < LowTile(m, std::max(s.clock, event_time))) return false;
  if (shape.last && event_time >= packed::ReadLast(shape, s.fields, at).time &&
      !packed::WriteLast(shape, v, event_time, &s.fields, at)) {
    return false;  // not a value of the field's type
  }
  if (!shape.tiles) return true;
  AddToTile(shape, m.agg, k, AsNumber(v), s.fields, at);
  return true;
}

void WindowedView::Prune(EntityState& s) const {
  ForEachSegment(*view_, s.fields, [&](size_t i, const FieldShape& shape, size_t at) {
    const FieldMapping& m = view_->fields[i].mapping;
    if (!Windowed(m)) return;
    const int64_t low = LowTile(m, s.clock);
    const size_t n = packed::TileCount(s.fields, at);
    size_t old = 0;
    while (old < n &&
           LoadUnaligned<int64_t>(s.fields.data() + packed::TilePos(shape, at, old)) < low) {
      ++old;
    }
    if (old == 0) return;
    s.fields.erase(packed::TilePos(shape, at, 0), old * shape.tile_bytes());
    StoreUnaligned<uint16_t>(s.fields.data() + at, static_cast<uint16_t>(n - old));
  });
}

template <typename Fn>
void WindowedView::ForEachLeaveTime(const EntityState& s, Fn&& fn) const {
  ForEachSegment(*view_, s.fields, [&](size_t i, const FieldShape& shape, size_t at) {
    const FieldMapping& m = view_->fields[i].mapping;
    if (!Windowed(m)) return;
    const size_t n = packed::TileCount(s.fields, at);
    for (size_t j = 0; j < n; ++j)
      fn(LeaveTime(m, LoadUnaligned<int64_t>(s.fields.data() + packed::TilePos(shape, at, j))));
  });
}

std::vector<int64_t> WindowedView::Changes(const EntityState& s, int64_t after,
                                           int64_t upto) const {
  std::vector<int64_t> out;
  ForEachLeaveTime(s, [&](int64_t t) {
    if (t > after && t <= upto) out.push_back(t);
  });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void WindowedView::Emit(const EntityState& s, int64_t t, std::vector<ComputedVersion>* out) const {
  out->push_back({t, Row(s, t)});
}

bool WindowedView::Apply(EntityState& s, int64_t event_time, std::span<const Value> values,
                         std::vector<ComputedVersion>* out) const {
  const int64_t emitted = std::max(s.clock, s.through);
  if (s.clock != std::numeric_limits<int64_t>::min() && event_time > emitted) {
    // Window changes strictly before the event; one at the event's own time
    // is part of the event's version.
    for (int64_t t : Changes(s, emitted, event_time - 1))
      Emit(s, t, out);
  }
  bool changed = false;
  ForEachSegment(*view_, s.fields, [&](size_t i, const FieldShape& shape, size_t at) {
    changed |= AddToField(i, shape, s, at, event_time, values[i]);
  });
  if (!changed && event_time <= s.clock) return false;
  s.clock = std::max(s.clock, event_time);
  Prune(s);
  Emit(s, s.clock, out);
  // Changes already emitted after this version were computed without the
  // event: emit them again.
  if (s.through > s.clock) {
    for (int64_t t : Changes(s, s.clock, s.through))
      Emit(s, t, out);
  }
  s.through = std::max(s.through, s.clock);
  return true;
}

void WindowedView::Advance(EntityState& s, int64_t until, std::vector<ComputedVersion>* out) const {
  const int64_t emitted = std::max(s.clock, s.through);
  if (s.clock == std::numeric_limits<int64_t>::min() || until <= emitted) return;
  for (int64_t t : Changes(s, emitted, until))
    Emit(s, t, out);
  s.through = until;
}

int64_t WindowedView::NextChange(const EntityState& s) const {
  const int64_t emitted = std::max(s.clock, s.through);
  int64_t next = std::numeric_limits<int64_t>::max();
  ForEachLeaveTime(s, [&](int64_t t) {
    if (t > emitted) next = std::min(next, t);
  });
  return next;
}

int64_t WindowedView::LastChange(const EntityState& s) const {
  int64_t last = s.clock;
  ForEachLeaveTime(s, [&](int64_t t) {
    if (t <= s.through) last = std::max(last, t);
  });
  return last;
}

std::string WindowedView::Row(const EntityState& s, int64_t t) const {
  RowBuilder builder(*view_, {});
  ForEachSegment(*view_, s.fields, [&](size_t i, const FieldShape& shape, size_t at) {
    const Field& field = view_->fields[i];
    if (!shape.last) {
      builder.SetValue(i, Aggregate(field, shape, s.fields, at, t));  // numeric: copied at once
      return;
    }
    const packed::LastValue last = packed::ReadLast(shape, s.fields, at);
    if (!last.present || (Windowed(field.mapping) &&
                          FloorDiv(last.time, field.mapping.hop_ms) < LowTile(field.mapping, t))) {
      return;
    }
    // A string stays in the state until WriteTo.
    if (field.type.type == FieldType::kString || field.type.type == FieldType::kBytes) {
      builder.SetVar(i, last.value);
    } else {
      builder.SetFixed(i, last.value.data(), last.value.size());
    }
  });
  std::string row(builder.Size(), '\0');
  builder.WriteTo(reinterpret_cast<uint8_t*>(row.data()));
  return row;
}

size_t WindowedView::TileCount(const EntityState& s, size_t field) const {
  size_t tiles = 0;
  ForEachSegment(*view_, s.fields, [&](size_t i, const FieldShape& shape, size_t at) {
    if (i == field && shape.tiles) tiles = packed::TileCount(s.fields, at);
  });
  return tiles;
}

std::string WindowedView::Encode(const EntityState& s) const {
  std::string out;
  EncodeTo(s, &out);
  return out;
}

void WindowedView::EncodeTo(const EntityState& s, std::string* out) const {
  Put<uint8_t>(out, kPackedFormat);
  Put<int64_t>(out, s.clock);
  Put<int64_t>(out, s.through);
  out->append(s.fields.view());
}

Result<EntityState> WindowedView::Decode(std::string_view bytes) const {
  if (!bytes.empty() && static_cast<uint8_t>(bytes[0]) == kUnpackedFormat) {
    return DecodeUnpacked(bytes);
  }
  ByteReader in(bytes);
  EntityState s;
  uint8_t format = 0;
  std::string_view fields;
  if (!in.Get(&format) || format != kPackedFormat || !in.Get(&s.clock) || !in.Get(&s.through) ||
      !in.View(bytes.size() - 17, &fields) || !packed::Check(*view_, fields)) {
    return Corrupt();
  }
  s.fields.assign(fields);
  return s;
}

// Format 1, per field: [u32 n] n × [i64 index][f64 value][u64 count], then
// [u8 has last] and, if so, [i64 time][value]: as in format 2, with a
// string's length, but a number as its Value held it. A field packs the
// parts its shape has (format 1 wrote both for every field).
Result<EntityState> WindowedView::DecodeUnpacked(std::string_view bytes) const {
  ByteReader in(bytes);
  EntityState s;
  std::string fields;  // packed
  uint8_t format = 0;
  if (!in.Get(&format) || !in.Get(&s.clock) || !in.Get(&s.through)) return Corrupt();
  for (const Field& field : view_->fields) {
    const FieldShape shape = FieldShape::Of(field);
    uint32_t n = 0;
    if (!in.Get(&n) || n > 20'000 || (n > 0 && !shape.tiles)) return Corrupt();
    if (shape.tiles) Put<uint16_t>(&fields, static_cast<uint16_t>(n));
    for (uint32_t i = 0; i < n; ++i) {
      Tile t;
      if (!in.Get(&t.index) || !in.Get(&t.value) || !in.Get(&t.count)) return Corrupt();
      fields.append(shape.tile_bytes(), '\0');
      packed::WriteTile(shape, t, fields.data() + fields.size() - shape.tile_bytes());
    }
    uint8_t has_last = 0;
    if (!in.Get(&has_last) || (has_last != 0 && !shape.last)) return Corrupt();
    if (shape.last) Put<uint8_t>(&fields, has_last != 0 ? 1 : 0);
    if (has_last == 0) continue;
    int64_t time = 0;
    if (!in.Get(&time)) return Corrupt();
    Put<int64_t>(&fields, time);
    if (!packed::CopyValue(shape.type, in, &fields)) return Corrupt();
  }
  if (!in.done() || !packed::Check(*view_, fields)) return Corrupt();
  s.fields.assign(fields);
  return s;
}

Status WindowedView::Corrupt() const {
  return Status::Internal("corrupt window state of a " + view_->QualifiedName() + " entity");
}

size_t StateHeapBytes(const EntityState& s) {
  return s.fields.on_heap() ? s.fields.size() : 0;
}

}  // namespace quiver
