// Record: one immutable value in the online table: a packed feature row or
// a plain value of the RESP port. A writer fills a record completely
// before publishing it; from then on nobody writes it until it is freed,
// after an RCU grace period, by the table's retire callback.
#pragma once

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <string_view>

#include <urcu/urcu-memb.h>

namespace quiver {

inline constexpr int64_t kNeverExpires = std::numeric_limits<int64_t>::max();
inline constexpr size_t kMaxKeySize = 65535;

// kRow: a packed feature row. The others are plain (RESP) values, stored in
// the reserved view ids of KeySpace: the bytes of a string, a packed hash
// (storage/keyspace/packed_items.h), or (kBoxed) a pointer to a list's or a
// large hash's box (storage/keyspace/box.h).
enum class RecordKind : uint8_t {
  kRow = 0,
  kString = 1,
  kHash = 2,
  kList = 3,
  kSet = 4,
  kZSet = 5
};

// What a boxed record's value points to: a value shared, by reference
// count, by every record that holds it. The keyspace's boxes
// (storage/keyspace/box.h) are the only kind; the table knows only that
// freeing a record drops its reference.
class RecordBox {
 public:
  // Drops one reference; the last one frees the box. Any thread.
  virtual void Unref() = 0;

 protected:
  virtual ~RecordBox() = default;
};

struct Record {
  rcu_head rcu;  // used only when the record is retired
  int64_t event_time_ms;
  int64_t write_time_ms;
  int64_t expire_at_ms;  // first instant at which the value is no longer served
  uint32_t view_id;
  uint32_t value_size;
  uint16_t key_size;
  RecordKind kind;
  uint8_t flags;  // kBoxed

  // The value is a pointer to a RecordBox the record references.
  static constexpr uint8_t kBoxed = 1;
  bool boxed() const { return (flags & kBoxed) != 0; }
  // The box of a boxed record. REQUIRES: boxed().
  RecordBox* box() const {
    RecordBox* box = nullptr;
    std::memcpy(&box, ValueStart(), sizeof(box));
    return box;
  }

  std::string_view key() const { return {reinterpret_cast<const char*>(this + 1), key_size}; }
  std::span<const uint8_t> value() const { return {ValueStart(), value_size}; }
  uint8_t* mutable_value() { return const_cast<uint8_t*>(ValueStart()); }
  bool ExpiredAt(int64_t now_ms) const { return now_ms >= expire_at_ms; }
  size_t allocation_size() const { return AllocationSize(key_size, value_size); }

  static size_t AllocationSize(size_t key_size, size_t value_size) {
    return ValueOffset(key_size) + value_size;
  }
  // Allocates a record with the key copied in and the value left for the
  // caller to fill through mutable_value(). Returns nullptr if out of memory.
  static Record* Allocate(uint32_t view_id, std::string_view key, size_t value_size);
  // Frees the record (and drops its reference to its box).
  static void Free(Record* r);

 private:
  // Values start 8-aligned so that fixed-width fields load at natural alignment.
  static size_t ValueOffset(size_t key_size) {
    return (sizeof(Record) + key_size + 7) & ~size_t{7};
  }
  const uint8_t* ValueStart() const {
    return reinterpret_cast<const uint8_t*>(this) + ValueOffset(key_size);
  }
};

}  // namespace quiver
