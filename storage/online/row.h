// Reading and building packed rows (layout in schema.h). Both are plain
// value types used by one thread at a time; neither owns the bytes it reads.
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <vector>

#include "storage/registry/schema.h"
#include "util/byte_codec.h"  // LoadUnaligned

namespace quiver {

class RowReader {
 public:
  RowReader(const RowLayout& layout, std::span<const uint8_t> row) : layout_(&layout), row_(row) {}

  // False if the row never received a value for the field (readers then
  // serve the field's default, flagged as missing).
  bool present(size_t field) const { return (row_[field / 8] >> (field % 8)) & 1; }

  template <typename T>
  T Fixed(size_t field) const {
    return LoadUnaligned<T>(FixedPtr(field));
  }
  const uint8_t* FixedPtr(size_t field) const { return row_.data() + layout_->offset(field); }
  std::string_view Var(size_t field) const;

 private:
  const RowLayout* layout_;
  std::span<const uint8_t> row_;
};

// Builds a new row from an optional base row (the current value, for
// merging) plus the fields being set. Variable-width values passed to SetVar
// must stay alive until WriteTo.
class RowBuilder {
 public:
  // base may be empty (a new row: no field present).
  RowBuilder(const ViewSchema& view, std::span<const uint8_t> base);

  void SetFixed(size_t field, const void* bytes, size_t width);
  void SetVar(size_t field, std::string_view bytes);
  // Sets a typed value; a string must stay alive until WriteTo.
  // REQUIRES: v holds the field type's alternative; monostate leaves the
  // field as it is.
  void SetValue(size_t field, const Value& v);

  size_t Size() const;
  void WriteTo(uint8_t* out) const;

 private:
  void MarkPresent(size_t field) { fixed_[field / 8] |= uint8_t(1u << (field % 8)); }

  const ViewSchema* view_;
  std::vector<uint8_t> fixed_;          // bitmap + fixed area, up to the var table
  std::vector<std::string_view> vars_;  // by var index
};

}  // namespace quiver
