// Micro-benchmarks of the online table and the native encoding.
//   build/release/bench/quiver_micro_bench
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "protocol/frame.h"
#include "server/native/codec.h"
#include "storage/features/feature_store.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr int kKeys = 1'000'000;

Record* MakeRecord(std::string_view key, int64_t event_time) {
  Record* r = Record::Allocate(1, key, 144);  // a user_profile-sized row
  std::memset(r->mutable_value(), 0, 144);
  r->event_time_ms = event_time;
  return r;
}

std::vector<std::string> Keys() {
  std::vector<std::string> keys;
  for (int i = 0; i < kKeys; ++i)
    keys.push_back("u" + std::to_string(i));
  return keys;
}

OnlineTable& FilledTable() {
  static OnlineTable* table = [] {
    rcu::ThreadRegistration reg;
    auto* t = new OnlineTable(OnlineTable::Options{});
    rcu::ReadLock lock;
    for (const std::string& k : Keys()) {
      (void)t->Upsert(1, k, 1, [&](const Record*) { return MakeRecord(k, 1); });
    }
    return t;
  }();
  return *table;
}

void BM_TableFind(benchmark::State& state) {
  OnlineTable& table = FilledTable();
  static const std::vector<std::string> keys = Keys();
  rcu::ThreadRegistration reg;
  std::mt19937 rng(state.thread_index());
  for (auto _ : state) {
    rcu::ReadLock lock;
    benchmark::DoNotOptimize(table.Find(1, keys[rng() % kKeys]));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableFind)->Threads(1)->Threads(2);

void BM_TableUpsert(benchmark::State& state) {
  OnlineTable& table = FilledTable();
  static const std::vector<std::string> keys = Keys();
  rcu::ThreadRegistration reg;
  std::mt19937 rng(state.thread_index() + 7);
  int64_t t = 2;
  for (auto _ : state) {
    rcu::ReadLock lock;
    const std::string& k = keys[rng() % kKeys];
    ++t;
    benchmark::DoNotOptimize(
        table.Upsert(1, k, t, [&](const Record*) { return MakeRecord(k, t); }));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableUpsert);

// Thread 0 writes continuously; the others read: read cost under writes.
void BM_TableFindUnderWrites(benchmark::State& state) {
  OnlineTable& table = FilledTable();
  static const std::vector<std::string> keys = Keys();
  rcu::ThreadRegistration reg;
  std::mt19937 rng(state.thread_index() + 13);
  int64_t t = 1'000'000'000;
  for (auto _ : state) {
    rcu::ReadLock lock;
    const std::string& k = keys[rng() % kKeys];
    if (state.thread_index() == 0) {
      ++t;
      benchmark::DoNotOptimize(
          table.Upsert(1, k, t, [&](const Record*) { return MakeRecord(k, t); }));
    } else {
      benchmark::DoNotOptimize(table.Find(1, k));
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_TableFindUnderWrites)->Threads(2);

// Encoding a columnar GetReply: 1 user_profile row, or 100 item_stats rows.
struct EncodeFixture {
  rcu::ThreadRegistration reg;
  Registry registry;
  OnlineTable table{OnlineTable::Options{}};
  FeatureStore store{registry, table, nullptr, {}};
  EncodeFixture() {
    (void)store.Apply(R"(
entities: [{name: user, keys: [user_id]}, {name: item, keys: [item_id]}]
views:
  - {name: user_profile, entity: user, fields: [{name: watch_count_7d, type: int64},
     {name: genre_preferences, type: "float32[32]"}, {name: avg_watch_duration_min, type: float32},
     {name: preferred_hour, type: int32}]}
  - {name: item_stats, entity: item, fields: [{name: popularity_score, type: float32},
     {name: genre, type: string}]}
)");
    std::vector<std::string> names;
    for (int i = 0; i < 100; ++i)
      names.push_back("i" + std::to_string(i));
    std::vector<std::string_view> keys(names.begin(), names.end());
    std::vector<float> scores(100, 0.5f);
    std::string genres;
    std::vector<uint32_t> offsets{0};
    for (int i = 0; i < 100; ++i)
      offsets.push_back(static_cast<uint32_t>((genres += "drama").size()));
    std::vector<ColumnInput> cols{{"popularity_score",
                                   {FieldType::kFloat32, 0},
                                   {reinterpret_cast<const uint8_t*>(scores.data()), 400},
                                   {},
                                   {},
                                   {}},
                                  {"genre",
                                   {FieldType::kString, 0},
                                   {},
                                   offsets,
                                   {reinterpret_cast<const uint8_t*>(genres.data()), genres.size()},
                                   {}}};
    (void)store.Write(WriteRequest{"item_stats", keys, {}, cols}, nullptr);
    item_keys = names;
  }
  // Reads the items and encodes the answer frame into b, as the server does.
  void ReadAndEncode(const std::vector<std::string_view>& keys, flatbuffers::FlatBufferBuilder& b) {
    rcu::ReadLock lock;
    (void)store.Read(ReadRequest{"item_stats", {}, keys}, &result);
    b.Clear();
    auto reply = EncodeGetReply(b, result);
    fb::ResponseBuilder response(b);
    response.add_body_type(fb::ResponseBody::GetReply);
    response.add_body(reply.Union());
    b.FinishSizePrefixed(response.Finish());
  }
  std::vector<std::string> item_keys;
  ReadResult result;
};

void BM_EncodeRank100Items(benchmark::State& state) {
  static EncodeFixture* f = new EncodeFixture;
  rcu::ThreadRegistration reg;
  std::vector<std::string_view> keys(f->item_keys.begin(), f->item_keys.end());
  flatbuffers::FlatBufferBuilder b(64 * 1024);
  for (auto _ : state) {
    f->ReadAndEncode(keys, b);
    benchmark::DoNotOptimize(b.GetBufferPointer());
  }
  state.SetItemsProcessed(state.iterations() * 100);
  state.counters["bytes"] = static_cast<double>(b.GetSize());
}
BENCHMARK(BM_EncodeRank100Items);

void BM_VerifyRank100Items(benchmark::State& state) {
  static EncodeFixture* f = new EncodeFixture;
  rcu::ThreadRegistration reg;
  std::vector<std::string_view> keys(f->item_keys.begin(), f->item_keys.end());
  flatbuffers::FlatBufferBuilder b(64 * 1024);
  f->ReadAndEncode(keys, b);
  std::vector<uint64_t> frame((b.GetSize() + 7) / 8);
  std::memcpy(frame.data(), b.GetBufferPointer(), b.GetSize());
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        protocol::VerifyResponse({reinterpret_cast<const uint8_t*>(frame.data()), b.GetSize()}));
  }
  state.SetItemsProcessed(state.iterations() * 100);
}
BENCHMARK(BM_VerifyRank100Items);

// A batch of 100 whole user_profile rows (4 fields, 32 floats) as columns.
struct ProfileRows {
  static constexpr int kRows = 100;
  ProfileRows() : counts(kRows), prefs(kRows * 32), minutes(kRows), hours(kRows) {
    std::mt19937 rng(1);
    for (int i = 0; i < kRows; ++i) {
      counts[i] = rng() % 200;
      minutes[i] = static_cast<float>(rng() % 1000) / 10;
      hours[i] = static_cast<int32_t>(rng() % 24);
      for (int d = 0; d < 32; ++d)
        prefs[i * 32 + d] = static_cast<float>(rng() % 1000) / 1000;
    }
    columns = {Column("watch_count_7d", {FieldType::kInt64, 0}, counts),
               Column("genre_preferences", {FieldType::kFloat32Vector, 32}, prefs),
               Column("avg_watch_duration_min", {FieldType::kFloat32, 0}, minutes),
               Column("preferred_hour", {FieldType::kInt32, 0}, hours)};
  }
  template <typename T>
  static ColumnInput Column(std::string_view name, TypeSpec type, const std::vector<T>& v) {
    ColumnInput c;
    c.field = name;
    c.type = type;
    c.fixed = {reinterpret_cast<const uint8_t*>(v.data()), v.size() * sizeof(T)};
    return c;
  }
  static constexpr char kDefinitions[] = R"(
entities: [{name: user, keys: [user_id]}]
views:
  - name: user_profile
    entity: user
    fields:
      - {name: watch_count_7d, type: int64}
      - {name: genre_preferences, type: "float32[32]"}
      - {name: avg_watch_duration_min, type: float32}
      - {name: preferred_hour, type: int32}
)";
  std::vector<int64_t> counts;
  std::vector<float> prefs, minutes;
  std::vector<int32_t> hours;
  std::vector<ColumnInput> columns;
};

FeatureStore::Options StoreOptions(bool statistics) {
  FeatureStore::Options o;
  o.statistics = statistics;
  return o;
}

// FeatureStore::Write of the batch, statistics off (0) or on (1): the whole
// in-process write path, without the network around it.
void BM_WriteProfileRows(benchmark::State& state) {
  rcu::ThreadRegistration reg;
  Registry registry;
  OnlineTable table(OnlineTable::Options{});
  FeatureStore store(registry, table, nullptr, StoreOptions(state.range(0) != 0));
  (void)store.Apply(ProfileRows::kDefinitions);
  const ProfileRows rows;
  std::vector<std::string> keys;
  for (int i = 0; i < 100'000; ++i)
    keys.push_back("u" + std::to_string(i));
  std::vector<std::string_view> batch(ProfileRows::kRows);
  size_t next = 0;
  for (auto _ : state) {
    for (auto& k : batch) {
      k = keys[next];
      next = (next + 1) % keys.size();
    }
    WriteRequest w;
    w.view = "user_profile";
    w.key_parts = batch;
    w.columns = rows.columns;
    benchmark::DoNotOptimize(store.Write(w, nullptr));
  }
  state.SetItemsProcessed(state.iterations() * ProfileRows::kRows);
}
BENCHMARK(BM_WriteProfileRows)->Arg(0)->Arg(1);

// What statistics alone add per row: the batch counted into FeatureStats.
void BM_CountProfileRows(benchmark::State& state) {
  rcu::ThreadRegistration reg;
  Registry registry;
  OnlineTable table(OnlineTable::Options{});
  FeatureStore store(registry, table, nullptr, StoreOptions(false));
  (void)store.Apply(ProfileRows::kDefinitions);
  rcu::ReadLock lock;
  const ViewSchema& view = **registry.current().Resolve({"user_profile", 0});
  const ProfileRows rows;
  FeatureStats stats;
  for (auto _ : state) {
    FeatureStats::Writer w = stats.Begin(view, 1'000'000);
    for (int i = 0; i < ProfileRows::kRows; ++i) {
      w.Row();
      for (size_t f = 0; f < rows.columns.size(); ++f) {
        const size_t width = FixedWidth(rows.columns[f].type);
        w.Fixed(f, rows.columns[f].fixed.data() + i * width);
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * ProfileRows::kRows);
}
BENCHMARK(BM_CountProfileRows);

}  // namespace
}  // namespace quiver

BENCHMARK_MAIN();
