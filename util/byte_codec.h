// Little-endian fixed-width values appended to and read from byte strings:
// the encodings of durable state (window states, drift baselines). A
// reader never reads past its input; every Get says whether it could.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace quiver {

// A fixed-width value of type T at p, which may be unaligned (packed rows,
// field defaults, packed window states), and back.
template <typename T>
T LoadUnaligned(const void* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}
template <typename T>
void StoreUnaligned(void* p, T v) {
  std::memcpy(p, &v, sizeof(T));
}

template <typename T>
void Put(std::string* out, T v) {
  out->append(reinterpret_cast<const char*>(&v), sizeof(T));
}

// Varints: 7 bits a byte, the lowest first, the high bit set while more
// follow. At most 10 bytes for a 64-bit value.
inline size_t VarintSize(size_t n) {
  size_t size = 1;
  for (; n >= 0x80; n >>= 7)
    ++size;
  return size;
}

// Writes n's varint at p (room for 10 bytes); returns its length.
inline size_t PutVarint(size_t n, char* p) {
  size_t i = 0;
  for (;; n >>= 7) {
    p[i++] = static_cast<char>((n & 0x7f) | (n >= 0x80 ? 0x80 : 0));
    if (n < 0x80) return i;
  }
}

inline void AppendVarint(size_t n, std::string* out) {
  char bytes[10];
  out->append(bytes, PutVarint(n, bytes));
}

class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  template <typename T>
  bool Get(T* v) {
    if (in_.size() < sizeof(T)) return false;
    std::memcpy(v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
    return true;
  }
  bool Bytes(size_t n, std::string* out) {
    if (in_.size() < n) return false;
    out->assign(in_.data(), n);
    in_.remove_prefix(n);
    return true;
  }
  // A varint of at most 10 bytes whose value fits in 64 bits.
  bool Varint(uint64_t* v) {
    uint64_t value = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) return false;
      const auto byte = static_cast<uint8_t>(in_[0]);
      in_.remove_prefix(1);
      if (shift == 63 && byte > 1) return false;
      value |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if (!(byte & 0x80)) {
        *v = value;
        return true;
      }
    }
    return false;
  }
  // The next n bytes, in place.
  bool View(size_t n, std::string_view* out) {
    if (in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  // A varint length, then that many bytes, in place.
  bool Sized(std::string_view* out) {
    uint64_t n = 0;
    return Varint(&n) && n <= in_.size() && View(static_cast<size_t>(n), out);
  }
  std::string_view rest() const { return in_; }
  size_t remaining() const { return in_.size(); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace quiver
