// CSV as RFC 4180 has it: comma-separated, fields optionally quoted with
// '"', a quote inside a quoted field doubled, line breaks inside quotes
// allowed, lines ending in \n or \r\n.
#pragma once

#include <cstdint>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver::cli {

class CsvReader {
 public:
  explicit CsvReader(std::istream& in) : in_(in) {}
  // Reads the next record into *fields. Returns false at the end of input;
  // an unterminated quote is an error naming its line.
  Result<bool> Next(std::vector<std::string>* fields);
  // The line the last record started on (1-based).
  uint64_t line() const { return record_line_; }
  // Bytes consumed so far.
  uint64_t offset() const { return offset_; }

 private:
  std::istream& in_;
  uint64_t line_ = 1;
  uint64_t record_line_ = 0;
  uint64_t offset_ = 0;
};

// Appends one field, quoted if it holds a comma, quote or line break.
void AppendCsvField(std::string_view field, std::string* out);

}  // namespace quiver::cli
