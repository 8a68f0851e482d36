#include "service/histogram.h"

#include <algorithm>
#include <bit>

#include "protocol/json_text.h"

namespace quiver {

size_t Histogram::BucketOf(int64_t value) {
  if (value < (1 << kSubBits)) return static_cast<size_t>(std::max<int64_t>(value, 0));
  const auto v = static_cast<uint64_t>(value);
  const int msb = 63 - std::countl_zero(v);  // >= kSubBits
  const int shift = msb - kSubBits;
  const size_t sub = (v >> shift) & ((1u << kSubBits) - 1);
  const size_t bucket = (static_cast<size_t>(shift) + 1) * (1u << kSubBits) + sub;
  return std::min(bucket, kBuckets - 1);
}

int64_t Histogram::UpperEdge(size_t bucket) {
  if (bucket < (1u << kSubBits)) return static_cast<int64_t>(bucket);
  const size_t shift = bucket / (1u << kSubBits) - 1;
  const size_t sub = bucket % (1u << kSubBits);
  const uint64_t low = ((1u << kSubBits) + sub) << shift;
  return static_cast<int64_t>(low + (uint64_t{1} << shift) - 1);
}

void Histogram::Record(int64_t value) {
  counts_[BucketOf(value)].fetch_add(1, std::memory_order_relaxed);
  int64_t seen = max_.load(std::memory_order_relaxed);
  while (value > seen && !max_.compare_exchange_weak(seen, value, std::memory_order_relaxed)) {
  }
}

Histogram::Summary Histogram::Summarize() const {
  std::array<uint64_t, kBuckets> counts;
  for (size_t i = 0; i < kBuckets; ++i)
    counts[i] = counts_[i].load(std::memory_order_relaxed);
  return Summarize(counts, max_.load(std::memory_order_relaxed));
}

void Histogram::WritePercentiles(const Summary& s, JsonWriter& w) {
  w.Key("p50").Int(s.p50).Key("p90").Int(s.p90).Key("p99").Int(s.p99);
  w.Key("p999").Int(s.p999).Key("max").Int(s.max);
}

std::vector<uint64_t> Histogram::Counts() const {
  std::vector<uint64_t> counts(kBuckets);
  for (size_t i = 0; i < kBuckets; ++i)
    counts[i] = counts_[i].load(std::memory_order_relaxed);
  return counts;
}

Histogram::Summary Histogram::Summarize(std::span<const uint64_t> counts, int64_t max) {
  Summary s;
  for (uint64_t c : counts)
    s.count += c;
  s.max = max;
  if (s.count == 0) return s;
  const std::pair<double, int64_t*> wanted[] = {
      {0.5, &s.p50}, {0.9, &s.p90}, {0.99, &s.p99}, {0.999, &s.p999}};
  for (const auto& [q, out] : wanted) {
    const auto rank = static_cast<uint64_t>(q * static_cast<double>(s.count - 1)) + 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < counts.size(); ++i) {
      seen += counts[i];
      if (seen >= rank) {
        *out = std::min(UpperEdge(i), s.max);
        break;
      }
    }
  }
  return s;
}

}  // namespace quiver
