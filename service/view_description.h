// DescribeView: a view of the registry as clients see it (ViewInfo), the
// one description the HTTP port prints (protocol/view_json.h) in the same
// shape as the CLI prints what the native port sends.
#pragma once

#include "quiver/view_info.h"
#include "storage/registry/registry.h"

namespace quiver {

// REQUIRES: an RCU read lock held while the catalog is used.
ViewInfo DescribeView(const ViewSchema& view, const Catalog& catalog);

}  // namespace quiver
