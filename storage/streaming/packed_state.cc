#include "storage/streaming/packed_state.h"

#include <cmath>
#include <limits>
#include <variant>
#include <vector>

#include "util/byte_codec.h"

namespace quiver {

FieldShape FieldShape::Of(const Field& field) {
  const FieldMapping& m = field.mapping;
  FieldShape shape;
  shape.last = m.agg == FieldAgg::kLast;
  // `last` keeps tiles (counts only) within a window, so that the times at
  // which its value may change only ever grow as events arrive.
  shape.tiles = !shape.last || m.window_ms > 0;
  shape.tile_value = m.agg != FieldAgg::kCount && !shape.last;
  shape.type = field.type;
  return shape;
}

PackedBytes& PackedBytes::operator=(const PackedBytes& other) {
  if (this != &other) assign(other.view());
  return *this;
}

PackedBytes::PackedBytes(PackedBytes&& other) noexcept {
  std::memcpy(raw_, other.raw_, sizeof(raw_));
  std::memset(other.raw_, 0, sizeof(raw_));
}

PackedBytes& PackedBytes::operator=(PackedBytes&& other) noexcept {
  if (this != &other) {
    Release();
    std::memcpy(raw_, other.raw_, sizeof(raw_));
    std::memset(other.raw_, 0, sizeof(raw_));
  }
  return *this;
}

void PackedBytes::Release() {
  if (on_heap()) delete[] HeapData();
  std::memset(raw_, 0, sizeof(raw_));
}

void PackedBytes::SetHeap(char* p, uint32_t n) {
  std::memcpy(raw_, &p, sizeof(p));
  std::memcpy(raw_ + 8, &n, sizeof(n));
  raw_[kInline] = static_cast<char>(kHeap);
}

void PackedBytes::replace(size_t pos, size_t n, std::string_view bytes) {
  char* at = Splice(pos, n, bytes.size());
  if (!bytes.empty()) std::memcpy(at, bytes.data(), bytes.size());
}

char* PackedBytes::Splice(size_t pos, size_t n, size_t insert) {
  const bool was_heap = on_heap();
  const size_t old_size = size();
  const size_t tail = old_size - pos - n;
  const size_t new_size = old_size - n + insert;
  char* old = data();
  if (new_size == old_size || (!was_heap && new_size <= kInline)) {  // in place
    std::memmove(old + pos + insert, old + pos + n, tail);
    if (!was_heap) SetInline(new_size);
    return old + pos;
  }
  if (new_size > kInline) {  // an allocation of exactly new_size
    char* fresh = new char[new_size];
    std::memcpy(fresh, old, pos);
    std::memcpy(fresh + pos + insert, old + pos + n, tail);
    if (was_heap) delete[] old;
    SetHeap(fresh, static_cast<uint32_t>(new_size));
    return fresh + pos;
  }
  // From the heap back inline: raw_ holds the allocation's address until
  // the bytes are out of it.
  char kept[kInline];
  std::memcpy(kept, old, pos);
  std::memcpy(kept + pos + insert, old + pos + n, tail);
  delete[] old;
  std::memcpy(raw_, kept, pos);
  std::memcpy(raw_ + pos + insert, kept + pos + insert, tail);
  SetInline(new_size);
  return raw_ + pos;
}

namespace packed {
namespace {

// A number as the field's fixed-width type would hold it, or nothing if v
// holds no number.
template <typename T>
bool PutNumber(const Value& v, std::string* out) {
  bool ok = false;
  std::visit(
      [&](const auto& x) {
        using X = std::decay_t<decltype(x)>;
        if constexpr (std::is_arithmetic_v<X>) {
          if constexpr (std::is_integral_v<T> && !std::is_same_v<T, bool> &&
                        std::is_floating_point_v<X>) {
            Put<T>(out, static_cast<T>(std::llround(x)));
          } else {
            Put<T>(out, static_cast<T>(x));
          }
          ok = true;
        }
      },
      v);
  return ok;
}

// v in the field type's packed form, appended; false if v holds no value
// of that type.
bool PutValue(TypeSpec type, const Value& v, std::string* out) {
  switch (type.type) {
    case FieldType::kBool:
      return PutNumber<bool>(v, out);
    case FieldType::kInt32:
      return PutNumber<int32_t>(v, out);
    case FieldType::kInt64:
      return PutNumber<int64_t>(v, out);
    case FieldType::kFloat32:
      return PutNumber<float>(v, out);
    case FieldType::kFloat64:
      return PutNumber<double>(v, out);
    case FieldType::kString:
    case FieldType::kBytes: {
      const auto* s = std::get_if<std::string>(&v);
      if (s == nullptr || s->size() > std::numeric_limits<uint32_t>::max()) return false;
      Put<uint32_t>(out, static_cast<uint32_t>(s->size()));
      out->append(*s);
      return true;
    }
    case FieldType::kFloat32Vector: {
      const auto* vec = std::get_if<std::vector<float>>(&v);
      if (vec == nullptr || vec->size() != type.dim) return false;
      out->append(reinterpret_cast<const char*>(vec->data()), vec->size() * sizeof(float));
      return true;
    }
  }
  return false;
}

// The length of the last value's bytes at p, with a string's length.
size_t ValueSize(TypeSpec type, const char* p) {
  return IsVariableWidth(type.type) ? 4 + LoadUnaligned<uint32_t>(p) : FixedWidth(type);
}

// Steps `in` over one segment of the shape; false if it does not hold one.
bool Skip(const FieldShape& shape, ByteReader& in) {
  std::string_view skipped;
  if (shape.tiles) {
    uint16_t n = 0;
    if (!in.Get(&n) || !in.View(size_t{n} * shape.tile_bytes(), &skipped)) return false;
  }
  if (!shape.last) return true;
  uint8_t present = 0;
  if (!in.Get(&present) || present > 1) return false;
  if (present == 0) return true;
  int64_t time = 0;
  if (!in.Get(&time)) return false;
  uint32_t length = static_cast<uint32_t>(FixedWidth(shape.type));
  if (IsVariableWidth(shape.type.type) && !in.Get(&length)) return false;
  return in.View(length, &skipped);
}

}  // namespace

void AppendEmpty(const FieldShape& shape, std::string* out) {
  if (shape.tiles) Put<uint16_t>(out, 0);
  if (shape.last) Put<uint8_t>(out, 0);
}

Tile ReadTile(const FieldShape& shape, const char* p) {
  Tile t;
  t.index = LoadUnaligned<int64_t>(p);
  t.count = LoadUnaligned<uint64_t>(p + 8);
  if (shape.tile_value) t.value = LoadUnaligned<double>(p + 16);
  return t;
}

void WriteTile(const FieldShape& shape, const Tile& tile, char* p) {
  StoreUnaligned<int64_t>(p, tile.index);
  StoreUnaligned<uint64_t>(p + 8, tile.count);
  if (shape.tile_value) StoreUnaligned<double>(p + 16, tile.value);
}

size_t LastPos(const FieldShape& shape, const PackedBytes& bytes, size_t at) {
  return shape.tiles ? TilePos(shape, at, TileCount(bytes, at)) : at;
}

size_t SegmentSize(const FieldShape& shape, const PackedBytes& bytes, size_t at) {
  size_t end = LastPos(shape, bytes, at);
  if (shape.last) {
    const bool present = bytes.data()[end] != 0;
    end += 1;
    if (present) end += 8 + ValueSize(shape.type, bytes.data() + end + 8);
  }
  return end - at;
}

LastValue ReadLast(const FieldShape& shape, const PackedBytes& bytes, size_t at) {
  const char* p = bytes.data() + LastPos(shape, bytes, at);
  LastValue last;
  if (p[0] == 0) return last;
  last.present = true;
  last.time = LoadUnaligned<int64_t>(p + 1);
  const char* value = p + 9;
  if (IsVariableWidth(shape.type.type)) {
    last.value = std::string_view(value + 4, LoadUnaligned<uint32_t>(value));
  } else {
    last.value = std::string_view(value, FixedWidth(shape.type));
  }
  return last;
}

bool WriteLast(const FieldShape& shape, const Value& v, int64_t time, PackedBytes* bytes,
               size_t at) {
  thread_local std::string packed;
  packed.clear();
  Put<uint8_t>(&packed, 1);
  Put<int64_t>(&packed, time);
  if (!PutValue(shape.type, v, &packed)) return false;
  const size_t pos = LastPos(shape, *bytes, at);
  const size_t old = at + SegmentSize(shape, *bytes, at) - pos;
  bytes->replace(pos, old, packed);
  return true;
}

bool CopyValue(TypeSpec type, ByteReader& in, std::string* out) {
  uint32_t length = static_cast<uint32_t>(FixedWidth(type));
  if (IsVariableWidth(type.type)) {
    if (!in.Get(&length)) return false;
    Put<uint32_t>(out, length);
  }
  std::string_view value;
  if (!in.View(length, &value)) return false;
  out->append(value);
  return true;
}

bool Check(const ViewSchema& view, std::string_view bytes) {
  ByteReader in(bytes);
  for (const Field& field : view.fields) {
    if (!Skip(FieldShape::Of(field), in)) return false;
  }
  return in.done();
}

}  // namespace packed
}  // namespace quiver
