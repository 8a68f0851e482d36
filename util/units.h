// Sizes and durations as people write them in flags, config files, view
// definitions and CONFIG SET: the one parser (and formatter) of each.
// Pure functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

// "1048576", "512MB", "4GiB", "2g", "64kb" -> bytes. Units, in any case: B,
// K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB, all powers of 1024 (Redis, unlike
// quiver, reads a bare "1k" as 1000). Fails on a negative number, an
// unknown unit or an overflow.
Result<int64_t> ParseByteSize(std::string_view text);
// Bytes in the largest unit that divides them exactly, as ParseByteSize
// reads them back: 67108864 -> "64MB", 2048 -> "2KB"; 0 and sizes that are
// not a whole number of KB stay plain: "0", "1000".
std::string FormatByteSize(int64_t bytes);

// "500ms", "30s", "5m", "2h", "7d", "1w" -> milliseconds; "0" -> 0.
Result<int64_t> ParseDuration(std::string_view text);
// Milliseconds in the largest unit that divides them exactly: 3600000 ->
// "1h", 1500 -> "1500ms", 0 -> "0".
std::string FormatDuration(int64_t ms);

}  // namespace quiver
