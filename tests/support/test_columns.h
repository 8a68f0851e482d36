// Write columns that own their bytes, for tests that call
// FeatureStore::Write directly.
#pragma once

#include <cstring>
#include <string>
#include <vector>

#include "storage/features/feature_store.h"

namespace quiver {

// A write column owning its bytes.
struct TestColumn {
  std::string name;
  TypeSpec type;
  std::vector<uint8_t> fixed;
  std::vector<uint32_t> offsets;
  std::string data;
  std::vector<uint8_t> nulls;

  ColumnInput input() const {
    return ColumnInput{
        name, type, fixed, offsets, {reinterpret_cast<const uint8_t*>(data.data()), data.size()},
        nulls};
  }
};

template <typename T>
TestColumn Fixed(std::string name, FieldType type, std::vector<T> values, uint32_t dim = 0) {
  TestColumn c;
  c.name = std::move(name);
  c.type = TypeSpec{type, dim};
  c.fixed.resize(values.size() * sizeof(T));
  std::memcpy(c.fixed.data(), values.data(), c.fixed.size());
  return c;
}

inline TestColumn Strings(std::string name, std::vector<std::string> values,
                          FieldType type = FieldType::kString) {
  TestColumn c;
  c.name = std::move(name);
  c.type = TypeSpec{type, 0};
  c.offsets.push_back(0);
  for (const auto& v : values) {
    c.data += v;
    c.offsets.push_back(static_cast<uint32_t>(c.data.size()));
  }
  return c;
}

}  // namespace quiver
