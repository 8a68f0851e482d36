#include "server/resp/bit_ops.h"

#include <bit>

namespace quiver::resp::bits {

namespace {

// The bits of a byte at positions [from, to] (0 = most significant).
uint8_t Mask(unsigned from, unsigned to) {
  return static_cast<uint8_t>((0xffu >> from) & (0xffu << (7 - to)));
}

}  // namespace

uint64_t Count(std::span<const uint8_t> bytes) {
  uint64_t n = 0;
  size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    uint64_t word;
    __builtin_memcpy(&word, bytes.data() + i, 8);
    n += static_cast<uint64_t>(std::popcount(word));
  }
  for (; i < bytes.size(); ++i)
    n += static_cast<uint64_t>(std::popcount(bytes[i]));
  return n;
}

uint64_t CountRange(std::span<const uint8_t> bytes, uint64_t first, uint64_t last) {
  const uint64_t a = first / 8, b = last / 8;
  if (a == b) return std::popcount(static_cast<uint8_t>(bytes[a] & Mask(first % 8, last % 8)));
  return std::popcount(static_cast<uint8_t>(bytes[a] & Mask(first % 8, 7))) +
         Count(bytes.subspan(a + 1, b - a - 1)) +
         std::popcount(static_cast<uint8_t>(bytes[b] & Mask(0, last % 8)));
}

int64_t Find(std::span<const uint8_t> bytes, int bit, uint64_t first, uint64_t last) {
  const uint8_t skip = bit != 0 ? 0x00 : 0xff;  // a byte without the bit sought
  for (uint64_t i = first; i <= last;) {
    if (i % 8 == 0 && i + 7 <= last && bytes[i / 8] == skip) {
      i += 8;
      continue;
    }
    if (Get(bytes, i) == bit) return static_cast<int64_t>(i);
    ++i;
  }
  return -1;
}

int Get(std::span<const uint8_t> bytes, uint64_t i) {
  if (i / 8 >= bytes.size()) return 0;
  return (bytes[i / 8] >> (7 - i % 8)) & 1;
}

void Set(std::span<uint8_t> bytes, uint64_t i, int bit) {
  const auto mask = static_cast<uint8_t>(1u << (7 - i % 8));
  bytes[i / 8] = static_cast<uint8_t>(bit != 0 ? bytes[i / 8] | mask : bytes[i / 8] & ~mask);
}

uint64_t GetField(std::span<const uint8_t> bytes, uint64_t offset, int width) {
  uint64_t value = 0;
  for (int k = 0; k < width; ++k)
    value = (value << 1) | static_cast<uint64_t>(Get(bytes, offset + k));
  return value;
}

int64_t GetSignedField(std::span<const uint8_t> bytes, uint64_t offset, int width) {
  const uint64_t value = GetField(bytes, offset, width);
  if (width == 64) return static_cast<int64_t>(value);
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((value ^ sign) - sign);  // sign-extended
}

void SetField(std::span<uint8_t> bytes, uint64_t offset, int width, uint64_t value) {
  for (int k = 0; k < width; ++k)
    Set(bytes, offset + k, static_cast<int>((value >> (width - 1 - k)) & 1));
}

std::optional<int64_t> Add(int64_t value, int64_t incr, int width, bool is_signed,
                           Overflow overflow) {
  using Wide = __int128;
  const Wide base = is_signed ? Wide{value} : Wide{static_cast<uint64_t>(value)};
  const Wide sum = base + incr;
  const Wide max = is_signed ? (Wide{1} << (width - 1)) - 1 : (Wide{1} << width) - 1;
  const Wide min = is_signed ? -(Wide{1} << (width - 1)) : 0;
  if (sum >= min && sum <= max) return static_cast<int64_t>(sum);
  if (overflow == Overflow::kFail) return std::nullopt;
  if (overflow == Overflow::kSat) return static_cast<int64_t>(sum > max ? max : min);
  // Wrap: the low `width` bits, sign-extended for a signed field.
  const auto low =
      static_cast<uint64_t>(sum) & (width == 64 ? ~uint64_t{0} : (uint64_t{1} << width) - 1);
  if (!is_signed || width == 64) return static_cast<int64_t>(low);
  const uint64_t sign = uint64_t{1} << (width - 1);
  return static_cast<int64_t>((low ^ sign) - sign);
}

}  // namespace quiver::resp::bits
