// History in RocksDB: key order, as-of reads, ranges, retention, restart
// and point-in-time joins against brute-force references.
#include <algorithm>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <thread>

#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>

#include <gtest/gtest.h>

#include "storage/features/feature_store.h"
#include "storage/history/history_key.h"
#include "storage/online/row.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr char kDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
  - {name: item, keys: [item_id]}
views:
  - name: profile
    entity: user
    ttl: 100s
    fields:
      - {name: a, type: int64}
      - {name: b, type: int64, default: -1}
  - name: stats
    entity: item
    fields:
      - {name: pop, type: int64}
)";

constexpr int64_t kTtl = 100'000;

std::string TempDir() {
  char dir[] = "/tmp/quiver-history-test-XXXXXX";
  return mkdtemp(dir);
}

// ---- key encoding ----

TEST(HistoryKeyTest, VersionsSortNewestFirstAndTiesByLaterArrival) {
  std::vector<std::pair<int64_t, uint64_t>> versions = {
      {-5, 1}, {0, 2}, {7, 3}, {7, 9}, {1'700'000'000'000, 4}, {INT64_MIN, 5}, {INT64_MAX, 6}};
  std::vector<std::string> keys;
  for (auto [t, seq] : versions) {
    std::string k;
    history::AppendPrefix(3, "user-1", &k);
    history::AppendTimeSeq(t, seq, &k);
    keys.push_back(k);
    auto d = history::DecodeKey(k, true);
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->view_id, 3u);
    EXPECT_EQ(d->entity_key, "user-1");
    EXPECT_EQ(d->event_time_ms, t);
    EXPECT_EQ(d->seq, seq);
  }
  std::vector<size_t> order(keys.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) { return keys[x] < keys[y]; });
  std::vector<std::pair<int64_t, uint64_t>> sorted;
  for (size_t i : order)
    sorted.push_back(versions[i]);
  std::vector<std::pair<int64_t, uint64_t>> expected = versions;
  std::sort(expected.begin(), expected.end(), std::greater<>());
  EXPECT_EQ(sorted, expected);
}

TEST(HistoryKeyTest, PrefixLengthCoversViewAndEntityOnly) {
  std::string k;
  history::AppendPrefix(1, std::string(300, 'x'), &k);  // a two-byte length
  const size_t prefix = k.size();
  history::AppendTimeSeq(10, 1, &k);
  EXPECT_EQ(history::PrefixLength(k), prefix);
  EXPECT_EQ(history::PrefixLength(k.substr(0, prefix - 1)), 0u);  // truncated entity
  EXPECT_EQ(history::PrefixLength("abc"), 0u);
  EXPECT_FALSE(history::DecodeKey(k.substr(0, k.size() - 1), true).has_value());
}

TEST(HistoryKeyTest, ComparePrefixOrderSortsAsTheStoredPrefixes) {
  std::vector<std::string> keys = {"u9",
                                   "u10",
                                   "u1",
                                   "a",
                                   "u10",
                                   "",
                                   std::string(127, 'z'),
                                   std::string(128, 'a'),
                                   std::string(300, 'b'),
                                   std::string(129, 'a')};
  auto prefix = [](const std::string& k) {
    std::string p;
    history::AppendPrefix(7, k, &p);
    return p;
  };
  for (const std::string& a : keys) {
    for (const std::string& b : keys) {
      const int want = prefix(a).compare(prefix(b));
      const int got = history::ComparePrefixOrder(a, b);
      EXPECT_EQ(want < 0, got < 0) << a.size() << " vs " << b.size();
      EXPECT_EQ(want == 0, got == 0) << a.size() << " vs " << b.size();
    }
  }
}

// ---- the store ----

