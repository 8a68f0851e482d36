// The packed value of a small plain set (RecordKind::kSet, not boxed), in
// one of Redis's two compact encodings:
//   intset:   [1][width u8: 2, 4 or 8][members ascending, little-endian,
//             `width` bytes each] when every member is an integer;
//   listpack: [2][the members as packed items (packed_items.h), in the
//             order they were added].
// Like a small hash it is rebuilt whole on every change, so reads take no
// lock; a set past the limits below moves, for good, into a box
// (storage/keyspace/box.h) whose members are the keys of a FlatMap.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {

enum class SetEncoding : uint8_t { kIntSet = 1, kListpack = 2 };

// Redis's defaults of set-max-intset-entries, set-max-listpack-entries and
// set-max-listpack-value.
inline constexpr size_t kMaxIntSetEntries = 512;
inline constexpr size_t kMaxListpackEntries = 128;
inline constexpr size_t kMaxListpackValue = 64;

// Whether text is an integer an intset holds: the canonical decimal form
// of an int64 ("12", "-3"; not "012", "+1", "-0" or " 1"), as Redis's
// string2ll.
bool SetInteger(std::string_view text, int64_t* value);

// A packed set, decoded.
struct PackedSet {
  SetEncoding encoding = SetEncoding::kIntSet;
  std::vector<int64_t> ints;           // intset: ascending
  std::vector<std::string_view> strs;  // listpack: views into the packed bytes
  size_t size() const { return encoding == SetEncoding::kIntSet ? ints.size() : strs.size(); }
};

// A packed set's encoding, from its first byte (OBJECT ENCODING); kListpack
// for anything that is not an intset.
inline SetEncoding EncodingOf(std::span<const uint8_t> packed) {
  return !packed.empty() && packed[0] == static_cast<uint8_t>(SetEncoding::kIntSet)
             ? SetEncoding::kIntSet
             : SetEncoding::kListpack;
}
// Decodes a packed set's value; false if it is malformed.
bool DecodeSet(std::span<const uint8_t> packed, PackedSet* out);
// The bytes PackSet writes.
size_t PackedSetSize(const PackedSet& set);
void PackSet(const PackedSet& set, uint8_t* out);

}  // namespace quiver
