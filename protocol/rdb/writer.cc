// DUMP's side: a value in the plain RDB encodings, the version and the CRC.
#include <charconv>
#include <cstring>

#include "protocol/rdb/rdb.h"

namespace quiver::rdb {

namespace {

// Redis's object types written (rdb.h).
enum : uint8_t { kString = 0, kList = 1, kSet = 2, kHash = 4, kZSet2 = 5, kFunction2 = 245 };

void AppendLength(uint64_t len, std::string* out) {
  if (len < 64) {
    out->push_back(static_cast<char>(len));
  } else if (len < 16384) {
    out->push_back(static_cast<char>(0x40 | (len >> 8)));
    out->push_back(static_cast<char>(len & 0xff));
  } else {
    const int bytes = len <= UINT32_MAX ? 4 : 8;
    out->push_back(static_cast<char>(bytes == 4 ? 0x80 : 0x81));
    for (int i = bytes - 1; i >= 0; --i)
      out->push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  }
}

// A string that is an integer's canonical text fitting 32 bits is written
// as that integer, as Redis does (rdbTryIntegerEncoding).
bool AppendInteger(std::string_view s, std::string* out) {
  if (s.empty() || s.size() > 11) return false;
  int32_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return false;
  char canonical[16];
  const auto [cend, cec] = std::to_chars(canonical, canonical + sizeof canonical, v);
  if (std::string_view(canonical, static_cast<size_t>(cend - canonical)) != s) return false;
  const int width = v >= INT8_MIN && v <= INT8_MAX ? 1 : v >= INT16_MIN && v <= INT16_MAX ? 2 : 4;
  out->push_back(static_cast<char>(0xc0 | (width == 1 ? 0 : width == 2 ? 1 : 2)));
  for (int i = 0; i < width; ++i)
    out->push_back(static_cast<char>((static_cast<uint32_t>(v) >> (8 * i)) & 0xff));
  return true;
}

void AppendString(std::string_view s, std::string* out) {
  if (AppendInteger(s, out)) return;
  AppendLength(s.size(), out);
  out->append(s);
}

std::string Footer(std::string out) {
  const uint16_t version = kDumpVersion;
  out.append(reinterpret_cast<const char*>(&version), 2);
  const uint64_t crc = Crc64(0, out);
  out.append(reinterpret_cast<const char*>(&crc), 8);
  return out;
}

}  // namespace

Writer::Writer(Type type) : type_(type) {}

void Writer::Add(std::string_view item) {
  AppendString(item, &out_);
  ++added_;
}

void Writer::Add(std::string_view member, double score) {
  AppendString(member, &out_);
  out_.append(reinterpret_cast<const char*>(&score), sizeof score);
  ++added_;
}

std::string Writer::Finish() && {
  static constexpr uint8_t kTypes[] = {kString, kList, kSet, kZSet2, kHash};
  std::string out(1, static_cast<char>(kTypes[static_cast<int>(type_)]));
  AppendLength(type_ == Type::kHash ? added_ / 2 : added_, &out);  // a hash's fields
  out.append(out_);
  return Footer(std::move(out));
}

std::string DumpFunctions(const std::vector<std::string_view>& codes) {
  std::string out;
  for (std::string_view code : codes) {
    out.push_back(static_cast<char>(kFunction2));
    AppendLength(code.size(), &out);
    out.append(code);
  }
  return Footer(std::move(out));
}

std::string Writer::String(std::string_view value) {
  std::string out(1, static_cast<char>(kString));
  AppendString(value, &out);
  return Footer(std::move(out));
}

}  // namespace quiver::rdb
