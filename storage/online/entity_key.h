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

// The encoded keys of a batch of entities. For an entity with one join key
// the canonical key is the value itself, so `views` point into the caller's
// values and nothing is copied; otherwise they point into `storage`.
struct EncodedKeys {
  std::vector<std::string_view> views;
  std::string storage;
  size_t size() const { return views.size(); }
};

// Encodes parts.size() / per_key keys, entity i being parts[i*per_key ..
// i*per_key+per_key-1], into *out (cleared first). Fails, naming the entity
// ("key 3: empty entity key value"), if a value is empty or a key is longer
// than 65,535 bytes. REQUIRES: parts.size() is a multiple of per_key >= 1.
Status EncodeEntityKeys(std::span<const std::string_view> parts, size_t per_key, EncodedKeys* out);

// The join-key values of an entity written as text (RESP feature keys, the
// HTTP API): the text itself for an entity with one join key (count 1),
// else the values joined by commas. Fails if the number of values is not
// count. The views point into `joined`.
Result<std::vector<std::string_view>> SplitJoinedKey(std::string_view joined, size_t count);

// The text SplitJoinedKey takes for an encoded key of `count` join-key
// values: the value itself, or the values joined by commas. A malformed
// encoding is rendered as it is.
std::string JoinedKey(std::string_view encoded, size_t count);

}  // namespace quiver
