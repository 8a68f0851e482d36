// libFuzzer target: arbitrary bytes as a native-protocol stream, through
// the frame reader and the request handler, against a real store. Nothing
// may crash, leak or read out of bounds; every frame gets an answer.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>

#include "fuzz/fixture.h"
#include "protocol/frame.h"
#include "server/native/handler.h"
#include "util/rcu.h"

namespace {

std::string MakeTempDir() {
  char dir[] = "/tmp/quiver-fuzz-XXXXXX";
  return mkdtemp(dir) ? dir : "";
}

// With a history (no WAL: fast), so that reads of the past are fuzzed too.
std::unique_ptr<quiver::HistoryStore> OpenHistory(const std::string& dir) {
  auto h = quiver::HistoryStore::Open({.dir = dir, .durability = quiver::Durability::kNone});
  if (!h.ok()) std::abort();
  return std::move(*h);
}

struct Fixture {
  Fixture()
      : table(quiver::OnlineTable::Options{.shards = 4, .max_memory_bytes = 64 << 20}),
        dir(MakeTempDir()),
        history(OpenHistory(dir)),
        store(registry, table, history.get(), {}) {
    (void)store.Apply(R"(
entities: [{name: user, keys: [user_id]}, {name: pair, keys: [a, b]}]
views:
  - {name: v, entity: user, ttl: 1h, fields: [{name: i, type: int64}, {name: s, type: string},
     {name: vec, type: "float32[4]"}, {name: f, type: float64}, {name: b, type: bool}]}
  - {name: p, entity: pair, fields: [{name: x, type: int32}, {name: raw, type: bytes}]}
)");
  }
  ~Fixture() {
    history.reset();
    std::filesystem::remove_all(dir);
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  std::string dir;
  std::unique_ptr<quiver::HistoryStore> history;
  quiver::FeatureStore store;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture* fixture = &quiver::fuzz::Persistent<Fixture>();
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
      const bool well_formed = handler.Handle(*frame, &out);
      fixture->store.Commit(std::move(handler.writes()), nullptr);
      handler.writes().Clear();
      if (!well_formed) return 0;
    }
  }
  return 0;
}
