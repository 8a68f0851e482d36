// Field types of feature views, shared by the server, the protocol and the
// client. Pure values; safe from any thread.
#pragma once

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "quiver/status.h"

namespace quiver {

// Wire-stable numbers: the same values travel in the protocol's FieldType.
enum class FieldType : uint8_t {
  kBool = 0,
  kInt32 = 1,
  kInt64 = 2,
  kFloat32 = 3,
  kFloat64 = 4,
  kString = 5,
  kBytes = 6,
  kFloat32Vector = 7,  // float32[N]; N is the field's dim
};

struct TypeSpec {
  FieldType type = FieldType::kInt64;
  uint32_t dim = 0;  // N for float32[N]; 0 otherwise

  bool operator==(const TypeSpec&) const = default;
};

// "int64", "float32[32]".
std::string TypeName(TypeSpec spec);

// Parses "bool", "int32", "int64", "float32", "float64", "string", "bytes",
// "float32[N]" (1 <= N <= 65536). Fails with InvalidArgument naming the text.
Result<TypeSpec> ParseTypeName(std::string_view text);

// Bytes one value occupies in a packed row, or 0 for variable-width types.
size_t FixedWidth(TypeSpec spec);

inline bool IsVariableWidth(FieldType t) {
  return t == FieldType::kString || t == FieldType::kBytes;
}

// ---- implementation ----

inline std::string TypeName(TypeSpec spec) {
  switch (spec.type) {
    case FieldType::kBool:
      return "bool";
    case FieldType::kInt32:
      return "int32";
    case FieldType::kInt64:
      return "int64";
    case FieldType::kFloat32:
      return "float32";
    case FieldType::kFloat64:
      return "float64";
    case FieldType::kString:
      return "string";
    case FieldType::kBytes:
      return "bytes";
    case FieldType::kFloat32Vector:
      return "float32[" + std::to_string(spec.dim) + "]";
  }
  return "unknown";
}

inline Result<TypeSpec> ParseTypeName(std::string_view text) {
  static constexpr std::pair<std::string_view, FieldType> kScalars[] = {
      {"bool", FieldType::kBool},       {"int32", FieldType::kInt32},
      {"int64", FieldType::kInt64},     {"float32", FieldType::kFloat32},
      {"float64", FieldType::kFloat64}, {"string", FieldType::kString},
      {"bytes", FieldType::kBytes},
  };
  for (const auto& [name, type] : kScalars) {
    if (text == name) return TypeSpec{type, 0};
  }
  constexpr std::string_view kVec = "float32[";
  if (text.size() > kVec.size() + 1 && text.substr(0, kVec.size()) == kVec && text.back() == ']') {
    std::string_view digits = text.substr(kVec.size(), text.size() - kVec.size() - 1);
    uint32_t dim = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), dim);
    if (ec == std::errc() && end == digits.data() + digits.size() && dim >= 1 && dim <= 65536) {
      return TypeSpec{FieldType::kFloat32Vector, dim};
    }
  }
  return Status::InvalidArgument("unknown field type '" + std::string(text) +
                                 "' (expected bool, int32, int64, float32, float64, string, "
                                 "bytes or float32[N] with 1 <= N <= 65536)");
}

inline size_t FixedWidth(TypeSpec spec) {
  switch (spec.type) {
    case FieldType::kBool:
      return 1;
    case FieldType::kInt32:
      return 4;
    case FieldType::kInt64:
      return 8;
    case FieldType::kFloat32:
      return 4;
    case FieldType::kFloat64:
      return 8;
    case FieldType::kString:
      return 0;
    case FieldType::kBytes:
      return 0;
    case FieldType::kFloat32Vector:
      return 4u * spec.dim;
  }
  return 0;
}

}  // namespace quiver
