#include "storage/keyspace/packed_zset.h"

#include <cmath>
#include <cstring>
#include <string_view>

#include "util/byte_codec.h"

namespace quiver {

namespace {

constexpr uint8_t kFormat = 1;
constexpr double kWholeLimit = 9007199254740992.0;  // 2^53

// A score's code: an even one holds a whole number; 1 means 8 bytes follow.
uint64_t CodeOf(double score) {
  if (!(std::fabs(score) < kWholeLimit) || score != std::trunc(score)) return 1;
  const auto v = static_cast<int64_t>(score);
  const auto zigzag = (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  return zigzag << 1;
}

double WholeOf(uint64_t code) {
  const uint64_t zigzag = code >> 1;
  return static_cast<double>(static_cast<int64_t>(zigzag >> 1) ^ -static_cast<int64_t>(zigzag & 1));
}

bool ReadItem(ByteReader& in, ZItem* item) {
  uint64_t code = 0;
  if (!in.Sized(&item->member) || !in.Varint(&code)) return false;
  if ((code & 1) == 0) {
    item->score = WholeOf(code);
    return true;
  }
  return code == 1 && in.Get(&item->score) && !std::isnan(item->score);
}

}  // namespace

bool DecodeZSet(std::span<const uint8_t> packed, std::vector<ZItem>* items) {
  items->clear();
  ByteReader in({reinterpret_cast<const char*>(packed.data()), packed.size()});
  uint8_t format = 0;
  uint64_t count = 0;
  // Each item takes 2 bytes at least.
  if (!in.Get(&format) || format != kFormat || !in.Varint(&count) || count > in.remaining() / 2) {
    return false;
  }
  items->resize(count);
  for (ZItem& item : *items) {
    if (!ReadItem(in, &item)) return false;
    if (&item != items->data() && !ZLess((&item)[-1], item)) return false;
  }
  return in.done();
}

size_t PackedZSetSize(std::span<const ZItem> items) {
  size_t size = 1 + VarintSize(items.size());
  for (const ZItem& item : items) {
    const uint64_t code = CodeOf(item.score);
    size += VarintSize(item.member.size()) + item.member.size() + VarintSize(code) +
            (code == 1 ? sizeof(double) : 0);
  }
  return size;
}

void PackZSet(std::span<const ZItem> items, uint8_t* out) {
  auto* p = reinterpret_cast<char*>(out);
  *p++ = static_cast<char>(kFormat);
  p += PutVarint(items.size(), p);
  for (const ZItem& item : items) {
    p += PutVarint(item.member.size(), p);
    if (!item.member.empty()) std::memcpy(p, item.member.data(), item.member.size());
    p += item.member.size();
    const uint64_t code = CodeOf(item.score);
    p += PutVarint(code, p);
    if (code == 1) {
      std::memcpy(p, &item.score, sizeof(double));
      p += sizeof(double);
    }
  }
}

}  // namespace quiver
