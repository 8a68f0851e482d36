// libFuzzer target: arbitrary bytes as a RESTORE or FUNCTION RESTORE payload
// (any client may send one). rdb::Read must refuse them cleanly, within its memory budget,
// or decode a value that quiver's own DUMP writes back into a payload
// decoding to the same value. The footer's checksum is recomputed over
// the input first, so the fuzzer reaches the decoders instead of stopping
// at the CRC.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "protocol/rdb/rdb.h"

namespace {

using quiver::rdb::Type;
using quiver::rdb::Value;

std::string Rewrite(const Value& v) {
  if (v.type == Type::kString) return quiver::rdb::Writer::String(v.text);
  quiver::rdb::Writer w(v.type);
  for (size_t i = 0; i < v.items.size(); ++i) {
    if (v.type == Type::kZSet) {
      w.Add(v.items[i], v.scores[i]);
    } else {
      w.Add(v.items[i]);
    }
  }
  return std::move(w).Finish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string payload(reinterpret_cast<const char*>(data), size);
  if (payload.size() >= 10) {  // a good checksum over whatever came before it
    const uint64_t crc = quiver::rdb::Crc64(0, std::string_view(payload).substr(0, size - 8));
    std::memcpy(payload.data() + size - 8, &crc, 8);
  }
  // As a FUNCTION RESTORE payload: the libraries' codes, written back alike.
  if (quiver::Result<std::vector<std::string>> codes = quiver::rdb::ReadFunctions(payload);
      codes.ok()) {
    const std::vector<std::string_view> views(codes->begin(), codes->end());
    quiver::Result<std::vector<std::string>> again =
        quiver::rdb::ReadFunctions(quiver::rdb::DumpFunctions(views));
    if (!again.ok() || *again != *codes) std::abort();
  }
  quiver::Result<Value> v = quiver::rdb::Read(payload, 1 << 20);
  if (!v.ok()) return 0;
  quiver::Result<Value> again = quiver::rdb::Read(Rewrite(*v), 1 << 21);
  // Scores compare bit for bit (-0 and 0 differ; NaN is refused).
  const auto same_bits = [](double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; };
  if (!again.ok() || again->type != v->type || again->text != v->text || again->items != v->items ||
      !std::equal(again->scores.begin(), again->scores.end(), v->scores.begin(), v->scores.end(),
                  same_bits)) {
    std::abort();
  }
  return 0;
}
