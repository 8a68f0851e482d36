#include "storage/stats/sketches.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstring>

#include <xxhash.h>

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

// --- VectorMoments ---------------------------------------------------------

void VectorMoments::Add(const uint8_t* x) {
  const size_t dims = sum_.size();
  if (n_ == 0) {
    for (size_t d = 0; d < dims; ++d) {
      float v;
      std::memcpy(&v, x + d * sizeof(float), sizeof v);
      shift_[d] = v;
    }
  }
  ++n_;
  for (size_t d = 0; d < dims; ++d) {
    float v;
    std::memcpy(&v, x + d * sizeof(float), sizeof v);
    const double delta = static_cast<double>(v) - shift_[d];
    sum_[d] += delta;
    squares_[d] += delta * delta;
  }
}

void VectorMoments::Merge(const VectorMoments& o) {
  if (o.n_ == 0) return;
  if (n_ == 0) {
    *this = o;
    return;
  }
  // Re-express the other's sums around this shift: x - s = (x - t) + (t - s).
  const auto n = static_cast<double>(o.n_);
  for (size_t d = 0; d < sum_.size() && d < o.sum_.size(); ++d) {
    const double k = o.shift_[d] - shift_[d];
    sum_[d] += o.sum_[d] + n * k;
    squares_[d] += o.squares_[d] + 2 * k * o.sum_[d] + n * k * k;
  }
  n_ += o.n_;
}

double VectorMoments::mean(size_t d) const {
  return n_ == 0 ? std::numeric_limits<double>::quiet_NaN()
                 : shift_[d] + sum_[d] / static_cast<double>(n_);
}

double VectorMoments::stddev(size_t d) const {
  if (n_ < 2) return n_ == 1 ? 0 : std::numeric_limits<double>::quiet_NaN();
  const auto n = static_cast<double>(n_);
  const double variance = (squares_[d] - sum_[d] * sum_[d] / n) / (n - 1);
  return std::sqrt(std::max(variance, 0.0));
}

// --- HyperLogLog -----------------------------------------------------------

void HyperLogLog::AddHash(uint64_t hash) {
  if (registers_.empty()) registers_.resize(size_t{1} << kPrecision);
  const size_t index = hash >> (64 - kPrecision);
  // The rank of the first set bit of the remaining bits (a sentinel bit
  // bounds it when they are all zero).
  const uint64_t rest = (hash << kPrecision) | (uint64_t{1} << (kPrecision - 1));
  const auto rank = static_cast<uint8_t>(std::countl_zero(rest) + 1);
  registers_[index] = std::max(registers_[index], rank);
}

void HyperLogLog::Merge(const HyperLogLog& other) {
  if (other.registers_.empty()) return;
  if (registers_.empty()) {
    registers_ = other.registers_;
    return;
  }
  for (size_t i = 0; i < registers_.size(); ++i)
    registers_[i] = std::max(registers_[i], other.registers_[i]);
}

double HyperLogLog::Estimate() const {
  if (registers_.empty()) return 0;
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
  AddLevel();
}

void KllSketch::AddLevel() {
  levels_.emplace_back();
  // The top level holds k items, each level below 2/3 of the one above,
  // never fewer than 8.
  capacities_.resize(levels_.size());
  for (size_t level = 0; level < levels_.size(); ++level) {
    const size_t depth = levels_.size() - 1 - level;
    capacities_[level] =
        std::max<size_t>(8, static_cast<size_t>(std::ceil(k_ * std::pow(2.0 / 3.0, depth))));
  }
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
    if (h + 1 == levels_.size()) AddLevel();
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
    AddLevel();
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

size_t TopK::Hash::operator()(std::string_view s) const {
  return XXH3_64bits(s.data(), s.size());
}

void TopK::Reindex() {
  index_.clear();
  for (uint32_t i = 0; i < entries_.size(); ++i)
    index_.emplace(entries_[i].value, i);
}

uint64_t TopK::Floor() const {
  if (entries_.size() < capacity_) return 0;
  uint64_t least = entries_.front().count;
  for (const Entry& e : entries_)
    least = std::min(least, e.count);
  return least;
}

void TopK::Add(std::string_view value) {
  ++n_;
  if (auto it = index_.find(value); it != index_.end()) {
    ++entries_[it->second].count;
    return;
  }
  if (entries_.size() < capacity_) {
    entries_.push_back({std::string(value), 1, 0});
    index_.emplace(entries_.back().value, static_cast<uint32_t>(entries_.size() - 1));
    return;
  }
  // Full: the least counted value gives its counter to the new one, whose
  // count may then be over-estimated by that much.
  auto least = std::min_element(entries_.begin(), entries_.end(),
                                [](const Entry& a, const Entry& b) { return a.count < b.count; });
  index_.erase(index_.find(std::string_view(least->value)));
  least->value.assign(value);
  least->error = least->count;
  ++least->count;
  index_.emplace(least->value, static_cast<uint32_t>(least - entries_.begin()));
}

void TopK::Merge(const TopK& other) {
  if (other.n_ == 0) return;
  const uint64_t floor = Floor(), other_floor = other.Floor();
  std::vector<Entry> merged;
  merged.reserve(entries_.size() + other.entries_.size());
  for (const Entry& e : entries_) {
    auto it = other.index_.find(std::string_view(e.value));
    const Entry* o = it == other.index_.end() ? nullptr : &other.entries_[it->second];
    merged.push_back(
        {e.value, e.count + (o ? o->count : other_floor), e.error + (o ? o->error : other_floor)});
  }
  for (const Entry& o : other.entries_) {
    if (index_.find(std::string_view(o.value)) == index_.end())
      merged.push_back({o.value, o.count + floor, o.error + floor});
  }
  std::sort(merged.begin(), merged.end(),
            [](const Entry& a, const Entry& b) { return a.count > b.count; });
  if (merged.size() > capacity_) merged.resize(capacity_);
  entries_ = std::move(merged);
  n_ += other.n_;
  Reindex();
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
