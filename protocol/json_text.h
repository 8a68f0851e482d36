// JSON text shared by the client library (what `quiver get --json`
// prints) and the server's HTTP front end: strings escaped so the output is
// valid JSON whatever the bytes, numbers in their shortest exact form,
// bytes in base64.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {

bool IsValidUtf8(std::string_view s);
// Appends s as a JSON string literal. UTF-8 text passes through; in other
// bytes each high byte becomes \u00XX, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);
// The bytes AppendJsonString appends for s, quotes included.
size_t JsonStringSize(std::string_view s);
// Appends the shortest text that reads back to v; null if v is not finite
// (JSON has no NaN or Infinity).
void AppendJsonNumber(float v, std::string* out);
void AppendJsonNumber(double v, std::string* out);
// Appends s in base64 as a JSON string.
void AppendJsonBase64(std::string_view s, std::string* out);

// Writes a JSON document into a string, placing the commas: open an object
// or array, give keys (in objects) and values, close it.
//   JsonWriter w(&out);
//   w.Open('{').Key("n").Int(1).Key("xs").Open('[').Number(0.5).Close().Close();
class JsonWriter {
 public:
  explicit JsonWriter(std::string* out) : out_(out) {}
  JsonWriter& Open(char bracket);  // '{' or '['
  JsonWriter& Close();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view v);
  JsonWriter& Number(double v);  // null if not finite
  JsonWriter& Int(int64_t v);
  JsonWriter& Uint(uint64_t v);
  JsonWriter& Bool(bool v);
  JsonWriter& Null();

 private:
  void BeforeValue();
  std::string* out_;
  std::vector<char> open_;  // closing brackets of the open containers
  bool first_ = true;       // no value yet in the innermost container
  bool after_key_ = false;
};

}  // namespace quiver
