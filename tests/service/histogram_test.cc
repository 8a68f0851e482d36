// The latency histogram's percentiles against exact ones, within its stated
// bound (16 buckets per power of two: 1/16).
#include "service/histogram.h"

#include <algorithm>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace quiver {
namespace {

int64_t Exact(std::vector<int64_t> values, double q) {
  std::sort(values.begin(), values.end());
  return values[static_cast<size_t>(q * static_cast<double>(values.size() - 1))];
}

TEST(HistogramTest, PercentilesAreWithinTheBucketBound) {
  std::mt19937_64 rng(5);
  std::lognormal_distribution<double> skewed(8.0, 2.0);  // microseconds, a long tail
  std::vector<int64_t> values;
  Histogram h;
  for (int i = 0; i < 200'000; ++i) {
    const auto v = static_cast<int64_t>(skewed(rng));
    values.push_back(v);
    h.Record(v);
  }
  const Histogram::Summary s = h.Summarize();
  EXPECT_EQ(s.count, values.size());
  EXPECT_EQ(s.max, *std::max_element(values.begin(), values.end()));
  for (auto [q, got] : {std::pair{0.5, s.p50}, {0.9, s.p90}, {0.99, s.p99}, {0.999, s.p999}}) {
    const int64_t want = Exact(values, q);
    EXPECT_GE(got, want) << q;  // a bucket's upper edge
    EXPECT_LE(got, want + want / 16 + 1) << q;
  }
}

TEST(HistogramTest, BucketsCoverEveryValueOnce) {
  int64_t previous_edge = -1;
  for (size_t b = 0; b < 400; ++b) {
    const int64_t edge = Histogram::UpperEdge(b);
    ASSERT_GT(edge, previous_edge);
    ASSERT_EQ(Histogram::BucketOf(edge), b);
    ASSERT_EQ(Histogram::BucketOf(previous_edge + 1), b);
    previous_edge = edge;
  }
  EXPECT_EQ(Histogram().Summarize().count, 0u);
}

}  // namespace
}  // namespace quiver
