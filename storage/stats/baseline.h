// Drift baselines: what a field's values looked like when they were known
// to be right, and how far the values written since have moved from it
// (docs/monitoring.md#drift).
//
// A baseline is captured from the statistics of a view (FeatureStats) or
// derived from a field's `expected` statistics (a normal distribution with
// the expected mean and stddev, clipped to [min, max]). Numbers (and vector
// norms) keep 256 quantiles of their distribution; strings their most
// frequent categories with their shares. Drift compares a window of
// current statistics with it: the population stability index over the
// baseline's deciles (or categories), the Kolmogorov-Smirnov statistic,
// and the shift of the mean in baseline standard deviations.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/status.h"
#include "storage/registry/schema.h"
#include "storage/stats/feature_stats.h"

namespace quiver {

struct FieldBaseline {
  enum class Kind : uint8_t { kNone = 0, kNumeric = 1, kCategorical = 2 };
  static constexpr size_t kPoints = 256;
  static constexpr size_t kCategories = 64;

  std::string field;
  Kind kind = Kind::kNone;
  uint64_t count = 0;  // values the baseline was made of (0 for expected)
  double mean = 0, stddev = 0;
  // kNumeric: the distribution's quantiles at (i + 0.5) / kPoints, sorted.
  std::vector<double> points;
  // kCategorical: the most frequent values and their shares of all values;
  // `other` is the share of every value not listed.
  std::vector<std::pair<std::string, double>> categories;
  double other = 0;
};

struct ViewBaseline {
  enum class Source : uint8_t { kCaptured = 0, kExpected = 1 };
  Source source = Source::kCaptured;
  int64_t captured_ms = 0;            // when it was captured (0 for expected)
  std::string window;                 // the statistics window it was captured from
  std::vector<FieldBaseline> fields;  // by name; fields without a baseline are absent

  const FieldBaseline* Find(std::string_view field) const;
};

// A baseline of every field from one window of a view's statistics; fields
// without values (or of type bytes) have none.
ViewBaseline CaptureBaseline(const ViewSchema& view, const WindowSummary& window,
                             std::string_view window_name, int64_t now_ms);

// A baseline from the fields' `expected` statistics: numbers whose
// expected mean and stddev are both given. Empty if no field has them.
ViewBaseline ExpectedBaseline(const ViewSchema& view);

// Binary encoding, for the history's metadata.
std::string EncodeBaseline(const ViewBaseline& baseline);
Result<ViewBaseline> DecodeBaseline(std::string_view bytes);

struct FieldDrift {
  std::string field;
  uint64_t count = 0;   // values in the compared window
  bool judged = false;  // count >= the field's drift.min_count, and a baseline exists
  double psi = 0;
  double ks = 0;            // NaN for categories
  double mean_shift = 0;    // |mean - baseline mean| / baseline stddev; NaN for categories
  double stddev_ratio = 0;  // stddev / baseline stddev; NaN for categories
  bool drifting = false;    // judged and over a threshold
  std::vector<std::string> exceeded;        // "psi", "ks", "mean_shift"
  std::vector<std::string> new_categories;  // frequent now (>= 1%), absent from the baseline
};

// How far `current` (one field's window) is from the field's baseline.
FieldDrift MeasureDrift(const Field& field, const FieldBaseline& baseline,
                        const FieldSummary& current);

}  // namespace quiver
