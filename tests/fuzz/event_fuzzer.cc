// libFuzzer target: arbitrary bytes as a source event (JSON), through the
// event mapper and the ingestor's windows into a store, then the clock
// moved on. Nothing may crash, overflow or read out of bounds; a refused
// event changes nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "fuzz/fixture.h"
#include "service/event_mapper.h"
#include "storage/streaming/ingestor.h"
#include "util/rcu.h"

namespace {

struct Fixture {
  Fixture()
      : table(quiver::OnlineTable::Options{.shards = 4, .max_memory_bytes = 64 << 20}),
        store(registry, table, nullptr, {}),
        ingestor(store),
        mapper("ev") {
    const auto applied = store.Apply(R"(
sources: [{name: ev, kafka: {topic: t}, event_time: "$.ts"}]
entities: [{name: user, keys: [user_id]}, {name: pair, keys: [a, b]}]
views:
  - name: w
    entity: user
    source: ev
    keys: {user_id: "$.u"}
    fields:
      - {name: c, type: int64, agg: count, window: 10s, hop: 1s}
      - {name: s, type: float32, agg: sum, of: "$.x", window: 1h, hop: 7s}
      - {name: m, type: int32, agg: mean, of: "$.x", window: 5s, hop: 5s}
      - {name: lo, type: float64, agg: min, of: "$.x"}
      - {name: hi, type: int64, agg: max, of: "$.n.v[1]", window: 3s, hop: 1s}
      - {name: l, type: string, agg: last, of: "$.s", window: 2s, hop: 1s}
      - {name: b, type: bool, of: "$.b"}
      - {name: vec, type: "float32[3]", of: "$.vec"}
  - name: p
    entity: pair
    source: ev
    keys: {a: "$.u", b: "$['b key']"}
    fields: [{name: raw, type: bytes, agg: last, of: "$.s"}]
)");
    if (!applied.ok()) std::abort();
    mapper.Refresh(registry);
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  quiver::FeatureStore store;
  quiver::Ingestor ingestor;
  quiver::EventMapper mapper;
  quiver::MappedEvent mapped;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture* fixture = &quiver::fuzz::Persistent<Fixture>();
  fixture->mapper.Map({reinterpret_cast<const char*>(data), size}, &fixture->mapped);
  quiver::IngestCounts counts;
  if (!fixture->ingestor.Apply(fixture->mapped.events, nullptr, &counts).ok()) std::abort();
  int64_t until = 0;
  if (size >= 8) std::memcpy(&until, data, 8);
  if (!fixture->ingestor.Advance(until % (int64_t{1} << 50), nullptr, &counts).ok()) std::abort();
  return 0;
}
