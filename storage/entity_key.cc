#include "storage/entity_key.h"

#include "storage/record.h"

namespace quiver {

namespace {
Status CheckPart(std::string_view part) {
  if (part.empty()) return Status::InvalidArgument("empty entity key value");
  return Status::Ok();
}
}  // namespace

Status EncodeEntityKey(std::span<const std::string_view> parts, std::string* out) {
  const size_t start = out->size();
  if (parts.size() == 1) {
    QUIVER_RETURN_IF_ERROR(CheckPart(parts[0]));
    out->append(parts[0]);
  } else {
    for (std::string_view part : parts) {
      QUIVER_RETURN_IF_ERROR(CheckPart(part));
      for (size_t n = part.size();; n >>= 7) {
        out->push_back(static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0)));
        if (n < 0x80) break;
      }
      out->append(part);
    }
  }
  if (out->size() - start > kMaxKeySize) {
    out->resize(start);
    return Status::InvalidArgument("entity key longer than 65535 bytes");
  }
  return Status::Ok();
}

Result<std::vector<std::string>> DecodeEntityKey(std::string_view key, size_t key_count) {
  if (key_count == 1) return std::vector<std::string>{std::string(key)};
  std::vector<std::string> parts;
  size_t pos = 0;
  while (pos < key.size()) {
    size_t n = 0;
    for (int shift = 0; pos < key.size() && shift < 35; shift += 7) {
      const auto byte = static_cast<unsigned char>(key[pos++]);
      n |= size_t{byte & 0x7fu} << shift;
      if ((byte & 0x80) == 0) break;
    }
    if (n > key.size() - pos) return Status::InvalidArgument("corrupt entity key");
    parts.emplace_back(key.substr(pos, n));
    pos += n;
  }
  if (parts.size() != key_count) return Status::InvalidArgument("corrupt entity key");
  return parts;
}

}  // namespace quiver