class HistoryTest : public ::testing::Test {
 protected:
  struct Instance {
    Instance(const std::string& dir, Durability durability, CachePolicy policy, int64_t* now) {
      auto h = HistoryStore::Open({.dir = dir, .durability = durability, .cache_policy = policy});
      EXPECT_TRUE(h.ok()) << h.status().ToString();
      if (h.ok()) history = std::move(*h);
      store = std::make_unique<FeatureStore>(
          registry, table, history.get(),
          // The clock stands before every event time (so nothing expires):
          // let event times be that far ahead of it.
          FeatureStore::Options{.max_future_skew_ms = int64_t{1} << 62,
                                .now_ms = [now] { return *now; }});
    }
    Registry registry;
    OnlineTable table{OnlineTable::Options{}};
    std::unique_ptr<HistoryStore> history;
    std::unique_ptr<FeatureStore> store;
  };

  HistoryTest() : dir_(TempDir()) {
    Open();
    Result<ApplyReport> r = store().Apply(kDefinitions);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }
  ~HistoryTest() override {
    instance_.reset();
    std::filesystem::remove_all(dir_);
  }

  void Open() {
    instance_ = std::make_unique<Instance>(dir_, durability_, cache_policy_, &now_ms_);
    ASSERT_NE(instance_->history, nullptr);
    Status s = store().Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  void Restart() {
    instance_.reset();
    Open();
  }
  FeatureStore& store() { return *instance_->store; }
  HistoryStore& history() { return *instance_->history; }

  // Writes int64 fields of one entity at event time t and waits for the commit.
  Result<WriteResult> Put(std::string_view view, std::string key, int64_t t,
                          std::vector<std::pair<std::string, int64_t>> values) {
    std::vector<std::string_view> keys{key};
    std::vector<int64_t> times{t};
    std::vector<ColumnInput> columns;
    for (auto& [name, v] : values) {
      columns.push_back(ColumnInput{
          name, TypeSpec{FieldType::kInt64, 0}, {reinterpret_cast<const uint8_t*>(&v), 8}});
    }
    HistoryBatch batch;
    Result<WriteResult> r = store().Write(WriteRequest{view, keys, times, columns}, &batch);
    store().Commit(std::move(batch), nullptr);
    history().Drain();
    return r;
  }

  // The int64 value of a field in a found row, or nullopt if missing.
  static std::optional<int64_t> Value(const ReadResult& r, size_t i, std::string_view field) {
    if (r.states[i] != RowState::kFound) return std::nullopt;
    const int fi = r.view->FieldIndex(field);
    RowReader row(r.view->layout, r.rows[i]);
    if (!row.present(fi)) return std::nullopt;
    return row.Fixed<int64_t>(fi);
  }

  std::optional<int64_t> Online(std::string_view view, std::string key, std::string_view field) {
    rcu::ReadLock lock;
    ReadResult r;
    std::vector<std::string_view> keys{key};
    EXPECT_TRUE(store().Read(ReadRequest{view, {}, keys}, &r).ok());
    return Value(r, 0, field);
  }

  std::optional<int64_t> AsOf(std::string_view view, std::string key, int64_t t,
                              std::string_view field, RowState* state = nullptr) {
    rcu::ReadLock lock;
    ReadResult r;
    std::vector<std::string_view> keys{key};
    std::vector<int64_t> times{t};
    Status s = store().ReadAsOf(AsOfRequest{view, {}, keys, times}, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (!s.ok()) return std::nullopt;
    if (state) *state = r.states[0];
    return Value(r, 0, field);
  }

  void CheckTrainingJoin(bool restart);

  rcu::ThreadRegistration registration_;
  std::string dir_;
  Durability durability_ = Durability::kSync;
  CachePolicy cache_policy_ = CachePolicy::kLru;
  int64_t now_ms_ = 0;  // before every event time + ttl: online values never expire here
  std::unique_ptr<Instance> instance_;
};

TEST_F(HistoryTest, AsOfFindsTheNewestVersionAtOrBeforeT) {
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 1}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 3000, {{"a", 3}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 2000, {{"a", 2}}).ok());  // late: history only
  EXPECT_EQ(Online("profile", "u1", "a"), 3);
  EXPECT_EQ(AsOf("profile", "u1", 999, "a"), std::nullopt);
  EXPECT_EQ(AsOf("profile", "u1", 1000, "a"), 1);  // exactly t
  EXPECT_EQ(AsOf("profile", "u1", 1999, "a"), 1);
  EXPECT_EQ(AsOf("profile", "u1", 2000, "a"), 2);
  EXPECT_EQ(AsOf("profile", "u1", 2999, "a"), 2);
  EXPECT_EQ(AsOf("profile", "u1", 5000, "a"), 3);
  EXPECT_EQ(AsOf("profile", "nobody", 5000, "a"), std::nullopt);
}

