// One feature's distribution, as the dashboard draws it: GET
// /v1/views/{view}/distribution?field=F[&bins=N] (docs/dashboard.md).
//
// Numbers (and the L2 norms of vectors): a histogram from the KLL sketch of
// each statistics window (since the start, and recent), over one set of
// equal-width bins that also holds the drift baseline's distribution, so
// that the three overlay. The bins span the 0.5th to the 99.5th percentile
// of the three together; the first and last bins also count the values
// beyond. Integer fields whose range fits the bins get one bin per value.
// Strings: the most frequent categories of each window and of the
// baseline, as shares of the values. Both: counts, nulls, null rates.
#pragma once

#include <string>
#include <string_view>

#include "quiver/status.h"
#include "storage/features/feature_store.h"

namespace quiver::dashboard {

inline constexpr int kDefaultBins = 40;
inline constexpr int kMaxBins = 400;

// NotFound for an unknown view or field; InvalidArgument for bins outside
// [1, kMaxBins]; FailedPrecondition if statistics are off.
Result<std::string> DistributionDocument(const FeatureStore& store, std::string_view view,
                                         std::string_view field, int bins = kDefaultBins);

}  // namespace quiver::dashboard
