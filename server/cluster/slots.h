// Key slots, as Redis Cluster computes them: slot = CRC16(key) mod 16384,
// where a key holding a non-empty "{hash tag}" hashes only the tag, so
// that related keys ("{user:42}:cart", "{user:42}:seen") share a slot.
// A changelog of P partitions gives each a contiguous range of slots:
// partition = slot * P / 16384 (docs/cluster.md).
#pragma once

#include <cstdint>
#include <string_view>

namespace quiver::cluster {

inline constexpr int kSlots = 16384;

// CRC16-CCITT (XModem), Redis Cluster's key hash.
uint16_t Crc16(std::string_view bytes);
// The part of a key that is hashed: its first non-empty {tag}, else all of it.
std::string_view HashedPart(std::string_view key);
// The key's slot, 0 to 16383.
int KeySlot(std::string_view key);
// The partition of a slot among `partitions` (1 to 16384).
inline int PartitionOfSlot(int slot, int partitions) {
  return static_cast<int>(static_cast<int64_t>(slot) * partitions / kSlots);
}
inline int PartitionOf(std::string_view key, int partitions) {
  return PartitionOfSlot(KeySlot(key), partitions);
}

}  // namespace quiver::cluster