TEST_F(HistoryTest, AsOfHonoursTheTtlExactlyAtItsBoundary) {
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 1}}).ok());
  RowState state;
  EXPECT_EQ(AsOf("profile", "u1", 1000 + kTtl - 1, "a", &state), 1);
  EXPECT_EQ(state, RowState::kFound);
  // event time must be > t - ttl: at t = 1000 + ttl the version is too old.
  EXPECT_EQ(AsOf("profile", "u1", 1000 + kTtl, "a", &state), std::nullopt);
  EXPECT_EQ(state, RowState::kExpired);
  EXPECT_EQ(AsOf("profile", "u1", 500, "a", &state), std::nullopt);
  EXPECT_EQ(state, RowState::kMissing);
}

TEST_F(HistoryTest, TiesGoToTheLaterArrivalOnlineAndInHistory) {
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 1}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 2}}).ok());
  EXPECT_EQ(Online("profile", "u1", "a"), 2);
  EXPECT_EQ(AsOf("profile", "u1", 1000, "a"), 2);
  Restart();
  EXPECT_EQ(Online("profile", "u1", "a"), 2);
  EXPECT_EQ(AsOf("profile", "u1", 1000, "a"), 2);
}

TEST_F(HistoryTest, ALatePartialWriteMergesIntoTheVersionItFollows) {
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 1}, {"b", 10}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 3000, {{"a", 3}}).ok());  // b stays 10
  Result<WriteResult> late = Put("profile", "u1", 2000, {{"b", 20}});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->stale, 1u);
  EXPECT_EQ(AsOf("profile", "u1", 2500, "a"), 1);   // from the version at 1000
  EXPECT_EQ(AsOf("profile", "u1", 2500, "b"), 20);  // the late value
  EXPECT_EQ(AsOf("profile", "u1", 3000, "b"), 10);  // later versions are unchanged
  EXPECT_EQ(Online("profile", "u1", "b"), 10);
}

TEST_F(HistoryTest, RestartServesExactlyWhatWasServedAndLateEventsStayOut) {
  std::mt19937_64 rng(7);
  std::map<std::string, std::pair<int64_t, int64_t>> newest;  // key -> (time, value)
  for (int i = 0; i < 3000; ++i) {
    const std::string key = "u" + std::to_string(rng() % 500);
    const int64_t t = static_cast<int64_t>(rng() % 100'000);
    const int64_t v = static_cast<int64_t>(rng());
    ASSERT_TRUE(Put("profile", key, t, {{"a", v}}).ok());
    auto it = newest.find(key);
    if (it == newest.end() || t >= it->second.first) newest[key] = {t, v};
  }
  Restart();
  for (const auto& [key, tv] : newest)
    ASSERT_EQ(Online("profile", key, "a"), tv.second) << key;
  // A late event after the restart still does not replace the online value.
  const auto& [key, tv] = *newest.begin();
  Result<WriteResult> late = Put("profile", key, tv.first - 1, {{"a", -7}});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->stale, 1u);
  EXPECT_EQ(Online("profile", key, "a"), tv.second);
  EXPECT_EQ(AsOf("profile", key, tv.first - 1, "a"), -7);
}

