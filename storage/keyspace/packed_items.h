// The packed value of a plain hash or list record: a count, then each item
// as a little-endian u32 length and its bytes. A hash's items alternate
// field and value, in insertion order (as a small Redis hash keeps them).
// Values are rebuilt whole on every change: reads take no lock.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace quiver {

// The items of a packed value, as views into it; false if it is malformed.
bool DecodeItems(std::span<const uint8_t> packed, std::vector<std::string_view>* items);
size_t PackedSize(std::span<const std::string_view> items);
// Writes PackedSize(items) bytes to out.
void PackItems(std::span<const std::string_view> items, uint8_t* out);

}  // namespace quiver
