// The bit arithmetic of Redis's bitmap commands on a string's bytes (bit 0
// is the most significant bit of byte 0, as in Redis). Pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <span>

namespace quiver::resp::bits {

// Set bits in bytes.
uint64_t Count(std::span<const uint8_t> bytes);
// Set bits among bits [first, last] (inclusive; within the bytes).
uint64_t CountRange(std::span<const uint8_t> bytes, uint64_t first, uint64_t last);
// The first bit equal to `bit` among bits [first, last] (inclusive;
// within the bytes), or -1.
int64_t Find(std::span<const uint8_t> bytes, int bit, uint64_t first, uint64_t last);

// Bit i; 0 past the end.
int Get(std::span<const uint8_t> bytes, uint64_t i);
void Set(std::span<uint8_t> bytes, uint64_t i, int bit);

// BITFIELD's fields: `width` bits (1 to 64) from bit `offset`, as an
// unsigned number (bits past the end read as 0).
uint64_t GetField(std::span<const uint8_t> bytes, uint64_t offset, int width);
// The field as a signed number (two's complement in `width` bits).
int64_t GetSignedField(std::span<const uint8_t> bytes, uint64_t offset, int width);
// Writes the low `width` bits of value. REQUIRES: the bytes hold the field.
void SetField(std::span<uint8_t> bytes, uint64_t offset, int width, uint64_t value);

// What BITFIELD does to a value out of its type's range.
enum class Overflow { kWrap, kSat, kFail };
// value + incr in a field of `width` bits, signed or not, with Redis's
// overflow rule: wrapped, saturated, or nullopt (FAIL) when out of range.
// For an unsigned field, value is read as uint64_t (a negative SET value
// is out of range).
std::optional<int64_t> Add(int64_t value, int64_t incr, int width, bool is_signed,
                           Overflow overflow);

}  // namespace quiver::resp::bits
