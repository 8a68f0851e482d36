// Redis's CRC-64: the Jones polynomial 0xad93d23594c935a9, reflected, no
// initial or final xor (crc64("123456789") = 0xe9c6d914c4b8d9ca), by a
// table of 256 entries built at compile time.
#include <array>

#include "protocol/rdb/rdb.h"

namespace quiver::rdb {

namespace {

constexpr uint64_t kReflectedPoly = 0x95ac9329ac4bc9b5ULL;

constexpr std::array<uint64_t, 256> MakeTable() {
  std::array<uint64_t, 256> table{};
  for (uint64_t i = 0; i < 256; ++i) {
    uint64_t crc = i;
    for (int bit = 0; bit < 8; ++bit)
      crc = (crc & 1) != 0 ? (crc >> 1) ^ kReflectedPoly : crc >> 1;
    table[i] = crc;
  }
  return table;
}

constexpr std::array<uint64_t, 256> kTable = MakeTable();

}  // namespace

uint64_t Crc64(uint64_t crc, std::string_view bytes) {
  for (unsigned char c : bytes)
    crc = kTable[(crc ^ c) & 0xff] ^ (crc >> 8);
  return crc;
}

}  // namespace quiver::rdb
