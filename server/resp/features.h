// Feature rows through the RESP port: `quiver:{view}:{key}` reads as a
// hash of the row's fields (HGET, HMGET, HGETALL, HKEYS, HVALS, HLEN,
// HEXISTS, HSTRLEN, HSCAN, HRANDFIELD), each value as text; writes to that
// namespace are refused. See docs/resp.md#feature-rows.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/features/feature_store.h"

namespace quiver::resp {

inline constexpr std::string_view kFeaturePrefix = "quiver:";

inline bool IsFeatureKey(std::string_view key) {
  return key.starts_with(kFeaturePrefix);
}

// The reply to a write naming a feature key.
inline constexpr std::string_view kFeatureKeyReadOnly =
    "ERR keys under 'quiver:' are feature rows, read-only through RESP: write them with "
    "quiver's native protocol (client library, Python client, CLI) or a Kafka source";

// The fields the row of a feature key sets, as items field, value, field,
// value, ... (viewing *text and the schema) in the view's field order;
// none if the entity has no live row. Fails on a malformed key, an
// unknown view or a wrong number of join keys.
// REQUIRES: rcu::ReadLock held while the items are used.
Status ReadFeatureRow(FeatureStore& store, std::string_view key,
                      std::vector<std::string_view>* items, std::string* text);

}  // namespace quiver::resp
