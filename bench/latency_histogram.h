// LatencyHistogram: log-linear buckets in the manner of HdrHistogram, with
// 64 sub-buckets per power of two (values are kept to within 1.6%), from
// 1 ns to about 2^40 ns. Percentiles come from the real distribution,
// never from an average. Not thread-safe; merge per-thread histograms.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <string>

namespace quiver::bench {

class LatencyHistogram {
 public:
  void Record(uint64_t nanos) {
    ++counts_[Index(nanos)];
    ++total_;
    max_ = nanos > max_ ? nanos : max_;
  }
  void Merge(const LatencyHistogram& other) {
    for (size_t i = 0; i < counts_.size(); ++i)
      counts_[i] += other.counts_[i];
    total_ += other.total_;
    max_ = other.max_ > max_ ? other.max_ : max_;
  }
  uint64_t count() const { return total_; }
  uint64_t max() const { return max_; }
  // The value at quantile q (0 < q <= 1): the upper edge of its bucket.
  uint64_t Percentile(double q) const {
    if (total_ == 0) return 0;
    const uint64_t rank = static_cast<uint64_t>(q * static_cast<double>(total_) + 0.5);
    uint64_t seen = 0;
    for (size_t i = 0; i < counts_.size(); ++i) {
      seen += counts_[i];
      if (seen >= rank && counts_[i] > 0) return std::min(UpperEdge(i), max_);
    }
    return max_;
  }

  static size_t Index(uint64_t v) {
    if (v < 128) return static_cast<size_t>(v);
    const int msb = 63 - std::countl_zero(v);  // >= 7
    const int shift = msb - 6;                 // keeps the top 7 bits: 64..127
    const size_t index = 128 + static_cast<size_t>(shift - 1) * 64 + ((v >> shift) - 64);
    return index < kBuckets ? index : kBuckets - 1;
  }
  static uint64_t UpperEdge(size_t index) {
    if (index < 128) return index;
    const int shift = static_cast<int>((index - 128) / 64) + 1;
    const uint64_t mantissa = 64 + (index - 128) % 64;
    return ((mantissa + 1) << shift) - 1;
  }

 private:
  static constexpr size_t kBuckets = 128 + 40 * 64;
  std::array<uint64_t, kBuckets> counts_{};
  uint64_t total_ = 0;
  uint64_t max_ = 0;
};

}  // namespace quiver::bench
