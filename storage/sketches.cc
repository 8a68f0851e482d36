#include "storage/sketches.h"

#include <algorithm>
#include <bit>
#include <cmath>

namespace quiver {

// --- Moments ---------------------------------------------------------------

void Moments::Add(double x) {
  ++n_;
  const double delta = x - mean_;
  mean_ += delta / static_cast<double>(n_);
  m2_ += delta * (x - mean_);
  min_ = std::min(min_, x);
  max_ = std::max(max_, x);
}

void Moments::Merge(const Moments& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  const double n = static_cast<double>(n_ + o.n_);
  const double delta = o.mean_ - mean_;
  mean_ += delta * static_cast<double>(o.n_) / n;
  m2_ += o.m2_ + delta * delta * static_cast<double>(n_) * static_cast<double>(o.n_) / n;
  n_ += o.n_;
  min_ = std::min(min_, o.min_);
  max_ = std::max(max_, o.max_);
}

double Moments::stddev() const {
  return std::sqrt(variance());
}

// --- HyperLogLog -----------------------------------------------------------

void HyperLogLog::AddHash(uint64_t hash) {
  const size_t index = hash >> (64 - kPrecision);
  // The rank of the first set bit of the remaining bits (a sentinel bit
  // bounds it when they are all zero).
  const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  const auto rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  for (size_t i = 0; i < registers_.size(); ++i)
    registers_[i] = std::max(registers_[i], other.registers_[i]);
}

double HyperLogLog::Estimate() const {
  const auto m = static_cast<double>(registers_.size());
  double sum = 0;
  size_t zeros = 0;
  for (uint8_t r : registers_) {
    sum += std::ldexp(1.0, -r);
    zeros += r == 0 ? 1 : 0;
  }
  const double alpha = 0.7213 / (1 + 1.079 / m);
  const double raw = alpha * m * m / sum;
  // Small cardinalities: linear counting of the empty registers is exact-ish.
  if (raw <= 2.5 * m && zeros > 0) return m * std::log(m / static_cast<double>(zeros));
  return raw;
}

// --- KllSketch -------------------------------------------------------------

KllSketch::KllSketch(uint32_t k, uint64_t seed) : k_(std::max<uint32_t>(k, 8)), rng_(seed) {
  levels_.emplace_back();
}

size_t KllSketch::Capacity(size_t level) const {
  // The top level holds k items, each level below 2/3 of the one above,
  // never fewer than 8.
  const size_t depth = levels_.size() - 1 - level;
  return std::max<size_t>(8, static_cast<size_t>(std::ceil(k_ * std::pow(2.0 / 3.0, depth))));
}

size_t KllSketch::retained() const {
  size_t n = 0;
  for (const auto& level : levels_)
    n += level.size();
  return n;
}

void KllSketch::Compact() {
  for (size_t h = 0; h < levels_.size(); ++h) {
    if (levels_[h].size() < Capacity(h)) continue;
    if (h + 1 == levels_.size()) levels_.emplace_back();
    std::vector<double>& level = levels_[h];
    std::sort(level.begin(), level.end());
    // An odd item out stays; of the rest, every other one (from a random
    // start) goes up with twice the weight.
    const double kept = level.size() % 2 == 1 ? level.front() : 0;
    const size_t begin = level.size() % 2;
    const size_t offset = rng_() & 1;
    for (size_t i = begin + offset; i < level.size(); i += 2)
      levels_[h + 1].push_back(level[i]);
    const bool odd = begin == 1;
    levels_[h].clear();
    if (odd) levels_[h].push_back(kept);
  }
}

void KllSketch::Add(double x) {
  ++n_;
  min_ = std::min(min_, x);
  max_ = std::max(max_, x);
  levels_[0].push_back(x);
  if (levels_[0].size() >= Capacity(0)) Compact();
}

void KllSketch::Merge(const KllSketch& other) {
  if (other.n_ == 0) return;
  while (levels_.size() < other.levels_.size())
    levels_.emplace_back();
  for (size_t h = 0; h < other.levels_.size(); ++h)
    levels_[h].insert(levels_[h].end(), other.levels_[h].begin(), other.levels_[h].end());
  n_ += other.n_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
  Compact();
}

std::vector<std::pair<double, uint64_t>> KllSketch::Sorted() const {
  std::vector<std::pair<double, uint64_t>> items;
  items.reserve(retained());
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h])
      items.emplace_back(v, uint64_t{1} << h);
  }
  std::sort(items.begin(), items.end());
  return items;
}

double KllSketch::Quantile(double q) const {
  if (n_ == 0) return std::numeric_limits<double>::quiet_NaN();
  if (q <= 0) return min_;
  if (q >= 1) return max_;
  const auto items = Sorted();
  uint64_t total = 0;
  for (const auto& item : items)
    total += item.second;
  const double target = q * static_cast<double>(total);
  uint64_t seen = 0;
  for (const auto& [value, weight] : items) {
    seen += weight;
    if (static_cast<double>(seen) >= target) return value;
  }
  return max_;
}

double KllSketch::Rank(double x) const {
  if (n_ == 0) return 0;
  uint64_t below = 0, total = 0;
  for (size_t h = 0; h < levels_.size(); ++h) {
    for (double v : levels_[h]) {
      total += uint64_t{1} << h;
      if (v <= x) below += uint64_t{1} << h;
    }
  }
  return static_cast<double>(below) / static_cast<double>(total);
}

// --- TopK ------------------------------------------------------------------

void TopK::Add(std::string_view value) {
  ++n_;
  for (Entry& e : entries_) {
    if (e.value == value) {
      ++e.count;
      return;
    }
  }
  if (entries_.size() < capacity_) {
    entries_.push_back({std::string(value), 1, 0});
    return;
  }
  // Full: the least counted value gives its counter to the new one, whose
  // count may then be over-estimated by that much.
  auto least = std::min_element(entries_.begin(), entries_.end(),
                                [](const Entry& a, const Entry& b) { return a.count < b.count; });
  least->value.assign(value);
  least->error = least->count;
  ++least->count;
}

std::vector<TopK::Entry> TopK::Top(size_t n) const {
  std::vector<Entry> top = entries_;
  std::sort(top.begin(), top.end(), [](const Entry& a, const Entry& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  if (top.size() > n) top.resize(n);
  return top;
}

}  // namespace quiver
