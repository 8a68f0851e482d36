// The column accumulators behind quiver::WriteBatch. Internal.
#pragma once

#include <string>
#include <vector>

#include "quiver/client.h"

namespace quiver {

struct WriteBatch::Impl {
  struct ColumnData {
    std::string name;
    TypeSpec type;
    std::vector<uint8_t> fixed;        // fixed-width values, one per row
    std::vector<uint32_t> offsets{0};  // string/bytes
    std::string data;
    std::vector<uint8_t> nulls;  // 1 = the row does not set this field
    size_t rows() const { return nulls.size(); }
  };

  std::string view;
  std::vector<std::string> key_parts;
  std::vector<int64_t> event_times;  // per row; kNow = unset
  std::vector<ColumnData> columns;
  Status error;  // first misuse (type clash, Set before Row), reported by Put
  // Drawn when the batch is first sent; cleared when it changes, so that
  // sending it again unchanged is a retry (Client::Put).
  std::string write_id;

  // The column for `field`, created on first use, padded to the rows before
  // the current one. nullptr (and error set) on misuse.
  ColumnData* ColumnFor(std::string_view field, TypeSpec type);
  void SetFixed(std::string_view field, TypeSpec type, const void* bytes, size_t width);
  void SetVar(std::string_view field, TypeSpec type, std::string_view bytes);
  // Pads every column to `rows` rows.
  void PadAll(size_t rows);
};

}  // namespace quiver
