#include "client/json.h"

#include "protocol/json_text.h"

namespace quiver {

void AppendJsonValue(const Column& column, size_t row, std::string* out) {
  switch (column.type().type) {
    case FieldType::kBool:
      out->append(column.bool_value(row) ? "true" : "false");
      break;
    case FieldType::kInt32:
      out->append(std::to_string(column.int32_value(row)));
      break;
    case FieldType::kInt64:
      out->append(std::to_string(column.int64_value(row)));
      break;
    case FieldType::kFloat32:
      AppendJsonNumber(column.float32_value(row), out);
      break;
    case FieldType::kFloat64:
      AppendJsonNumber(column.float64_value(row), out);
      break;
    case FieldType::kString:
      AppendJsonString(column.string_value(row), out);
      break;
    case FieldType::kBytes:
      AppendJsonBase64(column.string_value(row), out);
      break;
    case FieldType::kFloat32Vector: {
      out->push_back('[');
      bool first = true;
      for (float f : column.vector_value(row)) {
        if (!first) out->push_back(',');
        first = false;
        AppendJsonNumber(f, out);
      }
      out->push_back(']');
      break;
    }
  }
}

}  // namespace quiver
