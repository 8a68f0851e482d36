// A feature store with statistics on a clock the test moves, and one view
// of every kind of field the dashboard draws: a number with expected
// statistics (so a drift baseline), a small integer, a category.
#pragma once

#include <random>
#include <string>
#include <vector>

#include "storage/features/feature_store.h"
#include "support/test_columns.h"
#include "util/rcu.h"

namespace quiver {

inline constexpr char kItemsDefinitions[] = R"(
entities:
  - {name: item, keys: [item_id]}
views:
  - name: items
    entity: item
    freshness: 10s
    fields:
      - {name: price, type: float64, expected: {mean: 10, stddev: 2}}
      - {name: stars, type: int64}
      - {name: genre, type: string}
      - {name: photo, type: bytes}
)";

class ItemsStore {
 public:
  ItemsStore()
      : table_(OnlineTable::Options{.shards = 4, .max_memory_bytes = 0}),
        store_(registry_, table_, nullptr,
               {.now_ms = [this] { return now_ms; }, .statistics = true, .stats = {}}) {
    if (!store_.Apply(kItemsDefinitions).ok()) std::abort();
  }

  // Writes rows item<first>..item<first+n-1>: price from a normal
  // distribution (mean, stddev 2; seeded by first), stars i % 5, genre
  // genres[i % size].
  Status Write(int first, int n, double mean, const std::vector<std::string>& genres) {
    std::vector<std::string> keys;
    std::vector<double> prices;
    std::vector<int64_t> stars;
    std::vector<std::string> names;
    std::mt19937_64 rng(static_cast<uint64_t>(first));
    std::normal_distribution<double> normal(mean, 2.0);
    for (int i = first; i < first + n; ++i) {
      keys.push_back("item" + std::to_string(i));
      prices.push_back(normal(rng));
      stars.push_back(i % 5);
      names.push_back(genres[static_cast<size_t>(i) % genres.size()]);
    }
    std::vector<TestColumn> columns{Fixed<double>("price", FieldType::kFloat64, prices),
                                    Fixed<int64_t>("stars", FieldType::kInt64, stars),
                                    Strings("genre", names)};
    std::vector<ColumnInput> inputs;
    for (const TestColumn& c : columns)
      inputs.push_back(c.input());
    std::vector<std::string_view> key_views(keys.begin(), keys.end());
    std::vector<int64_t> times(keys.size(), now_ms);
    return store_.Write(WriteRequest{"items", key_views, times, inputs}, nullptr).status();
  }

  FeatureStore& store() { return store_; }
  int64_t now_ms = 1'800'000'000'000;

 private:
  rcu::ThreadRegistration registration_;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
};

}  // namespace quiver
