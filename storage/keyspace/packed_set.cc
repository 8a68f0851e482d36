#include "storage/keyspace/packed_set.h"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "storage/keyspace/packed_items.h"

namespace quiver {

namespace {

// The narrowest of 2, 4 and 8 bytes that holds every member.
uint8_t WidthOf(std::span<const int64_t> ints) {
  uint8_t width = 2;
  for (int64_t v : ints) {
    if (v < INT32_MIN || v > INT32_MAX) return 8;
    if (v < INT16_MIN || v > INT16_MAX) width = 4;
  }
  return width;
}

int64_t LoadInt(const uint8_t* p, uint8_t width) {
  // Little-endian hosts only (x86-64, arm64), as the rows.
  if (width == 2) {
    int16_t v;
    std::memcpy(&v, p, 2);
    return v;
  }
  if (width == 4) {
    int32_t v;
    std::memcpy(&v, p, 4);
    return v;
  }
  int64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

void StoreInt(uint8_t* p, int64_t v, uint8_t width) {
  if (width == 2) {
    const auto n = static_cast<int16_t>(v);
    std::memcpy(p, &n, 2);
  } else if (width == 4) {
    const auto n = static_cast<int32_t>(v);
    std::memcpy(p, &n, 4);
  } else {
    std::memcpy(p, &v, 8);
  }
}

bool DecodeIntSet(std::span<const uint8_t> body, std::vector<int64_t>* ints) {
  if (body.empty()) return false;
  const uint8_t width = body[0];
  body = body.subspan(1);
  if ((width != 2 && width != 4 && width != 8) || body.size() % width != 0) return false;
  ints->resize(body.size() / width);
  for (size_t i = 0; i < ints->size(); ++i)
    (*ints)[i] = LoadInt(body.data() + i * width, width);
  return std::is_sorted(ints->begin(), ints->end()) &&
         std::adjacent_find(ints->begin(), ints->end()) == ints->end();
}

}  // namespace

bool SetInteger(std::string_view text, int64_t* value) {
  if (text.empty() || text.size() > 20) return false;
  if (text[0] == '0') {  // "0" alone; no leading zero
    *value = 0;
    return text.size() == 1;
  }
  if (text[0] == '-' && (text.size() == 1 || text[1] == '0')) return false;  // "-", "-0", "-01"
  if (text[0] != '-' && (text[0] < '1' || text[0] > '9')) return false;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, *value);
  return ec == std::errc() && ptr == end;
}

bool DecodeSet(std::span<const uint8_t> packed, PackedSet* out) {
  out->ints.clear();
  out->strs.clear();
  if (packed.empty()) return false;
  out->encoding = static_cast<SetEncoding>(packed[0]);
  if (out->encoding == SetEncoding::kIntSet) return DecodeIntSet(packed.subspan(1), &out->ints);
  return out->encoding == SetEncoding::kListpack && DecodeItems(packed.subspan(1), &out->strs);
}

size_t PackedSetSize(const PackedSet& set) {
  if (set.encoding == SetEncoding::kListpack) return 1 + PackedSize(set.strs);
  return 2 + set.ints.size() * WidthOf(set.ints);
}

void PackSet(const PackedSet& set, uint8_t* out) {
  out[0] = static_cast<uint8_t>(set.encoding);
  if (set.encoding == SetEncoding::kListpack) return PackItems(set.strs, out + 1);
  const uint8_t width = WidthOf(set.ints);
  out[1] = width;
  for (size_t i = 0; i < set.ints.size(); ++i)
    StoreInt(out + 2 + i * width, set.ints[i], width);
}

}  // namespace quiver
