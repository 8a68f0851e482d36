#include "client/cli/csv.h"

namespace quiver::cli {

Result<bool> CsvReader::Next(std::vector<std::string>* fields) {
  fields->clear();
  record_line_ = line_;
  std::streambuf& in = *in_.rdbuf();  // per-character reads without istream's sentries
  int c = in.sbumpc();
  if (c == EOF) return false;
  std::string field;
  bool quoted = false;
  for (;; c = in.sbumpc()) {
    if (c != EOF) ++offset_;
    if (quoted) {
      if (c == EOF) {
        return Status::InvalidArgument("line " + std::to_string(record_line_) +
                                       ": a quoted field is never closed");
      }
      if (c == '"') {
        if (in.sgetc() == '"') {
          field.push_back('"');
          in.sbumpc();
          ++offset_;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line_;
        field.push_back(static_cast<char>(c));
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\n' || c == EOF) {
      if (!field.empty() && field.back() == '\r') field.pop_back();
      fields->push_back(std::move(field));
      if (c == '\n') ++line_;
      return true;
    } else {
      field.push_back(static_cast<char>(c));
    }
  }
}

void AppendCsvField(std::string_view field, std::string* out) {
  if (field.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(field);
    return;
  }
  // Quoted, with each '"' doubled: copied a run at a time (a vector's
  // commas need the quotes, and vectors are most of a training set's text).
  out->push_back('"');
  for (size_t quote; (quote = field.find('"')) != std::string_view::npos;) {
    out->append(field.substr(0, quote + 1));
    out->push_back('"');
    field.remove_prefix(quote + 1);
  }
  out->append(field);
  out->push_back('"');
}

}  // namespace quiver::cli
