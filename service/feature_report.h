// What the server reports about the values written to its views: the
// statistics document (GET /v1/views/{view}/stats and `quiver stats`) and
// the feature and quality gauges of /metrics (docs/monitoring.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "quiver/status.h"
#include "storage/features/feature_store.h"
#include "storage/stats/feature_stats.h"

namespace quiver {

class PrometheusText;

// The quality checks a window fails: "min", "max", "allowed" (a value was
// outside them) and "max_null_rate" (its share of nulls is over the limit).
std::vector<std::string> FailingChecks(const Field& field, const FieldSummary& summary);

// The JSON statistics document of one view; snapshot nullopt if nothing
// was written to it since the server started. recent_ms: the span of the
// recent window.
std::string ViewStatsJson(const ViewSchema& view,
                          const std::optional<FeatureStats::Snapshot>& snapshot, int64_t now_ms,
                          int64_t recent_ms);

// FailedPrecondition if the store keeps no statistics.
Status StatisticsOn(const FeatureStore& store);

// The view named "name" or "name@vN", if statistics are on. NotFound for
// an unknown view; FailedPrecondition if statistics are off. REQUIRES: the
// caller holds an rcu::ReadLock while it uses the result.
Result<const ViewSchema*> ResolveStatsView(const FeatureStore& store, std::string_view view);

// ViewStatsJson of a view named "name" or "name@vN" (errors as
// ResolveStatsView).
Result<std::string> ViewStatsDocument(const FeatureStore& store, std::string_view view);

// One view's statistics as /metrics serves them.
struct ViewStatsSample {
  std::string view;  // "name@vN"
  const ViewSchema* schema = nullptr;
  FeatureStats::Snapshot snapshot;
};

// Appends the feature_* and quality_* families for every view that has
// statistics. REQUIRES: each schema stays valid (the caller's read lock).
void AppendFeatureMetrics(const std::vector<ViewStatsSample>& views, PrometheusText& out);

// Snapshots of every view with statistics. REQUIRES: the caller holds an
// rcu::ReadLock while it uses the result.
std::vector<ViewStatsSample> SnapshotViews(const FeatureStore& store);

}  // namespace quiver
