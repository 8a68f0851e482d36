#include "service/freshness.h"

#include <algorithm>
#include <memory>

#include "protocol/json_text.h"
#include "protocol/timestamp.h"
#include "util/rcu.h"

namespace quiver {

std::vector<ViewFreshness> FreshnessCache::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  const int64_t now = store_.NowMs();
  if (measured_at_ms_ < 0 || now - measured_at_ms_ >= interval_ms_) {
    measured_ = MeasureFreshness(store_);
    measured_at_ms_ = now;
  }
  return measured_;
}

std::vector<ViewFreshness> MeasureFreshness(FeatureStore& store) {
  std::vector<std::shared_ptr<const ViewSchema>> views;
  {
    rcu::ReadLock lock;
    views = store.registry().current().views();  // kept alive while measured
  }
  const int64_t now = store.NowMs();
  std::vector<ViewFreshness> out;
  std::vector<std::vector<uint64_t>> ages(views.size(), std::vector<uint64_t>(Histogram::kBuckets));
  std::vector<int64_t> oldest(views.size(), 0);
  // View id -> place in views, +1 (0: not a view of this catalog). Ids are
  // small and dense (the catalog numbers its views from 1).
  std::vector<uint32_t> index;
  for (size_t v = 0; v < views.size(); ++v) {
    if (views[v]->id >= index.size()) index.resize(views[v]->id + 1, 0);
    index[views[v]->id] = static_cast<uint32_t>(v + 1);
    out.push_back({.view = views[v]->QualifiedName(), .sla_ms = views[v]->freshness_ms});
  }
  // One pass over the table for every view (RESP keys are skipped).
  store.table().ForEach([&](const Record& r) {
    const uint32_t place = r.view_id < index.size() ? index[r.view_id] : 0;
    if (place == 0) return;
    const size_t at = place - 1;
    ViewFreshness& f = out[at];
    f.memory_bytes += static_cast<int64_t>(r.allocation_size());
    if (r.ExpiredAt(now)) {
      ++f.expired;
      return;
    }
    ++f.rows;
    const int64_t age = std::max<int64_t>(now - r.event_time_ms, 0);
    oldest[at] = std::max(oldest[at], age);
    ++ages[at][Histogram::BucketOf(age)];
    ++f.age_bins[static_cast<size_t>(
        std::upper_bound(std::begin(kAgeEdgesMs), std::end(kAgeEdgesMs), age) -
        std::begin(kAgeEdgesMs))];
    if (f.sla_ms > 0 && age > f.sla_ms) ++f.past_sla;
  });
  for (size_t v = 0; v < views.size(); ++v)
    out[v].age_ms = Histogram::Summarize(ages[v], oldest[v]);
  return out;
}

std::string FreshnessJson(const std::vector<ViewFreshness>& views, int64_t now_ms) {
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("server_time").String(FormatTimestampMs(now_ms)).Key("views").Open('[');
  for (const ViewFreshness& f : views) {
    w.Open('{').Key("view").String(f.view).Key("sla_ms").Int(f.sla_ms);
    w.Key("rows").Uint(f.rows).Key("expired").Uint(f.expired).Key("past_sla").Uint(f.past_sla);
    w.Key("past_sla_ratio").Number(f.rows == 0 ? 0.0 : static_cast<double>(f.past_sla) / f.rows);
    w.Key("memory_bytes").Int(f.memory_bytes).Key("age_ms").Open('{');
    Histogram::WritePercentiles(f.age_ms, w);
    w.Close();
    w.Key("age_histogram").Open('[');
    for (size_t i = 0; i < kAgeBins; ++i) {
      w.Open('{');
      if (i < std::size(kAgeEdgesMs)) w.Key("below_ms").Int(kAgeEdgesMs[i]);
      w.Key("rows").Uint(f.age_bins[i]).Close();
    }
    w.Close().Close();
  }
  w.Close().Close();
  out.push_back('\n');
  return out;
}

}  // namespace quiver
