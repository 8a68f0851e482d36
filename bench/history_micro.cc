// Micro-benchmark for issue 30's history layouts: what writing a history
// version costs the whole process (RocksDB's background threads included),
// the way Kafka ingestion writes them today against the way a history kept
// at checkpoints of the source would.
//   Log    batches of 20,000 versions group-committed through the write-ahead
//          log and the memtable, as ingestion's batches are, then flushed;
//   Tables runs of 200,000 versions sorted and added as one table file each
//          (HistoryStore::IngestSorted): no log, no memtable, no flush.
// Each writes 1M versions in the key layout of history_key.h, two per watch
// event as examples/streaming.yaml's views write them (a user's row of 64
// bytes, a user-item row of 16), for events of 2M users and 500k items;
// then compacts the history, since either leaves table files to compact.
// Counters: cpu_us_per_version (written; compacted included).
//   build/release/bench/quiver_micro_bench --benchmark_filter=History
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "storage/history/history_key.h"
#include "storage/history/history_store.h"

namespace quiver {
namespace {

constexpr size_t kVersions = 1'000'000;

struct Version {
  std::string key, value;
};

// Two versions per event, in arrival order.
std::vector<Version> WatchEventVersions() {
  std::mt19937_64 rng(42);
  std::uniform_int_distribution<int> user(0, 1'999'999), item(0, 499'999);
  std::vector<Version> out;
  out.reserve(kVersions);
  const std::vector<uint8_t> user_row(64, 7), item_row(16, 9);
  int64_t time_ms = 1'700'000'000'000;
  uint64_t seq = 1;
  while (out.size() < kVersions) {
    const std::string u = "u" + std::to_string(user(rng));
    const std::string entities[] = {u, u + '\0' + "i" + std::to_string(item(rng))};
    for (uint32_t view = 1; view <= 2; ++view) {
      Version& v = out.emplace_back();
      history::AppendPrefix(view, entities[view - 1], &v.key);
      history::AppendTimeSeq(time_ms, seq++, &v.key);
      history::AppendHistoryValue(
          {history::ValueKind::kRow, time_ms, view == 1 ? user_row : item_row}, &v.value);
    }
    ++time_ms;
  }
  return out;
}

int64_t ProcessCpuNs() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return int64_t{t.tv_sec} * 1'000'000'000 + t.tv_nsec;
}

Status ThroughTheLog(HistoryStore& store, const std::vector<Version>& versions) {
  constexpr size_t kBatch = 20'000;
  for (size_t base = 0; base < versions.size(); base += kBatch) {
    HistoryBatch batch;
    for (size_t i = base; i < std::min(versions.size(), base + kBatch); ++i)
      batch.Put(HistoryStore::kHistory, versions[i].key, versions[i].value);
    store.Submit(std::move(batch), {});
  }
  store.Drain();
  QUIVER_RETURN_IF_ERROR(store.health());
  return store.Flush();
}

Status AsSortedTables(HistoryStore& store, const std::vector<Version>& versions) {
  constexpr size_t kRun = 200'000;
  std::vector<uint32_t> order;
  for (size_t base = 0; base < versions.size(); base += kRun) {
    order.resize(std::min(kRun, versions.size() - base));
    std::iota(order.begin(), order.end(), static_cast<uint32_t>(base));
    std::sort(order.begin(), order.end(),
              [&](uint32_t a, uint32_t b) { return versions[a].key < versions[b].key; });
    QUIVER_RETURN_IF_ERROR(store.IngestSorted(HistoryStore::kHistory, order.size(), [&](size_t i) {
      const Version& v = versions[order[i]];
      return HistoryStore::Entry{v.key, v.value};
    }));
  }
  return Status::Ok();
}

template <Status (*Write)(HistoryStore&, const std::vector<Version>&)>
void BM_HistoryWrite(benchmark::State& state) {
  const std::vector<Version> versions = WatchEventVersions();
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("quiver-history-bench-" + std::to_string(getpid()));
  int64_t written_ns = 0, compacted_ns = 0;
  for (auto _ : state) {
    std::filesystem::remove_all(dir);
    auto store = HistoryStore::Open({.dir = dir.string(), .durability = Durability::kAsync});
    if (!store.ok()) {
      state.SkipWithError(store.status().message().c_str());
      break;
    }
    const int64_t start = ProcessCpuNs();
    Status s = Write(**store, versions);
    const int64_t written = ProcessCpuNs();
    if (s.ok()) s = (*store)->CompactHistory();
    const int64_t compacted = ProcessCpuNs();
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
    written_ns += written - start;
    compacted_ns += compacted - start;
  }
  const double versions_written = static_cast<double>(state.iterations() * versions.size());
  state.counters["cpu_us_per_version"] = written_ns / 1e3 / versions_written;
  state.counters["with_compaction"] = compacted_ns / 1e3 / versions_written;
  state.SetItemsProcessed(state.iterations() * versions.size());
  std::filesystem::remove_all(dir);
}

BENCHMARK(BM_HistoryWrite<ThroughTheLog>)
    ->Name("BM_HistoryWrite/Log")
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_HistoryWrite<AsSortedTables>)
    ->Name("BM_HistoryWrite/Tables")
    ->Iterations(3)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace quiver
