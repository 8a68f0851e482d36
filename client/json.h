// JSON text for values of a Column: what `quiver get --json` prints and how
// ViewInfo reports defaults. Internal to the client library and the CLI.
#pragma once

#include <string>
#include <string_view>

#include "protocol/json_text.h"
#include "quiver/client.h"

namespace quiver {

// Appends the value of `row` in `column` as JSON (bytes as a base64 string).
void AppendJsonValue(const Column& column, size_t row, std::string* out);

}  // namespace quiver
