// Freshness reports share one pass over the table per interval, whichever
// front end asks.
#include "service/freshness.h"

#include <gtest/gtest.h>

#include "support/visits_view.h"
#include "util/rcu.h"

namespace quiver {
namespace {

TEST(FreshnessCacheTest, ReportsWithinTheIntervalShareOneMeasure) {
  rcu::ThreadRegistration registration;
  int64_t now_ms = 1'000'000;
  Registry registry;
  OnlineTable table(OnlineTable::Options{.shards = 4, .max_memory_bytes = 0});
  FeatureStore store(registry, table, nullptr,
                     {.now_ms = [&] { return now_ms; }, .statistics = false, .stats = {}});
  ASSERT_TRUE(store.Apply(kVisitsDefinitions).ok());
  FreshnessCache cache(store, /*interval_ms=*/1000);
  ASSERT_EQ(cache.Get().at(0).rows, 0u);
  ASSERT_TRUE(WriteVisits(store, "u1", 1).ok());
  now_ms += 999;
  EXPECT_EQ(cache.Get().at(0).rows, 0u);  // the measure of a moment ago
  EXPECT_EQ(MeasureFreshness(store).at(0).rows, 1u);
  now_ms += 1;
  EXPECT_EQ(cache.Get().at(0).rows, 1u);  // a second later: measured again
}

}  // namespace
}  // namespace quiver