TEST_F(HistoryTest, EveryDurabilityModeSurvivesACleanRestart) {
  for (Durability d : {Durability::kNone, Durability::kAsync, Durability::kSync}) {
    durability_ = d;
    Restart();
    const std::string key = "mode-" + std::string(DurabilityName(d));
    ASSERT_TRUE(Put("profile", key, 1000, {{"a", 5}}).ok());
    Restart();
    EXPECT_EQ(Online("profile", key, "a"), 5) << DurabilityName(d);
    EXPECT_EQ(AsOf("profile", key, 1000, "a"), 5) << DurabilityName(d);
  }
}

TEST_F(HistoryTest, DeletedEntitiesStayDeletedAfterARestartButKeepTheirHistory) {
  ASSERT_TRUE(Put("profile", "u1", 1000, {{"a", 1}}).ok());
  std::vector<std::string_view> keys{"u1"};
  HistoryBatch batch;
  Result<uint32_t> deleted = store().Delete("profile", keys, &batch);
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(*deleted, 1u);
  store().Commit(std::move(batch), nullptr);
  history().Drain();
  Restart();
  EXPECT_EQ(Online("profile", "u1", "a"), std::nullopt);
  EXPECT_EQ(AsOf("profile", "u1", 1000, "a"), 1);
}

TEST_F(HistoryTest, TheRegistryAndItsViewIdsSurviveRestarts) {
  uint32_t id = 0;
  {
    rcu::ReadLock lock;
    id = (*store().registry().current().Resolve({"stats", 0}))->id;
  }
  Restart();
  ASSERT_TRUE(store()
                  .Apply("views: [{name: stats, version: 2, entity: item, fields: [{name: pop, "
                         "type: float64}]}]")
                  .ok());
  Restart();
  rcu::ReadLock lock;
  const Catalog& catalog = store().registry().current();
  EXPECT_EQ((*catalog.Resolve({"stats", 1}))->id, id);
  EXPECT_EQ((*catalog.Resolve({"stats", 0}))->version, 2u);
  // A changed schema under an existing version is still refused.
  Result<ApplyReport> changed = store().Apply(
      "views: [{name: stats, version: 2, entity: item, fields: [{name: pop, type: int32}]}]");
  EXPECT_EQ(changed.status().code(), StatusCode::kAlreadyExists);
}

