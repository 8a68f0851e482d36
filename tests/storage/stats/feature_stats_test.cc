// Statistics of written values (storage/stats/feature_stats.h) against exact
// answers computed here from the same rows: every type, nulls, quality
// violations, the since-start and recent (last hour) windows under a controlled
// clock, rows computed by a source, and concurrent writers.
#include "storage/stats/feature_stats.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "storage/features/feature_store.h"
#include "storage/online/row.h"
#include "support/test_columns.h"
#include "util/rcu.h"

namespace quiver {
namespace {

constexpr char kDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
views:
  - name: profile
    entity: user
    fields:
      - {name: age, type: int32, checks: {min: 0, max: 120, max_null_rate: 0.05}}
      - {name: score, type: float64}
      - {name: genre, type: string, checks: {allowed: [drama, comedy, action]}}
      - {name: active, type: bool}
      - {name: emb, type: "float32[4]", checks: {min: -1, max: 1}}
      - {name: blob, type: bytes}
)";

constexpr int64_t kMinute = 60'000;

// The exact statistics of a list of values.
struct Exact {
  std::vector<double> xs;
  void Add(double x) { xs.push_back(x); }
  double Mean() const {
    long double sum = 0;
    for (double x : xs)
      sum += x;
    return static_cast<double>(sum / xs.size());
  }
  double Variance() const {
    const double m = Mean();
    long double ss = 0;
    for (double x : xs)
      ss += (x - m) * (x - m);
    return static_cast<double>(ss / (xs.size() - 1));
  }
  size_t Distinct() const { return std::set<double>(xs.begin(), xs.end()).size(); }
  // The fraction of values <= x.
  double Rank(double x) const {
    return static_cast<double>(
               std::count_if(xs.begin(), xs.end(), [&](double v) { return v <= x; })) /
           static_cast<double>(xs.size());
  }
};

class FeatureStatsTest : public ::testing::Test {
 protected:
  FeatureStatsTest()
      : table_(OnlineTable::Options{}),
        store_(registry_, table_, nullptr, {.now_ms = [this] { return now_ms_; }}) {
    Result<ApplyReport> r = store_.Apply(kDefinitions);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
  }

  void Write(const std::vector<std::string>& keys, const std::vector<TestColumn>& cols) {
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    std::vector<ColumnInput> inputs;
    for (const auto& c : cols)
      inputs.push_back(c.input());
    Result<WriteResult> r = store_.Write(WriteRequest{"profile", key_views, {}, inputs}, nullptr);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }

  // Writes n rows that set only `age`, to fresh keys.
  void WriteAges(int n, int32_t age) {
    std::vector<std::string> keys;
    for (int i = 0; i < n; ++i)
      keys.push_back("k" + std::to_string(next_key_++));
    Write(keys, {Fixed<int32_t>("age", FieldType::kInt32, std::vector<int32_t>(n, age))});
  }

  FeatureStats::Snapshot Take() {
    rcu::ReadLock lock;
    const ViewSchema* view = *registry_.current().Resolve({"profile", 0});
    std::optional<FeatureStats::Snapshot> snap = store_.stats()->Take(*view, now_ms_);
    EXPECT_TRUE(snap.has_value());
    return snap ? *snap : FeatureStats::Snapshot{};
  }

