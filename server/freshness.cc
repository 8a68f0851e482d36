#include "server/freshness.h"

#include <algorithm>
#include <memory>

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
  std::vector<uint64_t> ages(Histogram::kBuckets);
  for (const auto& view : views) {
    ViewFreshness f{.view = view->QualifiedName(), .sla_ms = view->freshness_ms};
    std::fill(ages.begin(), ages.end(), 0);
    int64_t oldest = 0;
    rcu::ReadLock lock;
    store.table().ForEachInView(view->id, [&](const Record& r) {
      f.memory_bytes += static_cast<int64_t>(r.allocation_size());
      if (r.ExpiredAt(now)) {
        ++f.expired;
        return;
      }
      ++f.rows;
      const int64_t age = std::max<int64_t>(now - r.event_time_ms, 0);
      oldest = std::max(oldest, age);
      ++ages[Histogram::BucketOf(age)];
      if (f.sla_ms > 0 && age > f.sla_ms) ++f.past_sla;
    });
    f.age_ms = Histogram::Summarize(ages, oldest);
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace quiver
