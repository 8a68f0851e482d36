// Histogram: latencies in log-linear buckets, HdrHistogram style: 16
// buckets per power of two, so any percentile it reports is within 1/16
// (6.25%) of the true value, for values from 1 to 2^40 (units are the
// caller's, microseconds here). Recording is one relaxed atomic increment;
// any thread may record and read concurrently.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <span>
#include <vector>

namespace quiver {

class JsonWriter;

class Histogram {
 public:
  void Record(int64_t value);

  struct Summary {
    uint64_t count = 0;
    int64_t p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0;
  };
  // Percentiles report the upper edge of their bucket.
  Summary Summarize() const;
  // The count of each bucket now (kBuckets of them), e.g. to summarize
  // what was recorded between two readings by their difference.
  std::vector<uint64_t> Counts() const;

  // The bucket scheme, shared with other recorders (RequestMetrics): the
  // bucket of a value, and the largest value a bucket holds.
  static constexpr int kSubBits = 4;  // 16 sub-buckets per power of two
  static constexpr size_t kBuckets = (41 - kSubBits) * (1u << kSubBits) + (1u << kSubBits);
  static size_t BucketOf(int64_t value);
  static int64_t UpperEdge(size_t bucket);
  // The summary of kBuckets counts whose largest value is max.
  static Summary Summarize(std::span<const uint64_t> counts, int64_t max);
  // Writes "p50", "p90", "p99", "p999" and "max" as keys of the object
  // being written (in the summary's units).
  static void WritePercentiles(const Summary& s, JsonWriter& w);

 private:
  std::array<std::atomic<uint64_t>, kBuckets> counts_{};
  std::atomic<int64_t> max_{0};
};

}  // namespace quiver
