// Definitions around the watch-events stream (../shared/WORKLOAD.md) for
// the tests of views computed from it: the source, its two entities and the
// per user-item progress view; each test adds its own user_activity view.
#pragma once

#include <string>
#include <string_view>

namespace quiver::testing {

// `kafka` is the source's kafka mapping; `user_activity_fields` the YAML
// list items of user_activity's fields; `progress_version` the version of
// user_item_progress.
inline std::string WatchEventsDefinitions(std::string_view kafka,
                                          std::string_view user_activity_fields,
                                          int progress_version) {
  return std::string(R"(
sources:
  - {name: watch_events, kafka: )") +
         std::string(kafka) + R"(, format: json, event_time: "$.ts"}
entities:
  - {name: user, keys: [user_id]}
  - {name: user_item, keys: [user_id, item_id]}
views:
  - name: user_activity
    entity: user
    source: watch_events
    keys: {user_id: "$.userId"}
    fields:
)" + std::string(user_activity_fields) +
         R"(
  - name: user_item_progress
    version: )" +
         std::to_string(progress_version) + R"(
    entity: user_item
    source: watch_events
    keys: {user_id: "$.userId", item_id: "$.itemId"}
    fields:
      - {name: watch_progress, type: float32, agg: last, of: "$.progress"}
)";
}

}  // namespace quiver::testing
