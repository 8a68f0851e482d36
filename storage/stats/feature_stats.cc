#include "storage/stats/feature_stats.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <thread>
#include <unordered_map>

#include <xxhash.h>

#include "storage/online/row.h"

namespace quiver {

namespace {

// SplitMix64's finalizer: a bijection whose top bits (HyperLogLog's
// register index) depend on every input bit. XXH3 alone spreads the 4-8
// byte inputs of numbers and short strings less evenly over its top 12
// bits: 48 registers for the doubles 0..50 instead of the 50.7 expected.
uint64_t Mix(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t HashNumber(double x) {
  if (x == 0) x = 0;  // -0 and 0 are one value
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  return Mix(bits + 0x9e3779b97f4a7c15ull);
}

}  // namespace

// --- summaries ---------------------------------------------------------------

void FieldSummary::Merge(const FieldSummary& o) {
  values += o.values;
  nulls += o.nulls;
  non_finite += o.non_finite;
  moments.Merge(o.moments);
  distinct.Merge(o.distinct);
  quantiles.Merge(o.quantiles);
  top.Merge(o.top);
  dims.Merge(o.dims);
  below_min += o.below_min;
  above_max += o.above_max;
  not_allowed += o.not_allowed;
}

double FieldSummary::null_rate() const {
  const uint64_t rows = values + nulls;
  return rows == 0 ? 0 : static_cast<double>(nulls) / static_cast<double>(rows);
}

void WindowSummary::Merge(const WindowSummary& o) {
  rows += o.rows;
  if (fields.size() < o.fields.size()) fields.resize(o.fields.size());
  for (size_t i = 0; i < o.fields.size(); ++i)
    fields[i].Merge(o.fields[i]);
}

// --- the sharded store -----------------------------------------------------

struct FeatureStats::ViewWindows {
  WindowSummary retired;            // slots that left the ring
  std::vector<WindowSummary> ring;  // kSlots of them
  std::vector<int64_t> ring_slot;   // which slot each holds; -1: none
};

struct FeatureStats::Shard {
  std::mutex mu;
  std::unordered_map<uint32_t, std::unique_ptr<ViewWindows>> views;  // by view id
};

namespace {

WindowSummary EmptyWindow(const ViewSchema& view) {
  WindowSummary w;
  w.fields.resize(view.fields.size());
  for (size_t i = 0; i < view.fields.size(); ++i) {
    const TypeSpec type = view.fields[i].type;
    if (type.type == FieldType::kFloat32Vector)
      w.fields[i].dims = VectorMoments(std::min<size_t>(type.dim, FieldSummary::kMaxDims));
  }
  return w;
}

}  // namespace

FeatureStats::FeatureStats(Options options) : options_(options) {
  if (options_.shards == 0) options_.shards = std::max(4u, std::thread::hardware_concurrency());
  slot_ms_ = std::max<int64_t>(options_.recent_ms / kSlots, 1);
  for (uint32_t i = 0; i < options_.shards; ++i)
    shards_.push_back(std::make_unique<Shard>());
}

FeatureStats::~FeatureStats() = default;

FeatureStats::Shard& FeatureStats::ThreadShard() {
  static std::atomic<uint32_t> next{0};
  thread_local const uint32_t id = next.fetch_add(1, std::memory_order_relaxed);
  return *shards_[id % shards_.size()];
}

FeatureStats::Writer FeatureStats::Begin(const ViewSchema& view, int64_t now_ms) {
  Shard& shard = ThreadShard();
  std::unique_lock lock(shard.mu);
  std::unique_ptr<ViewWindows>& slot_of_view = shard.views[view.id];
  if (!slot_of_view) {
    slot_of_view = std::make_unique<ViewWindows>();
    slot_of_view->ring.resize(kSlots);
    slot_of_view->ring_slot.assign(kSlots, -1);
  }
  ViewWindows& w = *slot_of_view;
  const int64_t slot = now_ms / slot_ms_;
  const size_t i = static_cast<size_t>(slot % kSlots);
  if (w.ring_slot[i] != slot) {
    if (w.ring_slot[i] >= 0) w.retired.Merge(w.ring[i]);
    w.ring[i] = EmptyWindow(view);
    w.ring_slot[i] = slot;
  }
  return Writer(std::move(lock), &w.ring[i], &view);
}

std::optional<FeatureStats::Snapshot> FeatureStats::Take(const ViewSchema& view,
                                                         int64_t now_ms) const {
  const int64_t current = now_ms / slot_ms_;
  Snapshot snap;
  snap.started_ms = options_.started_ms;
  snap.since_start = EmptyWindow(view);
  snap.recent = EmptyWindow(view);
  bool any = false;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    auto it = shard->views.find(view.id);
    if (it == shard->views.end()) continue;
    any = true;
    const ViewWindows& w = *it->second;
    snap.since_start.Merge(w.retired);
    for (size_t i = 0; i < w.ring.size(); ++i) {
      if (w.ring_slot[i] < 0) continue;
      snap.since_start.Merge(w.ring[i]);
      if (w.ring_slot[i] > current - kSlots && w.ring_slot[i] <= current)
        snap.recent.Merge(w.ring[i]);
    }
  }
  if (!any) return std::nullopt;
  return snap;
}

uint64_t FeatureStats::RowsWritten(const ViewSchema& view) const {
  uint64_t rows = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mu);
    auto it = shard->views.find(view.id);
    if (it == shard->views.end()) continue;
    rows += it->second->retired.rows;
    for (size_t i = 0; i < it->second->ring.size(); ++i)
      rows += it->second->ring_slot[i] < 0 ? 0 : it->second->ring[i].rows;
  }
  return rows;
}

