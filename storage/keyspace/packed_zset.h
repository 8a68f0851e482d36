// The packed value of a small sorted set (RecordKind::kZSet, not boxed),
// as compact as Redis's listpack:
//   [1][varint count] then per item, in order (score, then member):
//   [varint member size][member][varint score code][8 bytes if the code is odd]
// A score that is a whole number below 2^53 in magnitude is its code
// (zigzag, shifted left by one); any other is code 1 and its 8 bytes. As
// in Redis's listpack, a packed -0 reads back as 0.
//
// Like a small hash it is rebuilt whole on every change, so reads take no
// lock; a sorted set past the limits below moves, for good, into a box
// (storage/keyspace/box.h) holding a ZIndex (storage/keyspace/zset_index.h).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "storage/keyspace/zset_index.h"

namespace quiver {

// Redis's defaults of zset-max-listpack-entries and zset-max-listpack-value.
inline constexpr size_t kMaxZSetListpackEntries = 128;
inline constexpr size_t kMaxZSetListpackValue = 64;

// Decodes a packed sorted set's items (views into packed), in order;
// false if it is malformed or out of order.
bool DecodeZSet(std::span<const uint8_t> packed, std::vector<ZItem>* items);
// The bytes PackZSet writes.
size_t PackedZSetSize(std::span<const ZItem> items);
// Writes items, which must be in order.
void PackZSet(std::span<const ZItem> items, uint8_t* out);

}  // namespace quiver