TEST_F(HistoryTest, HistoryListsVersionsOldestFirstAndAggregates) {
  for (int64_t t : {1000, 2000, 3000, 4000})
    ASSERT_TRUE(Put("profile", "u1", t, {{"a", t / 1000}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 2500, {{"b", 7}}).ok());  // only b; a merged from 2000
  std::vector<std::string_view> key{"u1"};
  HistoryResult h;
  rcu::ReadLock lock;
  ASSERT_TRUE(store().History({"profile", {}, key, 2000, 3000, Aggregation::kNone, 0}, &h).ok());
  ASSERT_EQ(h.read.rows.size(), 3u);
  EXPECT_EQ(h.read.event_time_ms, (std::vector<int64_t>{2000, 2500, 3000}));
  EXPECT_EQ(Value(h.read, 1, "a"), 2);
  EXPECT_EQ(Value(h.read, 1, "b"), 7);

  std::vector<std::string_view> a{"a"};
  ASSERT_TRUE(store().History({"profile", a, key, 0, 10'000, Aggregation::kAvg, 0}, &h).ok());
  RowReader row(h.read.view->layout, h.read.rows[0]);
  EXPECT_DOUBLE_EQ(row.Fixed<double>(0), (1 + 2 + 2 + 3 + 4) / 5.0);
  ASSERT_TRUE(store().History({"profile", a, key, 0, 10'000, Aggregation::kMax, 0}, &h).ok());
  EXPECT_DOUBLE_EQ(RowReader(h.read.view->layout, h.read.rows[0]).Fixed<double>(0), 4);
  std::vector<std::string_view> b{"b"};
  ASSERT_TRUE(store().History({"profile", b, key, 0, 10'000, Aggregation::kCount, 0}, &h).ok());
  // Only the late version carries b: versions written before it do not.
  EXPECT_EQ(RowReader(h.read.view->layout, h.read.rows[0]).Fixed<int64_t>(0), 1);
  ASSERT_TRUE(store().History({"profile", {}, key, 0, 10'000, Aggregation::kNone, 2}, &h).ok());
  EXPECT_EQ(h.read.event_time_ms, (std::vector<int64_t>{3000, 4000}));  // the newest two
  EXPECT_EQ(store().History({"profile", {}, key, 5, 1, Aggregation::kNone, 0}, &h).code(),
            StatusCode::kInvalidArgument);
}

TEST_F(HistoryTest, RetentionDropsOldVersionsButNeverTheNewest) {
  ASSERT_TRUE(store()
                  .Apply("views: [{name: short, entity: user, retention: 1d, fields: [{name: a, "
                         "type: int64}]}]")
                  .ok());
  const int64_t day = 86'400'000;
  for (int64_t t : {1 * day, 2 * day, 9 * day + 1, 9 * day + 2})
    ASSERT_TRUE(Put("short", "u1", t, {{"a", t}}).ok());
  ASSERT_TRUE(Put("short", "old", 1 * day, {{"a", 1}}).ok());
  ASSERT_TRUE(Put("profile", "u1", 1 * day, {{"a", 1}}).ok());  // no retention
  ASSERT_TRUE(history().CompactHistory().ok());
  auto versions = [&](std::string_view view, std::string key) {
    std::vector<std::string_view> k{key};
    HistoryResult h;
    rcu::ReadLock lock;
    EXPECT_TRUE(store().History({view, {}, k, 0, 100 * day, Aggregation::kNone, 0}, &h).ok());
    return h.read.event_time_ms;
  };
  // The system clock is far past 1970 + 10 days, so everything but the newest is old.
  EXPECT_EQ(versions("short", "u1"), (std::vector<int64_t>{9 * day + 2}));
  EXPECT_EQ(versions("short", "old"), (std::vector<int64_t>{1 * day}));
  EXPECT_EQ(versions("profile", "u1"), (std::vector<int64_t>{1 * day}));
}

// ---- point-in-time joins ----

struct Event {
  std::string key;
  int64_t t;
  int64_t value;
  int order;
};

// The reference: newest event of key with time <= t (and > t - ttl if
// ttl > 0), later arrival winning ties.
std::optional<int64_t> Reference(const std::vector<Event>& events, const std::string& key,
                                 int64_t t, int64_t ttl) {
  const Event* best = nullptr;
  for (const Event& e : events) {
    if (e.key != key || e.t > t || (ttl > 0 && e.t <= t - ttl)) continue;
    if (best == nullptr || std::tie(e.t, e.order) > std::tie(best->t, best->order)) best = &e;
  }
  return best ? std::optional<int64_t>(best->value) : std::nullopt;
}

// Writes random histories of two views and checks a training join of random
// labels against the reference. With restart, the versions are read from
// table files through the block cache rather than from the memtables.
void HistoryTest::CheckTrainingJoin(bool restart) {
  std::mt19937_64 rng(11);
  std::vector<Event> users, items;
  int order = 0;
  for (int i = 0; i < 2000; ++i) {
    // Coarse times make ties and exact TTL boundaries common.
    Event e{"u" + std::to_string(rng() % 40), static_cast<int64_t>(rng() % 50) * 10'000,
            static_cast<int64_t>(rng() % 1'000'000), order++};
    ASSERT_TRUE(Put("profile", e.key, e.t, {{"a", e.value}, {"b", e.value + 1}}).ok());
    users.push_back(e);
    Event f{"i" + std::to_string(rng() % 30), static_cast<int64_t>(rng() % 50) * 10'000,
            static_cast<int64_t>(rng() % 1'000'000), order++};
    ASSERT_TRUE(Put("stats", f.key, f.t, {{"pop", f.value}}).ok());
    items.push_back(f);
  }
  if (restart) Restart();
  std::vector<std::string> user_keys, item_keys;
  std::vector<int64_t> times;
  for (int i = 0; i < 3000; ++i) {
    user_keys.push_back("u" + std::to_string(rng() % 45));  // some users never written
    item_keys.push_back("i" + std::to_string(rng() % 30));
    times.push_back(static_cast<int64_t>(rng() % 60) * 10'000 - 5'000 * (rng() % 2));
  }
  std::vector<std::string_view> features{"profile:a", "stats@v1:pop", "profile:b"};
  std::vector<std::string_view> names{"item_id", "user_id", "ignored"};
  std::vector<std::string_view> u(user_keys.begin(), user_keys.end());
  std::vector<std::string_view> it(item_keys.begin(), item_keys.end());
  std::vector<std::string_view> ignored(times.size(), "x");
  std::vector<std::span<const std::string_view>> columns{it, u, ignored};
  TrainingResult result;
  rcu::ReadLock lock;
  Status s = store().Training({features, names, columns, times}, &result);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_EQ(result.features.size(), 3u);
  uint64_t missing_a = 0;
  for (size_t r = 0; r < times.size(); ++r) {
    auto expect_user = Reference(users, user_keys[r], times[r], kTtl);
    auto expect_item = Reference(items, item_keys[r], times[r], 0);
    const auto& f = result.features;
    ASSERT_EQ(Value(result.views[f[0].source], r, "a"), expect_user) << r;
    ASSERT_EQ(Value(result.views[f[1].source], r, "pop"), expect_item) << r;
    ASSERT_EQ(Value(result.views[f[2].source], r, "b"),
              expect_user ? std::optional<int64_t>(*expect_user + 1) : std::nullopt);
    missing_a += expect_user ? 0 : 1;
  }
  EXPECT_EQ(result.features[0].missing, missing_a);
  EXPECT_GT(missing_a, 0u);
  EXPECT_LT(missing_a, times.size());
}

TEST_F(HistoryTest, TrainingJoinMatchesABruteForceReferenceAcrossViews) {
  CheckTrainingJoin(false);
}

TEST_F(HistoryTest, TrainingJoinFromTableFilesThroughEitherCachePolicy) {
  for (CachePolicy policy : {CachePolicy::kLru, CachePolicy::kClock}) {
    SCOPED_TRACE(policy == CachePolicy::kLru ? "lru" : "clock");
    cache_policy_ = policy;
    instance_.reset();
    std::filesystem::remove_all(dir_);
    Open();
    ASSERT_TRUE(store().Apply(kDefinitions).ok());
    CheckTrainingJoin(true);
  }
}

TEST_F(HistoryTest, TrainingRefusesUnknownFeaturesAndMissingKeyColumns) {
  std::vector<std::string_view> keys{"u1"};
  std::vector<std::string_view> names{"user_id"};
  std::vector<std::span<const std::string_view>> columns{keys};
  std::vector<int64_t> times{1};
  TrainingResult result;
  auto run = [&](std::vector<std::string_view> features) {
    return store().Training({features, names, columns, times}, &result);
  };
  EXPECT_EQ(run({"nope:a"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(run({"profile:nope"}).code(), StatusCode::kNotFound);
  EXPECT_EQ(run({"profile"}).code(), StatusCode::kInvalidArgument);
  Status no_column = run({"stats:pop"});
  EXPECT_EQ(no_column.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(no_column.message().find("item_id"), std::string::npos) << no_column.message();
  Status twice = run({"profile:a", "profile@v1:a"});
  EXPECT_EQ(twice.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(twice.message().find("named twice"), std::string::npos) << twice.message();
  EXPECT_TRUE(run({"profile:a", "profile:b"}).ok());
}

}  // namespace
}  // namespace quiver
