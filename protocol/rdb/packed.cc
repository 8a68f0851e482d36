#include "protocol/rdb/packed.h"

#include <cstdint>
#include <cstring>

#include "util/byte_codec.h"

namespace quiver::rdb {

namespace {

// A little-endian signed integer of `bytes` bytes (1 to 8) at p.
int64_t SignedLe(const unsigned char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i)
    v = (v << 8) | p[i];
  if (bytes < 8 && (v >> (bytes * 8 - 1)) != 0) v |= ~uint64_t{0} << (bytes * 8);
  return static_cast<int64_t>(v);
}

Status Integer(int64_t v, EntryFn fn) {
  char text[24];
  const int n = std::snprintf(text, sizeof text, "%lld", static_cast<long long>(v));
  return fn(std::string_view(text, static_cast<size_t>(n)));
}

// A listpack entry's back-length: how many bytes its encoded size takes.
size_t BackLenSize(size_t entry) {
  size_t n = 1;
  for (size_t limit = 128; entry >= limit && n < 5; limit <<= 7)
    ++n;
  return n;
}

// One listpack entry at p (of `left` bytes): its encoded size (header and
// data, not the back-length) and, through fn, its value. 0 for a
// malformed entry.
struct Entry {
  size_t size = 0;     // header + data
  size_t header = 0;   // bytes before a string's data
  int int_bytes = 0;   // an integer's bytes after the header (0: a string)
  int64_t small = -1;  // an integer held in the header itself
  int small_bits = 0;  // ... of this many bits, signed if 13
};

bool ListpackEntry(const unsigned char* p, size_t left, Entry* e) {
  const unsigned char b = p[0];
  size_t len = 0;
  if ((b & 0x80) == 0) {
    e->small = b & 0x7f, e->small_bits = 7, e->size = 1;
    return true;
  }
  if ((b & 0xc0) == 0x80) {
    len = b & 0x3f, e->header = 1;
  } else if ((b & 0xe0) == 0xc0) {
    if (left < 2) return false;
    e->small = ((b & 0x1f) << 8) | p[1], e->small_bits = 13, e->size = 2;
    return true;
  } else if ((b & 0xf0) == 0xe0) {
    if (left < 2) return false;
    len = ((b & 0x0f) << 8) | p[1], e->header = 2;
  } else if (b == 0xf0) {
    if (left < 5) return false;
    uint32_t l32 = 0;
    std::memcpy(&l32, p + 1, 4);
    len = l32, e->header = 5;
  } else if (b >= 0xf1 && b <= 0xf4) {
    static constexpr int kBytes[] = {2, 3, 4, 8};
    e->int_bytes = kBytes[b - 0xf1], e->header = 1;
    e->size = 1 + static_cast<size_t>(e->int_bytes);
    return e->size <= left;
  } else {
    return false;  // 0xf5..0xfe are unused; 0xff ends the listpack
  }
  e->size = e->header + len;
  return len <= left && e->size <= left;
}

Status EmitEntry(const unsigned char* p, const Entry& e, EntryFn fn) {
  if (e.small_bits == 7) return Integer(e.small, fn);
  if (e.small_bits == 13) return Integer(e.small >= 4096 ? e.small - 8192 : e.small, fn);
  if (e.int_bytes > 0) return Integer(SignedLe(p + 1, e.int_bytes), fn);
  return fn(std::string_view(reinterpret_cast<const char*>(p + e.header), e.size - e.header));
}

// A ziplist entry's encoding at p (after its prev-length): as Entry.
bool ZiplistEntry(const unsigned char* p, size_t left, Entry* e) {
  const unsigned char b = p[0];
  size_t len = 0;
  switch (b >> 6) {
    case 0:
      len = b & 0x3f, e->header = 1;
      break;
    case 1:
      if (left < 2) return false;
      len = ((b & 0x3f) << 8) | p[1], e->header = 2;
      break;
    case 2:
      if (b != 0x80 || left < 5) return false;
      len = (size_t{p[1]} << 24) | (size_t{p[2]} << 16) | (size_t{p[3]} << 8) | p[4];
      e->header = 5;
      break;
    default:
      if (b >= 0xf1 && b <= 0xfd) {
        e->small = (b & 0x0f) - 1, e->small_bits = 7, e->size = 1;
        return true;
      }
      switch (b) {
        case 0xc0:
          e->int_bytes = 2;
          break;
        case 0xd0:
          e->int_bytes = 4;
          break;
        case 0xe0:
          e->int_bytes = 8;
          break;
        case 0xf0:
          e->int_bytes = 3;
          break;
        case 0xfe:
          e->int_bytes = 1;
          break;
        default:
          return false;
      }
      e->header = 1, e->size = 1 + static_cast<size_t>(e->int_bytes);
      return e->size <= left;
  }
  e->size = e->header + len;
  return len <= left && e->size <= left;
}

// Parses the entry at p (of `left` bytes before the end marker): its
// encoding starts *at bytes in, and the whole entry takes *step bytes.
using EntryParser = bool (*)(const unsigned char* p, size_t left, Entry* e, size_t* at,
                             size_t* step);

// The entries of a listpack or ziplist (`what`) from `first` to the end
// marker, with the count of its header (0xffff: not kept) checked.
Status WalkEntries(std::string_view blob, size_t first, uint16_t count, std::string_view what,
                   EntryFn fn, EntryParser parse) {
  const auto* p = reinterpret_cast<const unsigned char*>(blob.data()) + first;
  const unsigned char* const end =
      reinterpret_cast<const unsigned char*>(blob.data()) + blob.size() - 1;
  size_t seen = 0;
  while (p < end) {
    Entry e;
    size_t at = 0, step = 0;
    if (!parse(p, static_cast<size_t>(end - p), &e, &at, &step)) {
      return BadFormat("a " + std::string(what) + " entry is malformed");
    }
    QUIVER_RETURN_IF_ERROR(EmitEntry(p + at, e, fn));
    p += step;
    ++seen;
  }
  if (seen == 0 || (count != 0xffff && count != seen)) {
    return BadFormat("a " + std::string(what) +
                     " is empty or holds another count of entries than its header's");
  }
  return Status::Ok();
}

}  // namespace