// --- recording -------------------------------------------------------------

void FeatureStats::Writer::Number(size_t field, double x) {
  FieldSummary& f = window_->fields[field];
  ++f.values;
  if (!std::isfinite(x)) {
    ++f.non_finite;
    return;
  }
  f.moments.Add(x);
  f.quantiles.Add(x);
  f.distinct.AddHash(HashNumber(x));
  const QualityChecks& checks = view_->fields[field].checks;
  if (checks.min && x < *checks.min) ++f.below_min;
  if (checks.max && x > *checks.max) ++f.above_max;
}

void FeatureStats::Writer::Fixed(size_t field, const uint8_t* p) {
  const Field& schema = view_->fields[field];
  switch (schema.type.type) {
    case FieldType::kBool:
      return Number(field, p[0] != 0 ? 1 : 0);
    case FieldType::kInt32:
      return Number(field, LoadUnaligned<int32_t>(p));
    case FieldType::kInt64:
      return Number(field, static_cast<double>(LoadUnaligned<int64_t>(p)));
    case FieldType::kFloat32:
      return Number(field, LoadUnaligned<float>(p));
    case FieldType::kFloat64:
      return Number(field, LoadUnaligned<double>(p));
    case FieldType::kFloat32Vector:
      break;
    case FieldType::kString:
    case FieldType::kBytes:
      return;  // not fixed-width
  }
  FieldSummary& f = window_->fields[field];
  ++f.values;
  const uint32_t dim = schema.type.dim;
  double squares = 0;
  float lo = 0, hi = 0;
  for (uint32_t d = 0; d < dim; ++d) {
    const auto x = LoadUnaligned<float>(p + d * sizeof(float));
    squares += static_cast<double>(x) * x;
    lo = d == 0 ? x : std::min(lo, x);
    hi = d == 0 ? x : std::max(hi, x);
  }
  if (!std::isfinite(squares)) {
    ++f.non_finite;
    return;
  }
  f.dims.Add(p);
  const double norm = std::sqrt(squares);
  f.moments.Add(norm);
  f.quantiles.Add(norm);
  // A vector violates a range check if any of its elements does.
  if (schema.checks.min && lo < *schema.checks.min) ++f.below_min;
  if (schema.checks.max && hi > *schema.checks.max) ++f.above_max;
}

void FeatureStats::Writer::Var(size_t field, std::string_view value) {
  FieldSummary& f = window_->fields[field];
  ++f.values;
  f.moments.Add(static_cast<double>(value.size()));
  f.distinct.AddHash(Mix(XXH3_64bits(value.data(), value.size())));
  const Field& schema = view_->fields[field];
  if (schema.type.type != FieldType::kString) return;
  f.top.Add(value);
  const auto& allowed = schema.checks.allowed;
  if (!allowed.empty() && !std::binary_search(allowed.begin(), allowed.end(), value))
    ++f.not_allowed;
}

void FeatureStats::Writer::Packed(std::span<const uint8_t> row) {
  Row();
  RowReader reader(view_->layout, row);
  for (size_t i = 0; i < view_->fields.size(); ++i) {
    if (!reader.present(i)) {
      Null(i);
    } else if (IsVariableWidth(view_->fields[i].type.type)) {
      Var(i, reader.Var(i));
    } else {
      Fixed(i, reader.FixedPtr(i));
    }
  }
}

}  // namespace quiver
