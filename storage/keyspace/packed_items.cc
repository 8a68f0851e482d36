#include "storage/keyspace/packed_items.h"

#include <cstring>

namespace quiver {

namespace {

uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;  // little-endian hosts only (x86-64, arm64), as the rows
}

void StoreU32(uint8_t* p, uint32_t v) {
  std::memcpy(p, &v, 4);
}

}  // namespace

bool DecodeItems(std::span<const uint8_t> packed, std::vector<std::string_view>* items) {
  items->clear();
  if (packed.size() < 4) return false;
  const uint32_t count = LoadU32(packed.data());
  size_t at = 4;
  if (count > (packed.size() - 4) / 4) return false;
  items->reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    if (packed.size() - at < 4) return false;
    const uint32_t len = LoadU32(packed.data() + at);
    at += 4;
    if (packed.size() - at < len) return false;
    items->emplace_back(reinterpret_cast<const char*>(packed.data() + at), len);
    at += len;
  }
  return at == packed.size();
}

size_t PackedSize(std::span<const std::string_view> items) {
  size_t size = 4;
  for (std::string_view item : items)
    size += 4 + item.size();
  return size;
}

void PackItems(std::span<const std::string_view> items, uint8_t* out) {
  StoreU32(out, static_cast<uint32_t>(items.size()));
  out += 4;
  for (std::string_view item : items) {
    StoreU32(out, static_cast<uint32_t>(item.size()));
    if (!item.empty()) std::memcpy(out + 4, item.data(), item.size());
    out += 4 + item.size();
  }
}

}  // namespace quiver
