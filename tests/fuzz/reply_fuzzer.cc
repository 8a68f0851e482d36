// libFuzzer target: arbitrary bytes as a Redis server's replies to
// `quiver import-redis` (the server it copies from is not ours to trust).
// ParseReply must refuse them or parse a reply without reading past its
// input; a prefix of a parsed reply must be reported incomplete (0) or be
// refused, never parsed as something else.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "client/redis/resp_client.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  quiver::redis::Reply reply;
  quiver::Result<size_t> used = quiver::redis::ParseReply(in, &reply);
  if (!used.ok() || *used == 0) return 0;
  if (*used > size) std::abort();
  for (size_t n : {size_t{1}, *used / 2, *used - 1}) {
    quiver::redis::Reply part;
    quiver::Result<size_t> got = quiver::redis::ParseReply(in.substr(0, n), &part);
    if (got.ok() && *got != 0) std::abort();
  }
  return 0;
}
