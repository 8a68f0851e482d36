#include "storage/stats/baseline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <limits>

#include "util/byte_codec.h"

namespace quiver {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
// Shares below this count as this in PSI (an empty bin would be infinite).
constexpr double kShareFloor = 1e-4;
// A category this frequent now and absent from the baseline is new.
constexpr double kNewCategoryShare = 0.01;

bool IsNumber(FieldType t) {
  return t != FieldType::kString && t != FieldType::kBytes && t != FieldType::kFloat32Vector;
}

// The z with Phi(z) = p, by bisection on erfc (exact to double precision
// in 100 steps; baselines are made rarely).
double NormalQuantile(double p) {
  double lo = -40, hi = 40;
  for (int i = 0; i < 100; ++i) {
    const double mid = (lo + hi) / 2;
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return (lo + hi) / 2;
}

// kPoints quantiles of the weighted values of a KLL sketch.
std::vector<double> Quantiles(const KllSketch& sketch) {
  const auto items = sketch.Sorted();
  uint64_t total = 0;
  for (const auto& item : items)
    total += item.second;
  std::vector<double> points;
  size_t next = 0;
  uint64_t seen = 0;
  for (size_t i = 0; i < FieldBaseline::kPoints; ++i) {
    const double target = (i + 0.5) / FieldBaseline::kPoints * static_cast<double>(total);
    while (next + 1 < items.size() && static_cast<double>(seen + items[next].second) < target)
      seen += items[next++].second;
    points.push_back(items[next].first);
  }
  return points;
}

// A step distribution function: the share of values <= x (or < x).
class Cdf {
 public:
  // From sorted (value, weight) pairs.
  explicit Cdf(std::vector<std::pair<double, uint64_t>> items) : items_(std::move(items)) {
    uint64_t sum = 0;
    for (const auto& item : items_) {
      sum += item.second;
      cumulative_.push_back(sum);
    }
  }
  static Cdf Of(const std::vector<double>& sorted) {
    std::vector<std::pair<double, uint64_t>> items;
    for (double x : sorted)
      items.emplace_back(x, 1);
    return Cdf(std::move(items));
  }
  double AtMost(double x) const {
    return Share(std::upper_bound(items_.begin(), items_.end(), x, ByValue));
  }
  double Below(double x) const {
    return Share(std::lower_bound(items_.begin(), items_.end(), x,
                                  [](const auto& item, double v) { return item.first < v; }));
  }
  const std::vector<std::pair<double, uint64_t>>& items() const { return items_; }

 private:
  static bool ByValue(double v, const std::pair<double, uint64_t>& item) { return v < item.first; }
  double Share(std::vector<std::pair<double, uint64_t>>::const_iterator it) const {
    if (cumulative_.empty() || it == items_.begin()) return 0;
    return static_cast<double>(cumulative_[it - items_.begin() - 1]) /
           static_cast<double>(cumulative_.back());
  }
  std::vector<std::pair<double, uint64_t>> items_;
  std::vector<uint64_t> cumulative_;
};

double PsiTerm(double current, double base) {
  current = std::max(current, kShareFloor);
  base = std::max(base, kShareFloor);
  return (current - base) * std::log(current / base);
}

// PSI over bins cut at the baseline's deciles (fewer where they repeat).
double NumericPsi(const std::vector<double>& points, const Cdf& base, const Cdf& current) {
  std::vector<double> edges;
  for (size_t k = 1; k < 10; ++k)
    edges.push_back(points[k * points.size() / 10]);
  edges.erase(std::unique(edges.begin(), edges.end()), edges.end());
  double psi = 0, base_below = 0, current_below = 0;
  for (double e : edges) {
    const double b = base.AtMost(e), c = current.AtMost(e);
    psi += PsiTerm(c - current_below, b - base_below);
    base_below = b;
    current_below = c;
  }
  return psi + PsiTerm(1 - current_below, 1 - base_below);
}

// The largest gap between the two distribution functions: both are step
// functions, so it is at a step of one of them, just there or just before.
double KolmogorovSmirnov(const Cdf& base, const Cdf& current) {
  double ks = 0;
  for (const Cdf* steps : {&base, &current}) {
    for (const auto& [x, w] : steps->items()) {
      ks = std::max(ks, std::abs(base.AtMost(x) - current.AtMost(x)));
      ks = std::max(ks, std::abs(base.Below(x) - current.Below(x)));
    }
  }
  return ks;
}

void MeasureNumeric(const FieldBaseline& b, const FieldSummary& s, FieldDrift* d) {
  const Cdf base = Cdf::Of(b.points), current(s.quantiles.Sorted());
  d->psi = NumericPsi(b.points, base, current);
  d->ks = KolmogorovSmirnov(base, current);
  const double shift = std::abs(s.moments.mean() - b.mean);
  d->mean_shift =
      b.stddev > 0 ? shift / b.stddev : (shift == 0 ? 0 : std::numeric_limits<double>::infinity());
  d->stddev_ratio = b.stddev > 0 ? s.moments.stddev() / b.stddev : kNaN;
}

void MeasureCategorical(const FieldBaseline& b, const FieldSummary& s, FieldDrift* d) {
  d->ks = d->mean_shift = d->stddev_ratio = kNaN;
  const auto n = static_cast<double>(s.values);
  // With a long tail in the baseline, a value it does not list may be one
  // of its `other`: such values then share the `other` bin.
  const bool listed_all = b.other < kNewCategoryShare;
  const std::vector<TopK::Entry> top = s.top.Top(FieldBaseline::kCategories);
  double psi = 0, current_listed = 0;
  for (const auto& [value, share] : b.categories) {
    double current = 0;
    for (const TopK::Entry& e : top)
      current = e.value == value ? static_cast<double>(e.count) / n : current;
    psi += PsiTerm(current, share);
    current_listed += current;
  }
  for (const TopK::Entry& e : top) {
    const bool known = std::any_of(b.categories.begin(), b.categories.end(),
                                   [&](const auto& c) { return c.first == e.value; });
    if (known) continue;
    const double share = static_cast<double>(e.count) / n;
    if (!listed_all) continue;  // counted in `other` below
    psi += PsiTerm(share, 0);
    current_listed += share;
    if (share >= kNewCategoryShare) d->new_categories.push_back(e.value);
  }
  d->psi = psi + PsiTerm(std::max(0.0, 1 - current_listed), b.other);
}

// --- encoding --------------------------------------------------------------

constexpr uint8_t kEncodingVersion = 1;

void PutString(std::string* out, std::string_view s) {
  Put(out, static_cast<uint32_t>(s.size()));
  out->append(s);
}

bool GetString(ByteReader& r, std::string* s) {
  uint32_t n = 0;
  return r.Get(&n) && r.Bytes(n, s);
}

// A count of items, each at least min_bytes long: refuses counts the
// remaining bytes cannot hold (a corrupt entry must not allocate much).
bool GetCount(ByteReader& r, size_t min_bytes, uint32_t* n) {
  return r.Get(n) && *n <= r.remaining() / min_bytes;
}

bool DecodeField(ByteReader& r, FieldBaseline* f) {
  uint8_t kind = 0;
  uint32_t points = 0, categories = 0;
  if (!GetString(r, &f->field) || !r.Get(&kind) || kind > 2 || !r.Get(&f->count) ||
      !r.Get(&f->mean) || !r.Get(&f->stddev) || !GetCount(r, sizeof(double), &points)) {
    return false;
  }
  f->kind = static_cast<FieldBaseline::Kind>(kind);
  f->points.resize(points);
  for (double& p : f->points) {
    if (!r.Get(&p)) return false;
  }
  if (!GetCount(r, 4 + sizeof(double), &categories)) return false;
  f->categories.resize(categories);
  for (auto& [value, share] : f->categories) {
    if (!GetString(r, &value) || !r.Get(&share)) return false;
  }
  return r.Get(&f->other);
}

}  // namespace

const FieldBaseline* ViewBaseline::Find(std::string_view field) const {
  for (const FieldBaseline& f : fields) {
    if (f.field == field) return &f;
  }
  return nullptr;
}

ViewBaseline CaptureBaseline(const ViewSchema& view, const WindowSummary& window,
                             std::string_view window_name, int64_t now_ms) {
  ViewBaseline out;
  out.captured_ms = now_ms;
  out.window = std::string(window_name);
  for (size_t i = 0; i < view.fields.size() && i < window.fields.size(); ++i) {
    const FieldSummary& s = window.fields[i];
    const FieldType type = view.fields[i].type.type;
    FieldBaseline f;
    f.field = view.fields[i].name;
    if (type == FieldType::kString && s.values > 0) {
      f.kind = FieldBaseline::Kind::kCategorical;
      f.count = s.values;
      double listed = 0;
      for (const TopK::Entry& e : s.top.Top(FieldBaseline::kCategories)) {
        const double share = static_cast<double>(e.count) / static_cast<double>(s.values);
        f.categories.emplace_back(e.value, share);
        listed += share;
      }
      f.other = std::max(0.0, 1 - listed);
    } else if ((IsNumber(type) || type == FieldType::kFloat32Vector) && s.moments.count() > 0) {
      f.kind = FieldBaseline::Kind::kNumeric;
      f.count = s.moments.count();
      f.mean = s.moments.mean();
      f.stddev = s.moments.stddev();
      f.points = Quantiles(s.quantiles);
    } else {
      continue;
    }
    out.fields.push_back(std::move(f));
  }
  return out;
}

ViewBaseline ExpectedBaseline(const ViewSchema& view) {
  // The standard normal's quantiles, the same for every field: computing
  // them (by erfc) took 90% of a drift report's time over 700 fields.
  static const std::array<double, FieldBaseline::kPoints> kStandard = [] {
    std::array<double, FieldBaseline::kPoints> q;
    for (size_t i = 0; i < q.size(); ++i)
      q[i] = NormalQuantile((static_cast<double>(i) + 0.5) / FieldBaseline::kPoints);
    return q;
  }();
  ViewBaseline out;
  out.source = ViewBaseline::Source::kExpected;
  for (const Field& field : view.fields) {
    const ExpectedStats& e = field.expected;
    if (!IsNumber(field.type.type) || !e.mean || !e.stddev || !(*e.stddev > 0)) continue;
    FieldBaseline f;
    f.field = field.name;
    f.kind = FieldBaseline::Kind::kNumeric;
    f.mean = *e.mean;
    f.stddev = *e.stddev;
    for (size_t i = 0; i < FieldBaseline::kPoints; ++i) {
      double x = *e.mean + *e.stddev * kStandard[i];
      if (e.min) x = std::max(x, *e.min);
      if (e.max) x = std::min(x, *e.max);
      f.points.push_back(x);
    }
    out.fields.push_back(std::move(f));
  }
  return out;
}

std::string EncodeBaseline(const ViewBaseline& b) {
  std::string out;
  Put(&out, kEncodingVersion);
  Put(&out, static_cast<uint8_t>(b.source));
  Put(&out, b.captured_ms);
  PutString(&out, b.window);
  Put(&out, static_cast<uint32_t>(b.fields.size()));
  for (const FieldBaseline& f : b.fields) {
    PutString(&out, f.field);
    Put(&out, static_cast<uint8_t>(f.kind));
    Put(&out, f.count);
    Put(&out, f.mean);
    Put(&out, f.stddev);
    Put(&out, static_cast<uint32_t>(f.points.size()));
    for (double p : f.points)
      Put(&out, p);
    Put(&out, static_cast<uint32_t>(f.categories.size()));
    for (const auto& [value, share] : f.categories) {
      PutString(&out, value);
      Put(&out, share);
    }
    Put(&out, f.other);
  }
  return out;
}

Result<ViewBaseline> DecodeBaseline(std::string_view bytes) {
  ByteReader r(bytes);
  ViewBaseline b;
  uint8_t version = 0, source = 0;
  uint32_t fields = 0;
  if (!r.Get(&version) || version != kEncodingVersion || !r.Get(&source) || source > 1 ||
      !r.Get(&b.captured_ms) || !GetString(r, &b.window) || !GetCount(r, 8, &fields)) {
    return Status::Internal("a stored drift baseline is malformed");
  }
  b.source = static_cast<ViewBaseline::Source>(source);
  b.fields.resize(fields);
  for (FieldBaseline& f : b.fields) {
    if (!DecodeField(r, &f)) return Status::Internal("a stored drift baseline is malformed");
  }
  if (!r.done()) return Status::Internal("a stored drift baseline has trailing bytes");
  return b;
}

FieldDrift MeasureDrift(const Field& field, const FieldBaseline& baseline,
                        const FieldSummary& current) {
  FieldDrift d;
  d.field = field.name;
  const bool categorical = baseline.kind == FieldBaseline::Kind::kCategorical;
  d.count = categorical ? current.values : current.moments.count();
  d.psi = d.ks = d.mean_shift = d.stddev_ratio = kNaN;
  if (baseline.kind == FieldBaseline::Kind::kNone || d.count == 0) return d;
  if (categorical) {
    MeasureCategorical(baseline, current, &d);
  } else {
    if (baseline.points.empty()) return d;
    MeasureNumeric(baseline, current, &d);
  }
  d.judged = d.count >= field.drift.min_count;
  const std::pair<const char*, double> checks[] = {
      {"psi", d.psi / field.drift.psi},
      {"ks", d.ks / field.drift.ks},
      {"mean_shift", d.mean_shift / field.drift.mean_shift},
  };
  for (const auto& [name, ratio] : checks) {
    if (ratio > 1) d.exceeded.emplace_back(name);  // false for NaN
  }
  d.drifting = d.judged && !d.exceeded.empty();
  return d;
}

}  // namespace quiver
