// JSON text for values of a Column: what `quiver get --json` prints and how
// ViewInfo reports defaults. Internal to the client library and the CLI.
#pragma once

#include <string>
#include <string_view>

#include "quiver/client.h"

namespace quiver {

bool IsValidUtf8(std::string_view s);
// Appends s as a JSON string literal. UTF-8 text passes through; in other
// bytes each high byte becomes \u00XX, so the output is always valid JSON.
void AppendJsonString(std::string_view s, std::string* out);
// Appends the value of `row` in `column` as JSON (bytes as a base64 string).
void AppendJsonValue(const Column& column, size_t row, std::string* out);

}  // namespace quiver
