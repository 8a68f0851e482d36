// JSON text shared by the client library (what `quiver get --json`
// prints) and the server's HTTP front end: strings escaped so the output is
// valid JSON whatever the bytes, numbers in their shortest exact form,
// bytes in base64.
#pragma once

#include <string>
#include <string_view>

namespace quiver {

bool IsValidUtf8(std::string_view s);
// Appends s as a JSON string literal. UTF-8 text passes through; in other
// bytes each high byte becomes \u00XX, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);
// Appends the shortest text that reads back to v; null if v is not finite
// (JSON has no NaN or Infinity).
void AppendJsonNumber(float v, std::string* out);
void AppendJsonNumber(double v, std::string* out);
// Appends s in base64 as a JSON string.
void AppendJsonBase64(std::string_view s, std::string* out);

}  // namespace quiver