  rcu::ThreadRegistration registration_;
  int64_t now_ms_ = 100 * 10 * kMinute;  // the start of a ten-minute slot
  int next_key_ = 0;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
};

TEST_F(FeatureStatsTest, EveryTypeMatchesExactStatistics) {
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<int32_t> age(-5, 130);
  std::lognormal_distribution<double> score(0, 1.5);  // skewed
  std::uniform_real_distribution<float> element(-1.1f, 1.1f);
  const std::vector<std::string> genres = {"drama", "drama", "drama", "comedy", "action", "horror"};
  Exact ages, scores, actives, norms, blob_lengths;
  std::vector<Exact> dims(4);
  std::map<std::string, uint64_t> genre_counts;
  uint64_t age_nulls = 0, below = 0, above = 0, not_allowed = 0, emb_below = 0, emb_above = 0;
  std::set<std::string> blobs;
  for (int batch = 0; batch < 10; ++batch) {
    std::vector<std::string> keys;
    std::vector<int32_t> a;
    std::vector<uint8_t> a_nulls, act;
    std::vector<double> sc;
    std::vector<std::string> g, bl;
    std::vector<float> emb;
    for (int i = 0; i < 500; ++i) {
      keys.push_back("u" + std::to_string(batch * 500 + i));
      a.push_back(age(rng));
      a_nulls.push_back(rng() % 10 == 0);
      if (a_nulls.back()) {
        ++age_nulls;
      } else {
        ages.Add(a.back());
        below += a.back() < 0;
        above += a.back() > 120;
      }
      sc.push_back(score(rng));
      scores.Add(sc.back());
      g.push_back(genres[rng() % genres.size()]);
      ++genre_counts[g.back()];
      not_allowed += g.back() == "horror";
      act.push_back(rng() % 4 == 0);
      actives.Add(act.back());
      bl.push_back(std::string(rng() % 20, static_cast<char>('a' + rng() % 3)));
      blobs.insert(bl.back());
      blob_lengths.Add(static_cast<double>(bl.back().size()));
      double squares = 0;
      bool low = false, high = false;
      for (int d = 0; d < 4; ++d) {
        emb.push_back(element(rng));
        dims[d].Add(emb.back());
        squares += static_cast<double>(emb.back()) * emb.back();
        low = low || emb.back() < -1;
        high = high || emb.back() > 1;
      }
      norms.Add(std::sqrt(squares));
      emb_below += low;
      emb_above += high;
    }
    TestColumn age_col = Fixed<int32_t>("age", FieldType::kInt32, a);
    age_col.nulls = a_nulls;
    Write(keys, {age_col, Fixed<double>("score", FieldType::kFloat64, sc), Strings("genre", g),
                 Fixed<uint8_t>("active", FieldType::kBool, act),
                 Fixed<float>("emb", FieldType::kFloat32Vector, emb, 4),
                 Strings("blob", bl, FieldType::kBytes)});
  }
  const FeatureStats::Snapshot snap = Take();
  for (const WindowSummary* w : {&snap.since_start, &snap.recent}) {
    EXPECT_EQ(w->rows, 5000u);
    const FieldSummary& f_age = w->fields[0];
    EXPECT_EQ(f_age.nulls, age_nulls);
    EXPECT_EQ(f_age.values, ages.xs.size());
    EXPECT_NEAR(f_age.null_rate(), static_cast<double>(age_nulls) / 5000, 1e-12);
    EXPECT_NEAR(f_age.moments.mean(), ages.Mean(), 1e-9);
    EXPECT_NEAR(f_age.moments.variance(), ages.Variance(), 1e-6);
    EXPECT_EQ(f_age.moments.min(), *std::min_element(ages.xs.begin(), ages.xs.end()));
    EXPECT_EQ(f_age.moments.max(), *std::max_element(ages.xs.begin(), ages.xs.end()));
    // Three standard errors of HyperLogLog with 2^12 registers.
    EXPECT_NEAR(f_age.distinct.Estimate(), static_cast<double>(ages.Distinct()),
                0.05 * static_cast<double>(ages.Distinct()));
    EXPECT_EQ(f_age.below_min, below);
    EXPECT_EQ(f_age.above_max, above);

    const FieldSummary& f_score = w->fields[1];
    EXPECT_NEAR(f_score.moments.mean(), scores.Mean(), 1e-9);
    for (double q : {0.01, 0.1, 0.5, 0.9, 0.99}) {
      EXPECT_NEAR(scores.Rank(f_score.quantiles.Quantile(q)), q, 0.0165) << "q " << q;
    }

    const FieldSummary& f_genre = w->fields[2];
    const std::vector<TopK::Entry> top = f_genre.top.Top(10);
    ASSERT_EQ(top.size(), genre_counts.size());
    for (const TopK::Entry& e : top) {
      EXPECT_EQ(e.count, genre_counts[e.value]) << e.value;  // exact below capacity
      EXPECT_EQ(e.error, 0u);
    }
    EXPECT_EQ(top.front().value, "drama");
    EXPECT_EQ(f_genre.not_allowed, not_allowed);
    EXPECT_NEAR(f_genre.distinct.Estimate(), 4.0, 0.01);

    EXPECT_NEAR(w->fields[3].moments.mean(), actives.Mean(), 1e-12);  // the share of true

    const FieldSummary& f_emb = w->fields[4];
    ASSERT_EQ(f_emb.dims.dims(), 4u);
    EXPECT_EQ(f_emb.dims.count(), 5000u);
    for (int d = 0; d < 4; ++d) {
      EXPECT_NEAR(f_emb.dims.mean(d), dims[d].Mean(), 1e-9);
      EXPECT_NEAR(f_emb.dims.stddev(d), std::sqrt(dims[d].Variance()), 1e-9);
    }
    EXPECT_NEAR(f_emb.moments.mean(), norms.Mean(), 1e-9);
    EXPECT_EQ(f_emb.below_min, emb_below);  // a vector counts once if any element is out
    EXPECT_EQ(f_emb.above_max, emb_above);
    EXPECT_GT(emb_below, 0u);

    const FieldSummary& f_blob = w->fields[5];
    EXPECT_NEAR(f_blob.moments.mean(), blob_lengths.Mean(), 1e-9);
    EXPECT_NEAR(f_blob.distinct.Estimate(), static_cast<double>(blobs.size()),
                0.05 * static_cast<double>(blobs.size()));
    EXPECT_TRUE(f_blob.top.Top(1).empty());  // bytes are not categories
  }
}

TEST_F(FeatureStatsTest, FieldsAWriteDoesNotSetAreNotCounted) {
  WriteAges(10, 30);
  const FeatureStats::Snapshot snap = Take();
  EXPECT_EQ(snap.since_start.rows, 10u);
  EXPECT_EQ(snap.since_start.fields[0].values, 10u);
  EXPECT_EQ(snap.since_start.fields[1].values + snap.since_start.fields[1].nulls, 0u);
}

TEST_F(FeatureStatsTest, NonFiniteNumbersAreCountedApart) {
  Write({"a", "b", "c"},
        {Fixed<double>("score", FieldType::kFloat64, {1.0, std::nan(""), -HUGE_VAL})});
  const FieldSummary f = Take().since_start.fields[1];  // a copy: Take() is a temporary
  EXPECT_EQ(f.values, 3u);
  EXPECT_EQ(f.non_finite, 2u);
  EXPECT_EQ(f.moments.count(), 1u);
  EXPECT_EQ(f.moments.mean(), 1.0);
}

TEST_F(FeatureStatsTest, RecentIsTheNewestSixSlots) {
  const int64_t t0 = now_ms_;
  WriteAges(100, 1);
  now_ms_ = t0 + 30 * kMinute;
  WriteAges(50, 2);
  now_ms_ = t0 + 70 * kMinute;  // the first writes are now over an hour old
  WriteAges(10, 3);
  FeatureStats::Snapshot snap = Take();
  EXPECT_EQ(snap.since_start.rows, 160u);
  EXPECT_EQ(snap.recent.rows, 60u);
  EXPECT_NEAR(snap.recent.fields[0].moments.mean(), (50 * 2 + 10 * 3) / 60.0, 1e-12);
  EXPECT_EQ(snap.started_ms, t0);

  // A write two hours on reuses the ring slot of the 70-minute writes,
  // which fold into the since-start summary.
  now_ms_ = t0 + 130 * kMinute;
  WriteAges(1, 4);
  snap = Take();
  EXPECT_EQ(snap.since_start.rows, 161u);
  EXPECT_EQ(snap.recent.rows, 1u);
  EXPECT_NEAR(snap.since_start.fields[0].moments.mean(), (100 + 100 + 30 + 4) / 161.0, 1e-12);

  // With no writes, the last hour empties as time passes.
  now_ms_ = t0 + 200 * kMinute;
  snap = Take();
  EXPECT_EQ(snap.since_start.rows, 161u);
  EXPECT_EQ(snap.recent.rows, 0u);
}

TEST_F(FeatureStatsTest, AViewNeverWrittenHasNoSnapshot) {
  rcu::ReadLock lock;
  const ViewSchema* view = *registry_.current().Resolve({"profile", 0});
  EXPECT_FALSE(store_.stats()->Take(*view, now_ms_).has_value());
}

TEST_F(FeatureStatsTest, PackedRowsCountAbsentFieldsAsNulls) {
  FeatureStats stats;
  rcu::ReadLock lock;
  const ViewSchema& view = **registry_.current().Resolve({"profile", 0});
  RowBuilder builder(view, {});
  const int32_t age = 42;
  builder.SetFixed(0, &age, sizeof age);
  builder.SetVar(2, "comedy");
  std::vector<uint8_t> row(builder.Size());
  builder.WriteTo(row.data());
  stats.Begin(view, now_ms_).Packed(row);
  stats.Begin(view, now_ms_).Packed(row);
  const WindowSummary w = stats.Take(view, now_ms_)->since_start;
  EXPECT_EQ(w.rows, 2u);
  EXPECT_EQ(w.fields[0].values, 2u);
  EXPECT_EQ(w.fields[0].moments.mean(), 42);
  EXPECT_EQ(w.fields[1].nulls, 2u);
  EXPECT_EQ(w.fields[2].top.Top(1).at(0).value, "comedy");
  EXPECT_EQ(w.fields[4].nulls, 2u);
}

TEST_F(FeatureStatsTest, ConcurrentWritersAreAllCounted) {
  constexpr int kThreads = 4, kBatches = 50, kRows = 40;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      rcu::ThreadRegistration registration;
      for (int b = 0; b < kBatches; ++b) {
        std::vector<std::string> keys;
        for (int i = 0; i < kRows; ++i)
          keys.push_back("t" + std::to_string(t) + "-" + std::to_string(b * kRows + i));
        std::vector<std::string_view> key_views(keys.begin(), keys.end());
        TestColumn c = Fixed<int32_t>("age", FieldType::kInt32, std::vector<int32_t>(kRows, t));
        const ColumnInput input = c.input();
        ASSERT_TRUE(
            store_.Write(WriteRequest{"profile", key_views, {}, {&input, 1}}, nullptr).ok());
      }
    });
  }
  // Snapshots taken while the writers run see consistent shards.
  for (int i = 0; i < 20; ++i) {
    rcu::ReadLock lock;
    const ViewSchema* view = *registry_.current().Resolve({"profile", 0});
    if (auto snap = store_.stats()->Take(*view, now_ms_)) {
      EXPECT_EQ(snap->since_start.rows, snap->since_start.fields[0].values);
    }
  }
  for (auto& t : threads)
    t.join();
  const FieldSummary f = Take().since_start.fields[0];
  EXPECT_EQ(f.values, uint64_t{kThreads * kBatches * kRows});
  EXPECT_NEAR(f.moments.mean(), 1.5, 1e-12);
  EXPECT_EQ(f.moments.max(), 3);
}

TEST(FeatureStoreStatisticsTest, OffKeepsNone) {
  rcu::ThreadRegistration registration;
  Registry registry;
  OnlineTable table(OnlineTable::Options{});
  FeatureStore store(registry, table, nullptr, {.now_ms = nullptr, .statistics = false});
  EXPECT_EQ(store.stats(), nullptr);
}

}  // namespace
}  // namespace quiver
