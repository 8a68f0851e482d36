// Byte layout of the history kept in RocksDB (docs/operations.md, "On-disk
// format"). Pure functions; any thread.
//
//   latest CF key   = view id (u32 BE) | varint len | entity key
//   history CF key  = latest key | ~sortable(event time) (u64 BE) | ~seq (u64 BE)
//
// Within one (view, entity) the history keys sort newest first: by event
// time descending, then by arrival (sequence) descending. So the value as of
// t is the first key at or after Seek(prefix | ~t), and the prefix (the
// latest key) is what the prefix extractor and its Bloom filter see.
//
//   history value = kind (u8) | write time (i64 LE) | packed row
//   latest value  = event time (i64 LE) | seq (u64 LE) | write time (i64 LE) | packed row
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace quiver::history {

inline constexpr size_t kTimeSeqBytes = 16;
inline constexpr size_t kHistoryHeader = 9;
inline constexpr size_t kLatestHeader = 24;

// The kinds of history values. Only rows exist today; the byte leaves room
// for other value kinds (plain RESP values) without a format change.
enum class ValueKind : uint8_t { kRow = 1 };

// 8-byte big-endian integers (sort as bytes in numeric order).
void AppendBig64(uint64_t v, std::string* out);
uint64_t ReadBig64(const char* p);

// Appends view | varint len | key.
void AppendPrefix(uint32_t view_id, std::string_view entity_key, std::string* out);
// Orders entity keys of one view as their prefixes sort in the store (the
// length's varint first, then the bytes): <0, 0 or >0.
int ComparePrefixOrder(std::string_view a, std::string_view b);
// Appends ~sortable(t) | ~seq: seeking to prefix + EncodeTimeSeq(t, max)
// lands on the newest version with event time <= t.
void AppendTimeSeq(int64_t event_time_ms, uint64_t seq, std::string* out);

// Length of the prefix at the start of `key` (a latest or history key), or
// 0 if the key is malformed.
size_t PrefixLength(std::string_view key);

struct DecodedKey {
  uint32_t view_id = 0;
  std::string_view entity_key;
  int64_t event_time_ms = 0;  // history keys only
  uint64_t seq = 0;           // history keys only
};
// Decodes a latest key (with_time false) or a history key; nullopt if malformed.
std::optional<DecodedKey> DecodeKey(std::string_view key, bool with_time);

struct LatestValue {
  int64_t event_time_ms = 0;
  uint64_t seq = 0;
  int64_t write_time_ms = 0;
  std::span<const uint8_t> row;
};
void AppendLatestValue(const LatestValue& v, std::string* out);
std::optional<LatestValue> DecodeLatestValue(std::string_view bytes);

struct HistoryValue {
  ValueKind kind = ValueKind::kRow;
  int64_t write_time_ms = 0;
  std::span<const uint8_t> row;
};
void AppendHistoryValue(const HistoryValue& v, std::string* out);
std::optional<HistoryValue> DecodeHistoryValue(std::string_view bytes);

}  // namespace quiver::history
