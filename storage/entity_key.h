// Entity keys: the canonical byte encoding of an entity's join-key values.
// An entity with one join key is keyed by the value's bytes as they are; one
// with several by each value as a varint length followed by its bytes, so
// that ("ab","c") and ("a","bc") never collide. Pure functions.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver {

// Appends the encoding of `parts` (one value per join key) to *out.
// Fails if a value is empty or the key is longer than 65,535 bytes.
Status EncodeEntityKey(std::span<const std::string_view> parts, std::string* out);

// The join-key values of an encoded key with `key_count` join keys.
Result<std::vector<std::string>> DecodeEntityKey(std::string_view key, size_t key_count);

}  // namespace quiver
