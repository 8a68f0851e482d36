// The summaries of feature statistics against exact answers computed here:
// moments (also merged, and on values where a naive sum of squares
// cancels), distinct counts within HyperLogLog's error, quantiles of
// skewed data within KLL's rank bound, and Space-Saving's guarantees.
#include "storage/stats/sketches.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include <gtest/gtest.h>
#include <xxhash.h>

namespace quiver {
namespace {

TEST(MomentsTest, MatchesExactValuesAndMergesAsOne) {
  std::mt19937_64 rng(1);
  std::normal_distribution<double> normal(1e9, 3.0);  // large mean, small spread
  std::vector<double> xs;
  Moments all, left, right;
  for (int i = 0; i < 100000; ++i) {
    const double x = normal(rng);
    xs.push_back(x);
    all.Add(x);
    (i % 3 == 0 ? left : right).Add(x);
  }
  // The reference, shifted so that its own sums do not round: x - 1e9 is
  // exact for these values.
  long double shifted = 0;
  for (double x : xs)
    shifted += x - 1e9;
  const double mean = 1e9 + static_cast<double>(shifted / xs.size());
  long double ss = 0;
  for (double x : xs)
    ss += (static_cast<long double>(x) - mean) * (static_cast<long double>(x) - mean);
  const auto variance = static_cast<double>(ss / (xs.size() - 1));
  EXPECT_EQ(all.count(), xs.size());
  EXPECT_NEAR(all.mean(), mean, 1e-5);  // 1e-14 of the values
  EXPECT_NEAR(all.variance(), variance, variance * 1e-6);
  EXPECT_EQ(all.min(), *std::min_element(xs.begin(), xs.end()));
  EXPECT_EQ(all.max(), *std::max_element(xs.begin(), xs.end()));
  left.Merge(right);
  EXPECT_EQ(left.count(), all.count());
  EXPECT_NEAR(left.mean(), mean, 1e-5);
  EXPECT_NEAR(left.variance(), variance, variance * 1e-6);
  EXPECT_EQ(left.min(), all.min());
  Moments empty;
  empty.Merge(all);
  EXPECT_EQ(empty.count(), all.count());
  EXPECT_EQ(Moments().variance(), 0);
}

TEST(VectorMomentsTest, MatchesExactValuesAndMergesAsOne) {
  // Dimension 0 sits far from zero with a small spread, where sums of
  // squares cancel unless shifted; dimension 1 is centred.
  std::mt19937_64 rng(3);
  std::normal_distribution<float> far(10000.0f, 0.5f), centred(0.0f, 2.0f);
  VectorMoments all(2), left(2), right(2);
  std::vector<std::vector<double>> xs(2);
  for (int i = 0; i < 50000; ++i) {
    const float v[2] = {far(rng), centred(rng)};
    xs[0].push_back(v[0]);
    xs[1].push_back(v[1]);
    const auto* bytes = reinterpret_cast<const uint8_t*>(v);
    all.Add(bytes);
    (i < 20000 ? left : right).Add(bytes);  // different shifts
  }
  left.Merge(right);
  for (size_t d = 0; d < 2; ++d) {
    long double sum = 0;
    for (double x : xs[d])
      sum += x;
    const auto mean = static_cast<double>(sum / xs[d].size());
    long double ss = 0;
    for (double x : xs[d])
      ss += (x - mean) * (x - mean);
    const double stddev = std::sqrt(static_cast<double>(ss / (xs[d].size() - 1)));
    for (const VectorMoments* m : {&all, &left}) {
      EXPECT_EQ(m->count(), 50000u);
      EXPECT_NEAR(m->mean(d), mean, 1e-9 * std::max(1.0, std::abs(mean))) << d;
      EXPECT_NEAR(m->stddev(d), stddev, stddev * 1e-9) << d;
    }
  }
  VectorMoments empty(2);
  EXPECT_TRUE(std::isnan(empty.mean(0)));
  empty.Merge(all);
  EXPECT_EQ(empty.mean(1), all.mean(1));
}

TEST(HyperLogLogTest, DistinctCountsWithinFourStandardErrors) {
  for (uint64_t distinct : {1ull, 100ull, 5000ull, 200000ull, 2000000ull}) {
    HyperLogLog hll;
    for (uint64_t i = 0; i < distinct; ++i) {
      const uint64_t hash = XXH3_64bits(&i, sizeof i);
      hll.AddHash(hash);
      if (i % 2 == 0) hll.AddHash(hash);  // repeats change nothing
    }
    const double error =
        std::abs(hll.Estimate() - static_cast<double>(distinct)) / static_cast<double>(distinct);
    EXPECT_LE(error, 4 * 0.0163) << distinct;  // 1.04 / sqrt(4096)
  }
  HyperLogLog a, b;
  for (uint64_t i = 0; i < 100000; ++i)
    (i < 60000 ? a : b).AddHash(XXH3_64bits(&i, sizeof i));
  a.Merge(b);
  EXPECT_NEAR(a.Estimate(), 100000, 100000 * 4 * 0.0163);
}

// The largest difference between the sketch's rank of a value and its true
// rank, over many values of the stream.
double MaxRankError(const KllSketch& sketch, std::vector<double> xs) {
  std::sort(xs.begin(), xs.end());
  double worst = 0;
  for (size_t i = 0; i < xs.size(); i += xs.size() / 997 + 1) {
    const double value = xs[i];
    const auto upper = std::upper_bound(xs.begin(), xs.end(), value) - xs.begin();
    const double truth = static_cast<double>(upper) / static_cast<double>(xs.size());
    worst = std::max(worst, std::abs(sketch.Rank(value) - truth));
  }
  return worst;
}

TEST(KllSketchTest, RankErrorOfSkewedDataWithinTheBound) {
  std::mt19937_64 rng(7);
  std::lognormal_distribution<double> lognormal(0, 2);  // heavy right tail
  std::vector<double> xs;
  KllSketch sketch(200, 3);
  for (int i = 0; i < 1000000; ++i) {
    xs.push_back(std::floor(lognormal(rng) * 100) / 100);  // many ties too
    sketch.Add(xs.back());
  }
  EXPECT_EQ(sketch.count(), xs.size());
  EXPECT_LE(MaxRankError(sketch, xs), 0.0165);
  EXPECT_LT(sketch.retained(), 2000u) << "memory stays bounded";
  std::sort(xs.begin(), xs.end());
  EXPECT_EQ(sketch.Quantile(0), xs.front());
  EXPECT_EQ(sketch.Quantile(1), xs.back());
  // The median's rank, not its value, is what the bound is about.
  const double median = sketch.Quantile(0.5);
  const double rank =
      static_cast<double>(std::upper_bound(xs.begin(), xs.end(), median) - xs.begin()) /
      static_cast<double>(xs.size());
  EXPECT_NEAR(rank, 0.5, 0.0165);
}

TEST(KllSketchTest, MergedSketchesKeepTheBound) {
  std::mt19937_64 rng(9);
  std::exponential_distribution<double> expo(0.01);
  std::vector<double> xs;
  KllSketch merged(200, 1);
  for (int part = 0; part < 8; ++part) {
    KllSketch piece(200, 100 + part);
    for (int i = 0; i < 50000; ++i) {
      xs.push_back(expo(rng) + part * 50);  // each part shifted: merging matters
      piece.Add(xs.back());
    }
    merged.Merge(piece);
  }
  EXPECT_EQ(merged.count(), xs.size());
  EXPECT_LE(MaxRankError(merged, xs), 0.0165);
  EXPECT_TRUE(std::isnan(KllSketch().Quantile(0.5)));
}

// Space-Saving's guarantees for a summary of a stream with the given true
// counts: kept counts bound the truth from both sides, errors stay within
// count / capacity, and every value above that bound is kept.
void ExpectSpaceSaving(const TopK& top, size_t capacity, std::map<std::string, uint64_t> truth) {
  const uint64_t bound = top.count() / capacity;
  std::set<std::string> names;
  for (const TopK::Entry& e : top.Top(capacity)) {
    names.insert(e.value);
    EXPECT_GE(e.count, truth[e.value]) << e.value;
    EXPECT_LE(e.count - e.error, truth[e.value]) << e.value;
    EXPECT_LE(e.error, bound);
  }
  for (const auto& [value, count] : truth) {
    if (count > bound) {
      EXPECT_TRUE(names.count(value)) << value << " seen " << count;
    }
  }
}

std::discrete_distribution<int> Zipf(int categories) {
  std::vector<double> weights;
  for (int i = 1; i <= categories; ++i)
    weights.push_back(1.0 / i);
  return std::discrete_distribution<int>(weights.begin(), weights.end());
}

TEST(TopKTest, SpaceSavingGuarantees) {
  std::mt19937_64 rng(5);
  auto zipf = Zipf(1000);
  std::map<std::string, uint64_t> truth;
  TopK top(32);
  for (int i = 0; i < 200000; ++i) {
    const std::string v = "genre" + std::to_string(zipf(rng));
    ++truth[v];
    top.Add(v);
  }
  EXPECT_EQ(top.count(), 200000u);
  ExpectSpaceSaving(top, 32, truth);
  EXPECT_EQ(top.Top(3).size(), 3u);
  EXPECT_EQ(top.Top(3)[0].value, "genre0");
}

TEST(TopKTest, MergedSummariesKeepTheGuarantees) {
  // Two streams with different heavy values, as two shards or two windows
  // would see them.
  std::mt19937_64 rng(6);
  auto zipf = Zipf(500);
  std::map<std::string, uint64_t> truth;
  TopK left(32), right(32);
  for (int i = 0; i < 100000; ++i) {
    const std::string a = "a" + std::to_string(zipf(rng));
    const std::string b = (i % 2 ? "a" : "b") + std::to_string(zipf(rng));
    ++truth[a];
    ++truth[b];
    left.Add(a);
    right.Add(b);
  }
  TopK merged = left;
  merged.Merge(right);
  EXPECT_EQ(merged.count(), 200000u);
  ExpectSpaceSaving(merged, 32, truth);
  EXPECT_EQ(merged.Top(1)[0].value, "a0");
  // A copy answers like the original, and merging an empty one changes
  // nothing.
  TopK copy = merged;
  copy.Merge(TopK(32));
  copy.Add("a0");
  EXPECT_EQ(copy.Top(1)[0].count, merged.Top(1)[0].count + 1);
}

}  // namespace
}  // namespace quiver
