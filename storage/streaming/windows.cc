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

// The aggregate of the tiles in the window at t; monostate where the
// aggregation of no values is undefined (mean, min, max).
Value Aggregate(const Field& field, const FieldState& f, int64_t t) {
  const FieldMapping& m = field.mapping;
  const int64_t low = Windowed(m) ? LowTile(m, t) : std::numeric_limits<int64_t>::min();
  Tile total;
  for (const Tile& tile : f.tiles) {
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

void PutValue(std::string* out, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return;
        } else if constexpr (std::is_same_v<T, std::string>) {
          Put<uint32_t>(out, static_cast<uint32_t>(x.size()));
          out->append(x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          out->append(reinterpret_cast<const char*>(x.data()), x.size() * sizeof(float));
        } else {
          Put<T>(out, x);
        }
      },
      v);
}

bool GetValue(ByteReader& in, TypeSpec type, Value* v) {
  auto fixed = [&](auto zero) {
    if (!in.Get(&zero)) return false;
    *v = zero;
    return true;
  };
  switch (type.type) {
    case FieldType::kBool:
      return fixed(false);
    case FieldType::kInt32:
      return fixed(int32_t{0});
    case FieldType::kInt64:
      return fixed(int64_t{0});
    case FieldType::kFloat32:
      return fixed(0.0f);
    case FieldType::kFloat64:
      return fixed(0.0);
    case FieldType::kString:
    case FieldType::kBytes: {
      uint32_t n = 0;
      std::string s;
      if (!in.Get(&n) || !in.Bytes(n, &s)) return false;
      *v = std::move(s);
      return true;
    }
    case FieldType::kFloat32Vector: {
      std::string raw;
      if (!in.Bytes(type.dim * sizeof(float), &raw)) return false;
      std::vector<float> vec(type.dim);
      std::memcpy(vec.data(), raw.data(), raw.size());
      *v = std::move(vec);
      return true;
    }
  }
  return false;
}

constexpr uint8_t kStateFormat = 1;

}  // namespace

WindowedView::WindowedView(const ViewSchema& view) : view_(&view) {}

EntityState WindowedView::NewState() const {
  EntityState s;
  s.fields.resize(view_->fields.size());
  return s;
}

bool WindowedView::AddToField(size_t field, FieldState& f, int64_t clock, int64_t event_time,
                              const Value& v) const {
  const FieldMapping& m = view_->fields[field].mapping;
  if (m.agg != FieldAgg::kCount && std::holds_alternative<std::monostate>(v)) return false;
  const int64_t k = Windowed(m) ? FloorDiv(event_time, m.hop_ms) : 0;
  if (Windowed(m) && k < LowTile(m, std::max(clock, event_time))) return false;
  if (m.agg == FieldAgg::kLast && event_time >= f.last_time) {
    f.last_time = event_time;
    f.last = v;
  }
  // `last` keeps tiles too (counts only), so that the times at which values
  // may change only ever grow as events arrive: a late event then rewrites
  // every version already written after it.
  if (m.agg == FieldAgg::kLast && !Windowed(m)) return true;
  auto it = std::lower_bound(f.tiles.begin(), f.tiles.end(), k,
                             [](const Tile& t, int64_t index) { return t.index < index; });
  if (it == f.tiles.end() || it->index != k) it = f.tiles.insert(it, Tile{k, 0, 0});
  Merge(m.agg, *it, AsNumber(v));
  return true;
}

void WindowedView::Prune(EntityState& s) const {
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    const FieldMapping& m = view_->fields[i].mapping;
    if (!Windowed(m)) continue;
    auto& tiles = s.fields[i].tiles;
    const int64_t low = LowTile(m, s.clock);
    auto keep =
        std::find_if(tiles.begin(), tiles.end(), [&](const Tile& t) { return t.index >= low; });
    tiles.erase(tiles.begin(), keep);
  }
}

template <typename Fn>
void WindowedView::ForEachLeaveTime(const EntityState& s, Fn&& fn) const {
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    const FieldMapping& m = view_->fields[i].mapping;
    if (!Windowed(m)) continue;
    for (const Tile& t : s.fields[i].tiles)
      fn(LeaveTime(m, t.index));
  }
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
  for (size_t i = 0; i < view_->fields.size(); ++i)
    changed |= AddToField(i, s.fields[i], s.clock, event_time, values[i]);
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
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    const Field& field = view_->fields[i];
    const FieldState& f = s.fields[i];
    if (field.mapping.agg != FieldAgg::kLast) {
      builder.SetValue(i, Aggregate(field, f, t));  // numeric: copied at once
    } else if (!Windowed(field.mapping) ||
               FloorDiv(f.last_time, field.mapping.hop_ms) >= LowTile(field.mapping, t)) {
      builder.SetValue(i, f.last);  // a string stays in the state until WriteTo
    }
  }
  std::string row(builder.Size(), '\0');
  builder.WriteTo(reinterpret_cast<uint8_t*>(row.data()));
  return row;
}

std::string WindowedView::Encode(const EntityState& s) const {
  std::string out;
  EncodeTo(s, &out);
  return out;
}

void WindowedView::EncodeTo(const EntityState& s, std::string* out_string) const {
  std::string& out = *out_string;
  Put<uint8_t>(&out, kStateFormat);
  Put<int64_t>(&out, s.clock);
  Put<int64_t>(&out, s.through);
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    const FieldState& f = s.fields[i];
    Put<uint32_t>(&out, static_cast<uint32_t>(f.tiles.size()));
    for (const Tile& t : f.tiles) {
      Put<int64_t>(&out, t.index);
      Put<double>(&out, t.value);
      Put<uint64_t>(&out, t.count);
    }
    const bool has_last = !std::holds_alternative<std::monostate>(f.last);
    Put<uint8_t>(&out, has_last ? 1 : 0);
    if (!has_last) continue;
    Put<int64_t>(&out, f.last_time);
    PutValue(&out, f.last);
  }
}

Result<EntityState> WindowedView::Decode(std::string_view bytes) const {
  const auto corrupt = [&] {
    return Status::Internal("corrupt window state of a " + view_->QualifiedName() + " entity");
  };
  ByteReader in(bytes);
  EntityState s = NewState();
  uint8_t format = 0;
  if (!in.Get(&format) || format != kStateFormat || !in.Get(&s.clock) || !in.Get(&s.through)) {
    return corrupt();
  }
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    FieldState& f = s.fields[i];
    uint32_t n = 0;
    if (!in.Get(&n) || n > 20'000) return corrupt();
    f.tiles.resize(n);
    for (Tile& t : f.tiles) {
      if (!in.Get(&t.index) || !in.Get(&t.value) || !in.Get(&t.count)) return corrupt();
    }
    uint8_t has_last = 0;
    if (!in.Get(&has_last)) return corrupt();
    if (has_last == 0) continue;
    if (!in.Get(&f.last_time) || !GetValue(in, view_->fields[i].type, &f.last)) return corrupt();
  }
  if (!in.done()) return corrupt();
  return s;
}

size_t StateHeapBytes(const EntityState& s) {
  size_t bytes = s.fields.capacity() * sizeof(FieldState);
  for (const FieldState& f : s.fields) {
    if (f.tiles.capacity() > 1) bytes += f.tiles.capacity() * sizeof(Tile);
    if (const auto* text = std::get_if<std::string>(&f.last)) {
      if (text->capacity() > std::string().capacity()) bytes += text->capacity() + 1;
    } else if (const auto* vector = std::get_if<std::vector<float>>(&f.last)) {
      bytes += vector->capacity() * sizeof(float);
    }
  }
  return bytes;
}

}  // namespace quiver
