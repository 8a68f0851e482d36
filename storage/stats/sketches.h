// Bounded-memory summaries of a stream of feature values, the parts of
// per-field statistics (docs/monitoring.md): exact moments, an approximate
// distinct count, a quantile sketch and the most frequent categories. Each
// can be merged with another of its kind (per-thread or per-window
// summaries combine into one) and none grows with the stream.
//
// Not thread-safe: the caller guards each instance.
#pragma once

#include <array>
#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace quiver {

// Count, mean and variance (Welford's update, Chan's merge: no
// cancellation on large values), min and max. Non-finite values are the
// caller's to count apart; Add takes finite ones.
class Moments {
 public:
  void Add(double x);
  void Merge(const Moments& other);
  uint64_t count() const { return n_; }
  double mean() const { return mean_; }
  double variance() const { return n_ > 1 ? m2_ / static_cast<double>(n_ - 1) : 0; }  // sample
  double stddev() const;
  double min() const { return min_; }
  double max() const { return max_; }

 private:
  uint64_t n_ = 0;
  double mean_ = 0, m2_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

// Per-dimension mean and variance of a stream of float vectors, as sums of
// each element's distance to a shift (the first vector) and of its square:
// no division per element, so the update vectorizes (Welford's update
// divides for every value). Shifting keeps the sums small where the values
// are far from zero, which is what makes the naive formula cancel.
class VectorMoments {
 public:
  explicit VectorMoments(size_t dims = 0) : sum_(dims), squares_(dims), shift_(dims) {}
  // x points at dims() floats, in any alignment.
  void Add(const uint8_t* x);
  void Merge(const VectorMoments& other);
  size_t dims() const { return sum_.size(); }
  uint64_t count() const { return n_; }
  double mean(size_t d) const;
  double stddev(size_t d) const;  // sample

 private:
  uint64_t n_ = 0;
  std::vector<double> sum_, squares_;  // of x - shift, per dimension
  std::vector<double> shift_;
};

// HyperLogLog with 2^12 one-byte registers (4 KiB, allocated by the first
// value): distinct counts with a standard error of 1.04 / sqrt(4096) = 1.6%,
// exact-ish (linear counting) while small. Feed it 64-bit hashes of the
// values whose top bits are well mixed.
class HyperLogLog {
 public:
  static constexpr int kPrecision = 12;
  void AddHash(uint64_t hash);
  void Merge(const HyperLogLog& other);
  double Estimate() const;

 private:
  std::vector<uint8_t> registers_;  // empty, or 2^kPrecision
};

// KLL quantile sketch (Karnin, Lang, Liberty 2016) of doubles: levels of
// items where an item of level h stands for 2^h values; a full level is
// sorted and every other item (from a random offset) moves up. With k =
// 200, the rank of any value is within about 1.65% of the stream's size
// with 99% probability (DataSketches' figure for k = 200), in a few KiB.
// The random offsets come from a seeded generator: the same stream gives
// the same sketch.
class KllSketch {
 public:
  explicit KllSketch(uint32_t k = 200, uint64_t seed = 0x5eed);
  void Add(double x);
  void Merge(const KllSketch& other);
  uint64_t count() const { return n_; }
  // The value at normalized rank q (0: the minimum, 1: the maximum); NaN if
  // empty.
  double Quantile(double q) const;
  // The fraction of the stream <= x.
  double Rank(double x) const;
  // (value, weight) of every retained item, sorted by value: the sketch's
  // approximation of the stream's distribution (for PSI and KS).
  std::vector<std::pair<double, uint64_t>> Sorted() const;
  size_t retained() const;

 private:
  size_t Capacity(size_t level) const { return capacities_[level]; }
  // Sizes capacities_ to the levels (a level's capacity depends on its
  // depth below the top, so adding a level changes them all).
  void AddLevel();
  void Compact();
  uint32_t k_;
  std::vector<size_t> capacities_;  // per level
  uint64_t n_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
  std::vector<std::vector<double>> levels_;
  std::mt19937_64 rng_;
};

// The most frequent values (Space-Saving, Metwally et al.): capacity
// counters; a value's count is over-estimated by at most its error, itself
// at most count() / capacity, and every value seen more than
// count() / capacity times is among the kept ones. Merging two keeps both
// guarantees (Agarwal et al., "Mergeable summaries"): a value one side does
// not keep is counted there as that side's least count, as error.
class TopK {
 public:
  explicit TopK(size_t capacity = 64) : capacity_(capacity) {}
  void Add(std::string_view value);
  void Merge(const TopK& other);
  uint64_t count() const { return n_; }
  struct Entry {
    std::string value;
    uint64_t count = 0;  // an upper bound of the true count
    uint64_t error = 0;  // count - error is a lower bound
  };
  // The kept values, most frequent first.
  std::vector<Entry> Top(size_t n) const;

 private:
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const;
  };
  // The least count a value that is not kept may have had.
  uint64_t Floor() const;
  void Reindex();
  size_t capacity_;
  uint64_t n_ = 0;
  std::vector<Entry> entries_;
  std::unordered_map<std::string, uint32_t, Hash, std::equal_to<>> index_;  // entries_ by value
};

}  // namespace quiver