Status BadFormat(std::string_view why) {
  return Status::InvalidArgument("Bad data format: " + std::string(why));
}

Result<std::string> LzfDecompress(std::string_view in, size_t out_len) {
  std::string out(out_len, '\0');
  const auto* ip = reinterpret_cast<const unsigned char*>(in.data());
  const unsigned char* const end = ip + in.size();
  size_t op = 0;
  while (ip < end) {
    size_t ctrl = *ip++;
    if (ctrl < 32) {  // a literal run of ctrl + 1 bytes
      ++ctrl;
      if (op + ctrl > out_len || ctrl > static_cast<size_t>(end - ip)) break;
      std::memcpy(out.data() + op, ip, ctrl);
      ip += ctrl, op += ctrl;
      continue;
    }
    size_t len = ctrl >> 5;  // a back reference
    size_t back = (ctrl & 0x1f) << 8;
    if (ip >= end) break;
    if (len == 7) {
      len += *ip++;
      if (ip >= end) break;
    }
    back += size_t{*ip++} + 1;
    len += 2;
    if (back > op || op + len > out_len) break;
    for (size_t i = 0; i < len; ++i, ++op)  // may overlap: byte by byte
      out[op] = out[op - back];
  }
  if (ip != end || op != out_len) return BadFormat("an LZF string does not decompress");
  return out;
}

Status ForEachListpackEntry(std::string_view lp, EntryFn fn) {
  ByteReader header(lp);
  uint32_t total = 0;
  uint16_t count = 0;
  if (!header.Get(&total) || !header.Get(&count) || total != lp.size() || lp.back() != '\xff') {
    return BadFormat("a listpack's header does not match its size");
  }
  // An entry: its encoding and data, then its size again (the back-length).
  return WalkEntries(lp, 6, count, "listpack", fn,
                     [](const unsigned char* p, size_t left, Entry* e, size_t* at, size_t* step) {
                       *at = 0;
                       if (!ListpackEntry(p, left, e)) return false;
                       *step = e->size + BackLenSize(e->size);
                       return *step <= left;
                     });
}

Status ForEachZiplistEntry(std::string_view zl, EntryFn fn) {
  ByteReader header(zl);
  uint32_t total = 0, tail = 0;
  uint16_t count = 0;
  if (!header.Get(&total) || !header.Get(&tail) || !header.Get(&count) || total != zl.size() ||
      zl.back() != '\xff') {
    return BadFormat("a ziplist's header does not match its size");
  }
  // An entry: the previous entry's size (1 or 5 bytes), then its encoding and data.
  return WalkEntries(zl, 10, count, "ziplist", fn,
                     [](const unsigned char* p, size_t left, Entry* e, size_t* at, size_t* step) {
                       *at = p[0] < 254 ? 1 : 5;
                       if (p[0] == 255 || *at >= left || !ZiplistEntry(p + *at, left - *at, e)) {
                         return false;
                       }
                       *step = *at + e->size;
                       return true;
                     });
}

Status ForEachIntsetEntry(std::string_view is, EntryFn fn) {
  ByteReader header(is);
  uint32_t width = 0, count = 0;
  if (!header.Get(&width) || !header.Get(&count) || (width != 2 && width != 4 && width != 8) ||
      count == 0 || header.remaining() != uint64_t{count} * width) {
    return BadFormat("an intset's header does not match its size");
  }
  const auto* p = reinterpret_cast<const unsigned char*>(is.data()) + 8;
  for (uint32_t i = 0; i < count; ++i, p += width)
    QUIVER_RETURN_IF_ERROR(Integer(SignedLe(p, static_cast<int>(width)), fn));
  return Status::Ok();
}

}  // namespace quiver::rdb
