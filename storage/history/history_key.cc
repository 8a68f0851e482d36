#include "storage/history/history_key.h"

#include <cstring>

#include "util/byte_codec.h"

namespace quiver::history {

void AppendBig64(uint64_t v, std::string* out) {
  char b[8];
  for (int i = 7; i >= 0; --i, v >>= 8)
    b[i] = static_cast<char>(v & 0xff);
  out->append(b, 8);
}

uint64_t ReadBig64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i)
    v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

namespace {

template <typename T>
void AppendLittle(T v, std::string* out) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

template <typename T>
T ReadLittle(const char* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

// Flips the sign bit so that signed times sort as unsigned bytes.
uint64_t Sortable(int64_t t) {
  return static_cast<uint64_t>(t) ^ (uint64_t{1} << 63);
}
int64_t FromSortable(uint64_t u) {
  return static_cast<int64_t>(u ^ (uint64_t{1} << 63));
}

std::span<const uint8_t> Bytes(std::string_view s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

}  // namespace

void AppendPrefix(uint32_t view_id, std::string_view entity_key, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((view_id >> shift) & 0xff));
  AppendVarint(entity_key.size(), out);
  out->append(entity_key);
}

int ComparePrefixOrder(std::string_view a, std::string_view b) {
  if (a.size() == b.size()) return a.compare(b);
  if (a.size() < 0x80 && b.size() < 0x80) return a.size() < b.size() ? -1 : 1;
  char la[10], lb[10];
  return std::string_view(la, PutVarint(a.size(), la))
      .compare(std::string_view(lb, PutVarint(b.size(), lb)));
}

void AppendTimeSeq(int64_t event_time_ms, uint64_t seq, std::string* out) {
  AppendBig64(~Sortable(event_time_ms), out);
  AppendBig64(~seq, out);
}

size_t PrefixLength(std::string_view key) {
  if (key.size() < 5) return 0;
  size_t len = 0;
  size_t pos = 4;
  for (int shift = 0; pos < key.size() && shift <= 14; shift += 7) {
    const auto byte = static_cast<uint8_t>(key[pos++]);
    len |= size_t{byte & 0x7fu} << shift;
    if ((byte & 0x80) == 0) return pos + len <= key.size() ? pos + len : 0;
  }
  return 0;
}

std::optional<DecodedKey> DecodeKey(std::string_view key, bool with_time) {
  const size_t prefix = PrefixLength(key);
  if (prefix == 0 || key.size() != prefix + (with_time ? kTimeSeqBytes : 0)) return std::nullopt;
  DecodedKey d;
  for (int i = 0; i < 4; ++i)
    d.view_id = (d.view_id << 8) | static_cast<uint8_t>(key[i]);
  size_t header = 5;
  while (static_cast<uint8_t>(key[header - 1]) & 0x80)
    ++header;
  d.entity_key = key.substr(header, prefix - header);
  if (with_time) {
    d.event_time_ms = FromSortable(~ReadBig64(key.data() + prefix));
    d.seq = ~ReadBig64(key.data() + prefix + 8);
  }
  return d;
}

void AppendLatestValue(const LatestValue& v, std::string* out) {
  AppendLittle(v.event_time_ms, out);
  AppendLittle(v.seq, out);
  AppendLittle(v.write_time_ms, out);
  out->append(reinterpret_cast<const char*>(v.row.data()), v.row.size());
}

std::optional<LatestValue> DecodeLatestValue(std::string_view bytes) {
  if (bytes.size() < kLatestHeader) return std::nullopt;
  LatestValue v;
  v.event_time_ms = ReadLittle<int64_t>(bytes.data());
  v.seq = ReadLittle<uint64_t>(bytes.data() + 8);
  v.write_time_ms = ReadLittle<int64_t>(bytes.data() + 16);
  v.row = Bytes(bytes.substr(kLatestHeader));
  return v;
}

void AppendHistoryValue(const HistoryValue& v, std::string* out) {
  out->push_back(static_cast<char>(v.kind));
  AppendLittle(v.write_time_ms, out);
  out->append(reinterpret_cast<const char*>(v.row.data()), v.row.size());
}

std::optional<HistoryValue> DecodeHistoryValue(std::string_view bytes) {
  if (bytes.size() < kHistoryHeader || bytes[0] != static_cast<char>(ValueKind::kRow)) {
    return std::nullopt;
  }
  HistoryValue v;
  v.write_time_ms = ReadLittle<int64_t>(bytes.data() + 1);
  v.row = Bytes(bytes.substr(kHistoryHeader));
  return v;
}

}  // namespace quiver::history
