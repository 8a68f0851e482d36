// Pieces of the bitmap commands (server/resp/bitmaps.cc,
// server/resp/bitfield.cc) shared between their files.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "quiver/status.h"
#include "storage/online/record.h"

namespace quiver::resp {

// A bit offset (SETBIT, GETBIT, BITFIELD): 0 to 2^32 - 1, the bits of a
// 512 MB string; with hash_allowed (BITFIELD), "#N" means N fields of
// `width` bits. Redis's error otherwise.
Result<uint64_t> ParseBitOffset(std::string_view text, bool hash_allowed, int width);

// A string record's bytes (none for nullptr).
std::span<const uint8_t> BytesOf(const Record* r);

}  // namespace quiver::resp
