// The smallest feature view a front-end test needs: user -> profile with
// one int64 field, visits; and a write of it straight to the store.
#pragma once

#include <string_view>
#include <vector>

#include "storage/features/feature_store.h"
#include "support/test_columns.h"

namespace quiver {

inline constexpr char kVisitsDefinitions[] = R"(
entities:
  - {name: user, keys: [user_id]}
views:
  - name: profile
    entity: user
    fields:
      - {name: visits, type: int64}
)";

// Writes profile.visits of one user at the store's now.
inline Status WriteVisits(FeatureStore& store, std::string_view key, int64_t visits) {
  std::vector<TestColumn> columns{Fixed<int64_t>("visits", FieldType::kInt64, {visits})};
  std::vector<ColumnInput> inputs{columns[0].input()};
  std::vector<std::string_view> keys{key};
  std::vector<int64_t> times{store.NowMs()};
  return store.Write(WriteRequest{"profile", keys, times, inputs}, nullptr).status();
}

}  // namespace quiver
