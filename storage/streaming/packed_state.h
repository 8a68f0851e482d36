// The packed form of an entity's window state: each field's state in as
// many bytes as its aggregation needs, one field after another in the
// view's order, in one string (EntityState::fields). The same bytes are
// kept in memory and in the history's state column, so saving a state is
// a copy and loading one a check.
//
// A field's segment is its tiles, if it has any, then its last value, if
// its aggregation is `last`:
//
//   tiles  [u16 n] n × [i64 index][u64 count][f64 value]
//          (no value for count and last, whose tiles only count)
//   last   [u8 present] then, if present, [i64 time][value]
//          (value: the field type's fixed width; string and bytes
//          [u32 length][bytes]; a vector dim × f32)
//
// A `last` field without a window has no tiles. So a view of one `last`
// float keeps 13 bytes an entity (within std::string's own 15), and the
// reference view of a count, a sum and a `last` string ~70 bytes, where an
// unpacked field took 96 bytes whatever it held.
//
// Every number is little-endian and unaligned (read and written through
// memcpy). Callers that hold bytes which did not come from Check must not
// hand them here.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "storage/registry/schema.h"
#include "util/byte_codec.h"

namespace quiver {

// One tile, unpacked: the aggregate of a field's events in one hop.
struct Tile {
  int64_t index = 0;   // floor(event time / hop); 0 for a field without window
  double value = 0;    // sum (sum, mean), min or max of the values
  uint64_t count = 0;  // events (count) or values (others) in the tile
};

// Bytes in 16 bytes of their own: up to 15 inline, more in an allocation
// of exactly their size (a state changes size a tile at a time, and an
// allocation per such change costs less than room kept for it in each of
// millions of states).
class PackedBytes {
 public:
  static constexpr size_t kInline = 15;

  PackedBytes() = default;
  ~PackedBytes() { Release(); }
  PackedBytes(const PackedBytes& other) { assign(other.view()); }
  PackedBytes& operator=(const PackedBytes& other);
  PackedBytes(PackedBytes&& other) noexcept;
  PackedBytes& operator=(PackedBytes&& other) noexcept;

  const char* data() const { return on_heap() ? HeapData() : raw_; }
  char* data() { return on_heap() ? HeapData() : raw_; }
  size_t size() const { return on_heap() ? HeapSize() : static_cast<uint8_t>(raw_[kInline]); }
  bool empty() const { return size() == 0; }
  bool on_heap() const { return static_cast<uint8_t>(raw_[kInline]) == kHeap; }
  std::string_view view() const { return {data(), size()}; }

  void assign(std::string_view bytes) { replace(0, size(), bytes); }
  void append(std::string_view bytes) { replace(size(), 0, bytes); }
  // Inserts n zero bytes at pos.
  void insert(size_t pos, size_t n) { std::memset(Splice(pos, 0, n), 0, n); }
  void erase(size_t pos, size_t n) { Splice(pos, n, 0); }
  // Replaces the n bytes at pos with `bytes`.
  void replace(size_t pos, size_t n, std::string_view bytes);

 private:
  static constexpr uint8_t kHeap = 0xff;
  // Makes the n bytes at pos into `insert` bytes, moving what follows;
  // returns where they start. REQUIRES: pos + n <= size().
  char* Splice(size_t pos, size_t n, size_t insert);
  void Release();
  // On the heap, raw_ holds the allocation's address and its size.
  char* HeapData() const {
    char* p;
    std::memcpy(&p, raw_, sizeof(p));
    return p;
  }
  uint32_t HeapSize() const {
    uint32_t n;
    std::memcpy(&n, raw_ + 8, sizeof(n));
    return n;
  }
  void SetHeap(char* p, uint32_t n);
  void SetInline(size_t n) { raw_[kInline] = static_cast<char>(n); }

  // The bytes themselves (up to kInline) or the heap's; the last byte is
  // the inline size, or kHeap.
  alignas(8) char raw_[kInline + 1] = {};
};
static_assert(sizeof(PackedBytes) == 16);

// How one field's state is packed: what its mapping and type ask for.
struct FieldShape {
  bool tiles = false;       // a tile list
  bool tile_value = false;  // its tiles carry a value
  bool last = false;        // a last value
  TypeSpec type;            // the last value's

  static FieldShape Of(const Field& field);
  size_t tile_bytes() const { return tile_value ? 24 : 16; }
};

namespace packed {

// The bytes of a new field's segment (no tile, no last value).
void AppendEmpty(const FieldShape& shape, std::string* out);

// Tiles of the segment at `at` (REQUIRES: shape.tiles).
inline size_t TileCount(const PackedBytes& bytes, size_t at) {
  return LoadUnaligned<uint16_t>(bytes.data() + at);
}
inline size_t TilePos(const FieldShape& shape, size_t at, size_t i) {
  return at + 2 + i * shape.tile_bytes();
}
Tile ReadTile(const FieldShape& shape, const char* p);
void WriteTile(const FieldShape& shape, const Tile& tile, char* p);

// Where the segment's last value starts, and how long the segment is.
size_t LastPos(const FieldShape& shape, const PackedBytes& bytes, size_t at);
size_t SegmentSize(const FieldShape& shape, const PackedBytes& bytes, size_t at);

// The last value of the segment at `at`: whether there is one, its time,
// and its value's bytes (without a string's length).
struct LastValue {
  bool present = false;
  int64_t time = INT64_MIN;
  std::string_view value;
};
LastValue ReadLast(const FieldShape& shape, const PackedBytes& bytes, size_t at);
// Replaces the segment's last value with v at `time`; false (nothing
// changed) if v does not hold a value of the field's type.
bool WriteLast(const FieldShape& shape, const Value& v, int64_t time, PackedBytes* bytes,
               size_t at);

// Copies one packed value of the type from `in` to *out (format 1 wrote
// values as format 2 packs them); false if `in` ends first.
bool CopyValue(TypeSpec type, ByteReader& in, std::string* out);

// Whether `bytes` are the packed fields of `view`, exactly.
bool Check(const ViewSchema& view, std::string_view bytes);

}  // namespace packed
}  // namespace quiver
