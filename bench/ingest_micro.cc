// Micro-benchmark of Kafka ingestion's consumer side: watch events as
// bench/kafka_load.cc produces them, mapped from JSON (EventMapper) and
// applied through the windows of examples/streaming.yaml (Ingestor) in
// batches of 1,000, with the history on. The batches are dropped instead of
// committed, so this is the consumer thread's CPU alone, without the broker,
// RocksDB or the other cores: far steadier than bench/ingest_bench.sh.
//   build/release/bench/quiver_micro_bench --benchmark_filter=Ingest
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "service/event_mapper.h"
#include "storage/features/feature_store.h"
#include "storage/history/history_store.h"
#include "storage/streaming/ingestor.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr int kBatch = 1000;

// Batches of events for 2M users and 500k items, 1 ms apart.
class WatchEvents {
 public:
  std::vector<std::string> Next() {
    std::vector<std::string> batch;
    char value[256];
    for (int i = 0; i < kBatch; ++i) {
      const int n = std::snprintf(
          value, sizeof value,
          R"({"userId":"u%d","itemId":"i%d","watchDurationMin":%d.5,"progress":%.2f,"ts":%lld})",
          user_(rng_), item_(rng_), minutes_(rng_), progress_(rng_) / 100.0,
          static_cast<long long>(time_ms_++));
      batch.emplace_back(value, static_cast<size_t>(n));
    }
    return batch;
  }

 private:
  std::mt19937_64 rng_{42};
  std::uniform_int_distribution<int> user_{0, 1'999'999}, item_{0, 499'999}, minutes_{1, 120},
      progress_{0, 100};
  int64_t time_ms_ = 1'700'000'000'000;
};

void BM_IngestWatchEvents(benchmark::State& state) {
  rcu::ThreadRegistration reg;
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("quiver-ingest-bench-" + std::to_string(getpid()));
  {
    HistoryStore::Options history_options;
    history_options.dir = dir.string();
    history_options.durability = Durability::kNone;
    auto history = HistoryStore::Open(history_options);
    if (!history.ok()) {
      state.SkipWithError(history.status().message().c_str());
      return;
    }
    Registry registry;
    OnlineTable table(OnlineTable::Options{});
    FeatureStore store(registry, table, history->get(), FeatureStore::Options{});
    std::ifstream file(QUIVER_SOURCE_DIR "/examples/streaming.yaml");
    const std::string definitions((std::istreambuf_iterator<char>(file)),
                                  std::istreambuf_iterator<char>());
    if (auto applied = store.Apply(definitions); !applied.ok()) {
      state.SkipWithError(applied.status().message().c_str());
      return;
    }
    Ingestor ingestor(store);
    EventMapper mapper("watch_events");
    mapper.Refresh(registry);
    WatchEvents generator;
    MappedEvent mapped;
    std::vector<SourceEvent> events;
    for (auto _ : state) {
      state.PauseTiming();
      const std::vector<std::string> batch = generator.Next();
      state.ResumeTiming();
      events.clear();
      for (const std::string& json : batch) {
        mapper.Map(json, &mapped);
        for (SourceEvent& e : mapped.events)
          events.push_back(std::move(e));
      }
      HistoryBatch out;
      IngestCounts counts;
      if (Status s = ingestor.Apply(events, &out, &counts); !s.ok()) {
        state.SkipWithError(s.message().c_str());
        break;
      }
      benchmark::DoNotOptimize(out.bytes());
    }
    state.SetItemsProcessed(state.iterations() * kBatch);
    state.counters["entities"] = static_cast<double>(ingestor.entities());
  }
  std::filesystem::remove_all(dir);
}
// 1M messages, as bench/ingest_bench.sh sends.
BENCHMARK(BM_IngestWatchEvents)->Iterations(1000)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace quiver
