#include "storage/registry/schema.h"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <type_traits>

namespace quiver {

Value ZeroValue(TypeSpec spec) {
  switch (spec.type) {
    case FieldType::kBool:
      return false;
    case FieldType::kInt32:
      return int32_t{0};
    case FieldType::kInt64:
      return int64_t{0};
    case FieldType::kFloat32:
      return 0.0f;
    case FieldType::kFloat64:
      return 0.0;
    case FieldType::kString:
    case FieldType::kBytes:
      return std::string();
    case FieldType::kFloat32Vector:
      return std::vector<float>(spec.dim, 0.0f);
  }
  return std::monostate{};
}

namespace {
size_t AlignUp(size_t n, size_t a) {
  return (n + a - 1) / a * a;
}

// 8-byte values first, then 4-byte ones (incl. vectors), then bools, so every
// value sits at its natural alignment without padding between classes.
int AlignmentClass(TypeSpec t) {
  switch (t.type) {
    case FieldType::kInt64:
    case FieldType::kFloat64:
      return 0;
    case FieldType::kInt32:
    case FieldType::kFloat32:
    case FieldType::kFloat32Vector:
      return 1;
    default:
      return 2;
  }
}
}  // namespace

RowLayout::RowLayout(const std::vector<Field>& fields)
    : offsets_(fields.size(), 0), var_index_(fields.size(), -1) {
  size_t pos = AlignUp(bitmap_bytes(), 8);
  for (int cls = 0; cls <= 2; ++cls) {
    for (size_t i = 0; i < fields.size(); ++i) {
      if (IsVariableWidth(fields[i].type.type) || AlignmentClass(fields[i].type) != cls) continue;
      offsets_[i] = static_cast<uint32_t>(pos);
      pos += FixedWidth(fields[i].type);
    }
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    if (IsVariableWidth(fields[i].type.type)) var_index_[i] = static_cast<int32_t>(var_count_++);
  }
  var_table_ = static_cast<uint32_t>(AlignUp(pos, 4));
}

std::string_view FieldAggName(FieldAgg agg) {
  static constexpr std::string_view kNames[] = {"none", "last", "count", "sum",
                                                "mean", "min",  "max"};
  return kNames[static_cast<size_t>(agg)];
}

int ViewSchema::FieldIndex(std::string_view field_name) const {
  for (size_t i = 0; i < fields.size(); ++i) {
    if (fields[i].name == field_name) return static_cast<int>(i);
  }
  return -1;
}

std::string ViewSchema::QualifiedName() const {
  return name + "@v" + std::to_string(version);
}

bool ViewSchema::SameRowSchema(const ViewSchema& other) const {
  if (entity != other.entity || ttl_ms != other.ttl_ms || fields.size() != other.fields.size() ||
      source != other.source || key_paths != other.key_paths) {
    return false;
  }
  for (size_t i = 0; i < fields.size(); ++i) {
    const Field& a = fields[i];
    const Field& b = other.fields[i];
    if (a.name != b.name || a.type != b.type || a.default_value != b.default_value ||
        a.mapping != b.mapping) {
      return false;
    }
  }
  return true;
}

void FinalizeView(ViewSchema& view) {
  view.layout = RowLayout(view.fields);
  for (Field& f : view.fields) {
    const Value& v = f.default_value;
    std::string& raw = f.default_raw;
    if (IsVariableWidth(f.type.type)) {
      raw = std::get<std::string>(v);
    } else if (const auto* vec = std::get_if<std::vector<float>>(&v)) {
      raw.assign(reinterpret_cast<const char*>(vec->data()), vec->size() * sizeof(float));
    } else {
      raw.assign(FixedWidth(f.type), '\0');
      std::visit(
          [&](const auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_arithmetic_v<T>) std::memcpy(raw.data(), &x, sizeof(T));
          },
          v);
    }
  }
}

Result<ViewRef> ParseViewRef(std::string_view text) {
  ViewRef ref;
  size_t at = text.find('@');
  ref.name = std::string(text.substr(0, at));
  if (ref.name.empty())
    return Status::InvalidArgument("empty view name in '" + std::string(text) + "'");
  if (at == std::string_view::npos) return ref;
  std::string_view ver = text.substr(at + 1);
  if (!ver.empty() && ver[0] == 'v') ver.remove_prefix(1);
  auto [end, ec] = std::from_chars(ver.data(), ver.data() + ver.size(), ref.version);
  if (ec != std::errc() || end != ver.data() + ver.size() || ref.version == 0) {
    return Status::InvalidArgument("bad view reference '" + std::string(text) +
                                   "' (expected NAME or NAME@vN with N >= 1)");
  }
  return ref;
}

}  // namespace quiver
