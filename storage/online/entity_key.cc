#include "storage/online/entity_key.h"

#include "storage/online/record.h"
#include "util/byte_codec.h"

namespace quiver {

namespace {

Status CheckKey(size_t entity, std::string_view part, size_t encoded_size) {
  if (part.empty()) {
    return Status::InvalidArgument("key " + std::to_string(entity) + ": empty entity key value");
  }
  if (encoded_size > kMaxKeySize) {
    return Status::InvalidArgument("key " + std::to_string(entity) +
                                   ": entity key longer than 65535 bytes");
  }
  return Status::Ok();
}

// Appends the multi-value encoding of one entity's parts to *out.
Status AppendCompositeKey(size_t entity, std::span<const std::string_view> parts,
                          std::string* out) {
  const size_t start = out->size();
  for (std::string_view part : parts) {
    QUIVER_RETURN_IF_ERROR(CheckKey(entity, part, 0));
    AppendVarint(part.size(), out);
    out->append(part);
  }
  return CheckKey(entity, parts[0], out->size() - start);  // parts[0] passed: checks the size
}

}  // namespace

Status EncodeEntityKeys(std::span<const std::string_view> parts, size_t per_key, EncodedKeys* out) {
  out->views.clear();
  out->storage.clear();
  const size_t rows = parts.size() / per_key;
  if (per_key == 1) {
    for (size_t i = 0; i < rows; ++i)
      QUIVER_RETURN_IF_ERROR(CheckKey(i, parts[i], parts[i].size()));
    out->views.assign(parts.begin(), parts.end());
    return Status::Ok();
  }
  std::vector<size_t> ends(rows);
  for (size_t i = 0; i < rows; ++i) {
    QUIVER_RETURN_IF_ERROR(
        AppendCompositeKey(i, parts.subspan(i * per_key, per_key), &out->storage));
    ends[i] = out->storage.size();
  }
  // Views are taken only now: appending may have moved the storage.
  for (size_t i = 0, begin = 0; i < rows; begin = ends[i++]) {
    out->views.emplace_back(out->storage.data() + begin, ends[i] - begin);
  }
  return Status::Ok();
}

std::string JoinedKey(std::string_view encoded, size_t count) {
  if (count <= 1) return std::string(encoded);
  std::string joined;
  ByteReader in(encoded);
  for (std::string_view part; in.Sized(&part);) {
    if (!joined.empty()) joined += ',';
    joined.append(part);
  }
  return in.done() ? joined : std::string(encoded);
}

Result<std::vector<std::string_view>> SplitJoinedKey(std::string_view joined, size_t count) {
  if (count == 1) return std::vector<std::string_view>{joined};
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    const size_t comma = joined.find(',', start);
    parts.push_back(joined.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.size() != count) {
    return Status::InvalidArgument("key '" + std::string(joined) + "' names " +
                                   std::to_string(parts.size()) +
                                   " join-key value(s); the view's entity has " +
                                   std::to_string(count) + ", joined by commas");
  }
  return parts;
}

}  // namespace quiver
