// libFuzzer target: arbitrary bytes as a native-protocol stream, through
// the frame reader and the request handler, against a real store. Nothing
// may crash, leak or read out of bounds; every frame gets an answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>

#include "protocol/frame.h"
#include "server/native_handler.h"
#include "storage/rcu.h"

namespace {

struct Fixture {
  Fixture()
      : table(quiver::OnlineTable::Options{.shards = 4, .max_memory_bytes = 64 << 20}),
        store(registry, table, {}) {
    (void)store.Apply(R"(
entities: [{name: user, keys: [user_id]}, {name: pair, keys: [a, b]}]
views:
  - {name: v, entity: user, ttl: 1h, fields: [{name: i, type: int64}, {name: s, type: string},
     {name: vec, type: "float32[4]"}, {name: f, type: float64}, {name: b, type: bool}]}
  - {name: p, entity: pair, fields: [{name: x, type: int32}, {name: raw, type: bytes}]}
)");
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  quiver::FeatureStore store;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = [] {
    auto* f = new Fixture;
    // Tear down before LeakSanitizer's exit check: the table's slots hold
    // tagged pointers, which LSan does not see as references to the rows.
    std::atexit([] { delete fixture; });
    return f;
  }();
  quiver::NativeHandler handler(fixture->store, {.max_frame_bytes = 1 << 20});
  quiver::protocol::FrameReader reader(1 << 20);
  flatbuffers::FlatBufferBuilder out;
  // Feed in two pieces to exercise partial frames.
  const size_t half = size / 2;
  for (auto [p, n] : {std::pair{data, half}, std::pair{data + half, size - half}}) {
    std::span<uint8_t> space = reader.WritableSpace(n);
    if (n > 0) std::memcpy(space.data(), p, n);
    reader.Commit(n);
    for (;;) {
      auto frame = reader.Next();
      if (!frame.ok() || frame->empty()) break;
      if (!handler.Handle(*frame, &out)) return 0;
    }
  }
  return 0;
}
