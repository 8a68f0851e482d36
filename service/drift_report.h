// Drift of each view's written values from its baseline: the document of
// GET /v1/drift and `quiver drift`, baseline capture (`quiver baseline
// capture`), and the drift gauges of /metrics (docs/monitoring.md#drift).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "service/feature_report.h"
#include "storage/features/feature_store.h"
#include "storage/stats/baseline.h"

namespace quiver {

class PrometheusText;

// The drift document of one view ("name" or "name@vN"), or of every view
// with a baseline if `view` is empty, over the statistics window `window`
// ("recent" or "since_start"). A named view without a baseline is
// FailedPrecondition; statistics off is FailedPrecondition.
Result<std::string> DriftDocument(const FeatureStore& store, std::string_view view,
                                  std::string_view window);

// Captures the view's baseline from a window of its statistics and stores
// it; answers what was captured (JSON). An empty window is
// FailedPrecondition.
Result<std::string> CaptureBaselineDocument(FeatureStore& store, std::string_view view,
                                            std::string_view window);

// Forgets the view's captured baseline (drift then uses its expected
// statistics, if it declares them); answers {"view", "cleared": true}.
Result<std::string> ClearBaselineDocument(FeatureStore& store, std::string_view view);

// The baseline drift is measured against: the captured one, else the
// fields' expected statistics; null if there is neither.
std::shared_ptr<const ViewBaseline> BaselineOf(const FeatureStore& store, const ViewSchema& view);

// The drift of every field with a baseline, for each view sampled that
// has one, over their recent windows. REQUIRES: the caller's rcu::ReadLock.
struct MeasuredDrift {
  const ViewStatsSample* view;
  std::vector<FieldDrift> fields;
};
std::vector<MeasuredDrift> MeasureRecentDrift(const FeatureStore& store,
                                              const std::vector<ViewStatsSample>& views);

// quiver_drift_* and quiver_feature_drifting for the views sampled, over
// their recent windows. REQUIRES: the caller's rcu::ReadLock.
void AppendDriftMetrics(const FeatureStore& store, const std::vector<ViewStatsSample>& views,
                        PrometheusText& out);

}  // namespace quiver
