#include "server/freshness.h"

#include <algorithm>
#include <memory>
#include <unordered_map>

#include "storage/rcu.h"

namespace quiver {

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
  std::unordered_map<uint32_t, size_t> index;  // view id -> place in views
  for (size_t v = 0; v < views.size(); ++v) {
    index.emplace(views[v]->id, v);
    out.push_back({.view = views[v]->QualifiedName(), .sla_ms = views[v]->freshness_ms});
  }
  // One pass over the table for every view (RESP keys are skipped).
  store.table().ForEach([&](const Record& r) {
    auto it = index.find(r.view_id);
    if (it == index.end()) return;
    ViewFreshness& f = out[it->second];
    f.memory_bytes += static_cast<int64_t>(r.allocation_size());
    if (r.ExpiredAt(now)) {
      ++f.expired;
      return;
    }
    ++f.rows;
    const int64_t age = std::max<int64_t>(now - r.event_time_ms, 0);
    oldest[it->second] = std::max(oldest[it->second], age);
    ++ages[it->second][Histogram::BucketOf(age)];
    if (f.sla_ms > 0 && age > f.sla_ms) ++f.past_sla;
  });
  for (size_t v = 0; v < views.size(); ++v)
    out[v].age_ms = Histogram::Summarize(ages[v], oldest[v]);
  return out;
}

}  // namespace quiver
