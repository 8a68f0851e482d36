// Freshness of each view's served rows: how old the latest values are
// (now - event time), against the view's freshness SLA, with the rows and
// bytes each view holds. Computed on demand by one pass over the online
// table, for GET /v1/freshness and /metrics.
#pragma once

#include <array>
#include <cstdint>
#include <iterator>
#include <mutex>
#include <string>
#include <vector>

#include "service/histogram.h"
#include "storage/features/feature_store.h"

namespace quiver {

// The age distribution's bins: bin i holds the rows younger than
// kAgeEdgesMs[i] (and not younger than the edge before); the last bin holds
// the rows older than every edge.
inline constexpr int64_t kAgeEdgesMs[] = {1'000,         10'000,      60'000,
                                          5 * 60'000,    15 * 60'000, 3'600'000,
                                          6 * 3'600'000, 86'400'000,  7 * 86'400'000};
inline constexpr size_t kAgeBins = std::size(kAgeEdgesMs) + 1;

struct ViewFreshness {
  std::string view;       // "name@vN"
  int64_t sla_ms = 0;     // the view's freshness SLA; 0: none
  uint64_t rows = 0;      // served (not expired)
  uint64_t expired = 0;   // held in memory past their TTL, not served, not yet swept
  uint64_t past_sla = 0;  // served rows older than the SLA
  int64_t memory_bytes = 0;
  Histogram::Summary age_ms;                  // of the served rows
  std::array<uint64_t, kAgeBins> age_bins{};  // the served rows by age (kAgeEdgesMs)
};

// Every view of the current catalog, in its order, from one pass over the
// table. Takes the RCU read lock itself, one shard at a time: the caller
// must not hold it.
std::vector<ViewFreshness> MeasureFreshness(FeatureStore& store);

// MeasureFreshness at most once per interval: every report and scrape in
// that time (GET /v1/freshness, /metrics, GetMonitoring) shares one pass
// over the table, whichever front end asked. Thread-safe.
class FreshnessCache {
 public:
  explicit FreshnessCache(FeatureStore& store, int64_t interval_ms = 1000)
      : store_(store), interval_ms_(interval_ms) {}
  // The last measure if it is younger than the interval, else a new one.
  // The caller must not hold the RCU read lock (MeasureFreshness).
  std::vector<ViewFreshness> Get();

 private:
  FeatureStore& store_;
  const int64_t interval_ms_;
  std::mutex mu_;
  int64_t measured_at_ms_ = -1;          // guarded by mu_
  std::vector<ViewFreshness> measured_;  // guarded by mu_
};

// The JSON document of GET /v1/freshness and `quiver freshness`.
std::string FreshnessJson(const std::vector<ViewFreshness>& views, int64_t now_ms);

}  // namespace quiver
