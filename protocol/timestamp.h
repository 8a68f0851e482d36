// Timestamps as users type them: RFC 3339 ("2026-11-23T07:00:00Z",
// "2026-11-23T08:00:00.250+01:00") or Unix milliseconds ("1763900000000").
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

Result<int64_t> ParseTimestampMs(std::string_view text);
// RFC 3339 in UTC with milliseconds: "2026-11-23T07:00:00.000Z".
std::string FormatTimestampMs(int64_t ms);

}  // namespace quiver
