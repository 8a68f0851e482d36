#include "service/value_text.h"

#include <charconv>

#include "protocol/json_text.h"

namespace quiver {

namespace {

// Appends a number in its shortest exact form (floats read back equal);
// in JSON, a non-finite float is null.
template <typename T>
void AppendNumber(T v, ValueFormat format, std::string* out) {
  if constexpr (std::is_floating_point_v<T>) {
    if (format == ValueFormat::kJson) return AppendJsonNumber(v, out);
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  out->append(buf, ec == std::errc() ? end : buf);
}

void AppendVariable(const Field& f, std::string_view v, ValueFormat format, std::string* out) {
  if (format == ValueFormat::kText) {
    out->append(v);
  } else if (f.type.type == FieldType::kBytes) {
    AppendJsonBase64(v, out);
  } else {
    AppendJsonString(v, out);
  }
}

void AppendVector(const uint8_t* p, uint32_t dim, ValueFormat format, std::string* out) {
  const bool json = format == ValueFormat::kJson;
  if (json) out->push_back('[');
  for (uint32_t d = 0; d < dim; ++d) {
    if (d > 0) out->push_back(',');
    AppendNumber(LoadUnaligned<float>(p + 4 * d), format, out);
  }
  if (json) out->push_back(']');
}

// The longest JSON text of one fixed-width value: "false", "-2147483648",
// "-9223372036854775808", "-1.1754944e-38", "-2.2250738585072014e-308".
size_t MaxJsonChars(const TypeSpec& t) {
  switch (t.type) {
    case FieldType::kBool:
      return 5;
    case FieldType::kInt32:
      return 11;
    case FieldType::kInt64:
      return 20;
    case FieldType::kFloat32:
      return 16;
    case FieldType::kFloat64:
      return 24;
    case FieldType::kFloat32Vector:
      return 2 + size_t{t.dim} * 17;
    default:
      return 4;
  }
}

}  // namespace

uint64_t JsonValuesBound(const ReadResult& read, int fi) {
  const Field& f = read.view->fields[fi];
  const size_t rows = read.rows.size();
  if (!IsVariableWidth(f.type.type)) return uint64_t{rows} * MaxJsonChars(f.type);
  uint64_t bytes = 0;
  for (size_t i = 0; i < rows; ++i) {
    const std::string_view v = ServedValueOf(read, i, fi).raw;
    bytes += f.type.type == FieldType::kBytes ? 2 + 4 * ((v.size() + 2) / 3) : JsonStringSize(v);
  }
  return bytes;
}

void AppendFieldValue(const Field& f, const RowReader* row, size_t fi, ValueFormat format,
                      std::string* out) {
  const bool set = row != nullptr && row->present(fi);
  if (IsVariableWidth(f.type.type)) {
    return AppendVariable(f, set ? row->Var(fi) : std::string_view(f.default_raw), format, out);
  }
  const auto* p = set ? row->FixedPtr(fi) : reinterpret_cast<const uint8_t*>(f.default_raw.data());
  const bool json = format == ValueFormat::kJson;
  switch (f.type.type) {
    case FieldType::kBool:
      out->append(*p != 0 ? (json ? "true" : "1") : (json ? "false" : "0"));
      return;
    case FieldType::kInt32:
      return AppendNumber(LoadUnaligned<int32_t>(p), format, out);
    case FieldType::kInt64:
      return AppendNumber(LoadUnaligned<int64_t>(p), format, out);
    case FieldType::kFloat32:
      return AppendNumber(LoadUnaligned<float>(p), format, out);
    case FieldType::kFloat64:
      return AppendNumber(LoadUnaligned<double>(p), format, out);
    case FieldType::kFloat32Vector:
      return AppendVector(p, f.type.dim, format, out);
    default:
      if (json) out->append("null");
  }
}

}  // namespace quiver
