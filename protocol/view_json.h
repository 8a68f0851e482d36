// The JSON description of a view, in the one shape that `quiver views
// --json`, `quiver describe` and the HTTP port's `GET /v1/views` print
// (docs/protocol.md#views).
#pragma once

#include <string>

#include "quiver/view_info.h"

namespace quiver {

// One JSON object: name, version, entity, join_keys, ttl_ms, freshness_ms,
// retention_ms, owner, description, tags, depends_on, source and key_paths (computed
// views only), fields (name, type, default, description; agg, of,
// window_ms and hop_ms for computed fields).
std::string ViewJson(const ViewInfo& v);

}  // namespace quiver
