#include "client/cli/values.h"

#include <charconv>
#include <cmath>

namespace quiver {

namespace {

template <typename T>
bool ParseNumber(std::string_view text, T* out) {
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return !text.empty() && ec == std::errc() && end == text.data() + text.size();
}

Status BadValue(const FieldInfo& field, std::string_view text) {
  return Status::InvalidArgument("field " + field.name + " is " + TypeName(field.type) +
                                 ": cannot use '" + std::string(text) + "'");
}

template <typename T>
Status SetNumber(WriteBatch& batch, const FieldInfo& field, std::string_view text) {
  T v{};
  if (!ParseNumber(text, &v)) return BadValue(field, text);
  batch.Set(field.name, v);
  return Status::Ok();
}

Status SetVector(WriteBatch& batch, const FieldInfo& field, std::string_view text) {
  std::vector<float> values;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    float v = 0;
    if (!ParseNumber(text.substr(start, comma - start), &v)) return BadValue(field, text);
    values.push_back(v);
    start = comma + 1;
  }
  if (values.size() != field.type.dim) {
    return Status::InvalidArgument("field " + field.name + " is " + TypeName(field.type) +
                                   ": expected " + std::to_string(field.type.dim) +
                                   " comma-separated numbers, got " +
                                   std::to_string(values.size()));
  }
  batch.Set(field.name, std::span<const float>(values));
  return Status::Ok();
}

}  // namespace

Status SetFromText(WriteBatch& batch, const FieldInfo& field, std::string_view text) {
  switch (field.type.type) {
    case FieldType::kBool:
      if (text == "true" || text == "1")
        batch.Set(field.name, true);
      else if (text == "false" || text == "0")
        batch.Set(field.name, false);
      else
        return BadValue(field, text);
      return Status::Ok();
    case FieldType::kInt32:
      return SetNumber<int32_t>(batch, field, text);
    case FieldType::kInt64:
      return SetNumber<int64_t>(batch, field, text);
    case FieldType::kFloat32:
      return SetNumber<float>(batch, field, text);
    case FieldType::kFloat64:
      return SetNumber<double>(batch, field, text);
    case FieldType::kString:
      batch.Set(field.name, text);
      return Status::Ok();
    case FieldType::kBytes:
      batch.SetBytes(field.name, text);
      return Status::Ok();
    case FieldType::kFloat32Vector:
      return SetVector(batch, field, text);
  }
  return BadValue(field, text);
}

Result<std::vector<std::string>> SplitKey(std::string_view key, size_t count) {
  std::vector<std::string> parts;
  size_t start = 0;
  for (;;) {
    size_t comma = key.find(',', start);
    parts.emplace_back(key.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  if (parts.size() != count) {
    return Status::InvalidArgument("key '" + std::string(key) + "' has " +
                                   std::to_string(parts.size()) +
                                   " value(s); this view's entity has " + std::to_string(count) +
                                   " join key(s), joined by commas");
  }
  return parts;
}

}  // namespace quiver
