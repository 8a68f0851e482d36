// Little-endian fixed-width values appended to and read from byte strings:
// the encodings of durable state (window states, drift baselines). A
// reader never reads past its input; every Get says whether it could.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace quiver {

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
  size_t remaining() const { return in_.size(); }
  bool done() const { return in_.empty(); }

 private:
  std::string_view in_;
};

}  // namespace quiver
