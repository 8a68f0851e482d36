#include <cstring>
#include <vector>

#include "bench/load_driver.h"
#include "protocol/frame.h"

namespace quiver::bench {

ReplyParser QuiverReplyParser() {
  auto aligned = std::make_shared<std::vector<uint64_t>>();
  return [aligned](const uint8_t* data, size_t size, bool* error) -> ptrdiff_t {
    if (size < 4) return 0;
    uint32_t body;
    std::memcpy(&body, data, 4);
    if (size < 4 + size_t{body}) return 0;
    const size_t total = 4 + size_t{body};
    aligned->resize((total + 7) / 8);
    std::memcpy(aligned->data(), data, total);
    const fb::Response* r =
        protocol::VerifyResponse({reinterpret_cast<const uint8_t*>(aligned->data()), total});
    if (r == nullptr) return -1;
    *error = r->code() != fb::StatusCode::Ok;
    return static_cast<ptrdiff_t>(total);
  };
}

namespace {

// Returns the offset just past the CRLF-terminated line starting at pos, or 0.
size_t LineEnd(const uint8_t* d, size_t n, size_t pos) {
  const void* cr = std::memchr(d + pos, '\r', n - pos);
  if (cr == nullptr) return 0;
  const size_t at = static_cast<const uint8_t*>(cr) - d;
  return at + 1 < n ? at + 2 : 0;
}

long long Number(const uint8_t* d, size_t from, size_t to) {
  long long v = 0;
  bool neg = false;
  for (size_t i = from; i < to; ++i) {
    if (d[i] == '-')
      neg = true;
    else if (d[i] >= '0' && d[i] <= '9')
      v = v * 10 + (d[i] - '0');
  }
  return neg ? -v : v;
}

// Parses one RESP2 value at pos; returns the end offset, 0 if incomplete.
size_t ParseResp(const uint8_t* d, size_t n, size_t pos, bool* error, bool* broken) {
  if (pos >= n) return 0;
  const size_t end = LineEnd(d, n, pos);
  if (end == 0) return 0;
  switch (d[pos]) {
    case '+':
    case ':':
      return end;
    case '-':
      *error = true;
      return end;
    case '$': {
      const long long len = Number(d, pos + 1, end - 2);
      if (len < 0) return end;
      const size_t total = end + static_cast<size_t>(len) + 2;
      return total <= n ? total : 0;
    }
    case '*': {
      long long count = Number(d, pos + 1, end - 2);
      size_t at = end;
      for (long long i = 0; i < count; ++i) {
        at = ParseResp(d, n, at, error, broken);
        if (at == 0) return 0;
      }
      return at;
    }
    default:
      *broken = true;
      return 0;
  }
}

}  // namespace

ReplyParser RespReplyParser() {
  return [](const uint8_t* data, size_t size, bool* error) -> ptrdiff_t {
    bool broken = false;
    const size_t end = ParseResp(data, size, 0, error, &broken);
    return broken ? -1 : static_cast<ptrdiff_t>(end);
  };
}

}  // namespace quiver::bench
