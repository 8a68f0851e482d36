#include "server/dashboard/distribution.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "protocol/json_text.h"
#include "protocol/timestamp.h"
#include "service/drift_report.h"
#include "service/feature_report.h"
#include "util/rcu.h"

namespace quiver::dashboard {

namespace {

constexpr size_t kCategories = 20;  // the most frequent shown

bool IsInteger(FieldType t) {
  return t == FieldType::kBool || t == FieldType::kInt32 || t == FieldType::kInt64;
}

// Equal-width bins over [lo, hi]; values beyond count in the end bins.
struct Bins {
  double lo = 0, width = 1;
  size_t n = 1;
  size_t Of(double x) const {
    if (!(x > lo)) return 0;  // NaN too
    const double i = std::floor((x - lo) / width);
    return i >= static_cast<double>(n) ? n - 1 : static_cast<size_t>(i);
  }
  double Edge(size_t i) const { return lo + width * static_cast<double>(i); }
};

// The 0.5th and 99.5th percentiles of the windows and baseline together.
std::pair<double, double> Range(const std::vector<const KllSketch*>& sketches,
                                const FieldBaseline* baseline) {
  double lo = INFINITY, hi = -INFINITY;
  for (const KllSketch* k : sketches) {
    if (k->count() == 0) continue;
    lo = std::min(lo, k->Quantile(0.005));
    hi = std::max(hi, k->Quantile(0.995));
  }
  if (baseline != nullptr && !baseline->points.empty()) {
    const std::vector<double>& p = baseline->points;
    lo = std::min(lo, p[p.size() / 200]);
    hi = std::max(hi, p[p.size() - 1 - p.size() / 200]);
  }
  return {lo, hi};
}

Bins MakeBins(std::pair<double, double> range, size_t bins, bool integer) {
  auto [lo, hi] = range;
  if (!std::isfinite(lo) || !std::isfinite(hi)) return {};
  if (integer) {
    lo = std::floor(lo);
    hi = std::floor(hi);
    if (hi - lo + 1 <= static_cast<double>(bins))  // one bin per value, centred on it
      return {.lo = lo - 0.5, .width = 1, .n = static_cast<size_t>(hi - lo + 1)};
  }
  if (hi <= lo) return {.lo = lo - 0.5, .width = 1, .n = 1};
  return {.lo = lo, .width = (hi - lo) / static_cast<double>(bins), .n = bins};
}

std::vector<double> Shares(const KllSketch& k, const Bins& bins) {
  std::vector<double> shares(bins.n, 0.0);
  uint64_t total = 0;
  for (const auto& [value, weight] : k.Sorted()) {
    shares[bins.Of(value)] += static_cast<double>(weight);
    total += weight;
  }
  for (double& s : shares)
    s = total > 0 ? s / static_cast<double>(total) : 0.0;
  return shares;
}

std::vector<double> Shares(const FieldBaseline& b, const Bins& bins) {
  std::vector<double> shares(bins.n, 0.0);
  for (double p : b.points)
    shares[bins.Of(p)] += 1.0 / static_cast<double>(b.points.size());
  return shares;
}

void WriteNumbers(const std::vector<double>& xs, JsonWriter& w) {
  w.Open('[');
  for (double x : xs)
    w.Number(x);
  w.Close();
}

void WriteCounts(const FieldSummary& s, JsonWriter& w) {
  w.Key("count").Uint(s.values).Key("nulls").Uint(s.nulls).Key("null_rate").Number(s.null_rate());
  if (s.moments.count() > 0) {
    w.Key("mean").Number(s.moments.mean()).Key("stddev").Number(s.moments.stddev());
    w.Key("min").Number(s.moments.min()).Key("max").Number(s.moments.max());
  }
}

void WriteBaselineHead(const ViewBaseline& b, const FieldBaseline& f, JsonWriter& w) {
  w.Key("source").String(b.source == ViewBaseline::Source::kCaptured ? "captured" : "expected");
  if (b.source == ViewBaseline::Source::kCaptured)
    w.Key("captured_at").String(FormatTimestampMs(b.captured_ms));
  w.Key("count").Uint(f.count);
  if (f.kind == FieldBaseline::Kind::kNumeric)
    w.Key("mean").Number(f.mean).Key("stddev").Number(f.stddev);
}

using Windows = std::pair<const FieldSummary*, const FieldSummary*>;  // since start, recent

void WriteNumeric(const Field& field, const Windows& windows, const ViewBaseline* vb,
                  const FieldBaseline* baseline, size_t bins, JsonWriter& w) {
  const Bins b = MakeBins(Range({&windows.first->quantiles, &windows.second->quantiles}, baseline),
                          bins, IsInteger(field.type.type));
  w.Key("kind").String("numeric").Key("edges").Open('[');
  for (size_t i = 0; i <= b.n; ++i)
    w.Number(b.Edge(i));
  w.Close().Key("windows").Open('{');
  const std::pair<const char*, const FieldSummary*> named[] = {{"since_start", windows.first},
                                                               {"recent", windows.second}};
  for (const auto& [name, s] : named) {
    w.Key(name).Open('{');
    WriteCounts(*s, w);
    w.Key("shares");
    WriteNumbers(Shares(s->quantiles, b), w);
    w.Close();
  }
  w.Close().Key("baseline");
  if (baseline == nullptr || baseline->kind != FieldBaseline::Kind::kNumeric) {
    w.Null();
    return;
  }
  w.Open('{');
  WriteBaselineHead(*vb, *baseline, w);
  w.Key("shares");
  WriteNumbers(Shares(*baseline, b), w);
  w.Close();
}

// Share of each value among a window's values, for its most frequent ones.
std::map<std::string, double> TopShares(const FieldSummary& s) {
  std::map<std::string, double> out;
  if (s.values == 0) return out;
  for (const TopK::Entry& e : s.top.Top(kCategories))
    out[e.value] = static_cast<double>(e.count) / static_cast<double>(s.values);
  return out;
}

void WriteCategorical(const Windows& windows, const ViewBaseline* vb, const FieldBaseline* baseline,
                      JsonWriter& w) {
  const std::map<std::string, double> since = TopShares(*windows.first);
  const std::map<std::string, double> recent = TopShares(*windows.second);
  std::map<std::string, double> base;
  if (baseline != nullptr && baseline->kind == FieldBaseline::Kind::kCategorical) {
    for (const auto& [value, share] : baseline->categories)
      base[value] = share;
  }
  // Ordered by the larger of the recent and baseline shares, then since start.
  std::vector<std::pair<double, std::string>> order;
  auto share = [](const std::map<std::string, double>& m, const std::string& v) {
    auto it = m.find(v);
    return it == m.end() ? 0.0 : it->second;
  };
  const std::map<std::string, double>* sources[] = {&since, &recent, &base};
  for (const auto* m : sources) {
    for (const auto& [value, unused] : *m) {
      const double key =
          std::max(std::max(share(recent, value), share(base, value)), share(since, value) * 1e-3);
      order.emplace_back(-key, value);
    }
  }
  std::sort(order.begin(), order.end());
  order.erase(std::unique(order.begin(), order.end(),
                          [](const auto& a, const auto& b) { return a.second == b.second; }),
              order.end());
  if (order.size() > kCategories) order.resize(kCategories);
  w.Key("kind").String("categorical").Key("windows").Open('{');
  const std::pair<const char*, const FieldSummary*> named[] = {{"since_start", windows.first},
                                                               {"recent", windows.second}};
  for (const auto& [name, s] : named) {
    w.Key(name).Open('{');
    WriteCounts(*s, w);
    w.Close();
  }
  w.Close().Key("categories").Open('[');
  for (const auto& [unused, value] : order) {
    w.Open('{').Key("value").String(value).Key("since_start").Number(share(since, value));
    w.Key("recent").Number(share(recent, value));
    if (!base.empty()) w.Key("baseline").Number(share(base, value));
    w.Close();
  }
  w.Close().Key("baseline");
  if (base.empty()) {
    w.Null();
    return;
  }
  w.Open('{');
  WriteBaselineHead(*vb, *baseline, w);
  w.Key("other").Number(baseline->other).Close();
}

}  // namespace

Result<std::string> DistributionDocument(const FeatureStore& store, std::string_view view,
                                         std::string_view field, int bins) {
  if (bins < 1 || bins > kMaxBins) {
    return Status::InvalidArgument("bins must be from 1 to " + std::to_string(kMaxBins));
  }
  rcu::ReadLock lock;
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* schema, ResolveStatsView(store, view));
  const int index = schema->FieldIndex(field);
  if (index < 0) {
    return Status::NotFound("no field '" + std::string(field) + "' in view " +
                            schema->QualifiedName());
  }
  const Field& f = schema->fields[static_cast<size_t>(index)];
  const int64_t now = store.NowMs();
  const std::optional<FeatureStats::Snapshot> snap = store.stats()->Take(*schema, now);
  const FieldSummary empty;
  const Windows windows{snap ? &snap->since_start.fields[index] : &empty,
                        snap ? &snap->recent.fields[index] : &empty};
  const std::shared_ptr<const ViewBaseline> vb = BaselineOf(store, *schema);
  const FieldBaseline* baseline = vb ? vb->Find(f.name) : nullptr;
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("view").String(schema->QualifiedName()).Key("field").String(f.name);
  w.Key("type").String(TypeName(f.type)).Key("server_time").String(FormatTimestampMs(now));
  w.Key("recent_window_ms").Int(store.stats()->options().recent_ms);
  if (f.type.type == FieldType::kString) {
    WriteCategorical(windows, vb.get(), baseline, w);
  } else if (f.type.type == FieldType::kBytes) {
    w.Key("kind").String("none").Key("windows").Open('{');
    w.Key("since_start").Open('{');
    WriteCounts(*windows.first, w);
    w.Close().Key("recent").Open('{');
    WriteCounts(*windows.second, w);
    w.Close().Close();
  } else {
    if (f.type.type == FieldType::kFloat32Vector) w.Key("of").String("l2_norm");
    WriteNumeric(f, windows, vb.get(), baseline, static_cast<size_t>(bins), w);
  }
  w.Close();
  out.push_back('\n');
  return out;
}

}  // namespace quiver::dashboard
