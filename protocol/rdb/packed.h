// The compact containers Redis nests inside RDB strings, decoded: LZF
// compression, listpacks (Redis 7), ziplists (before 7) and intsets. Each
// checks its header against the bytes it is given and never reads past
// them; integer entries are handed out as decimal text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "util/function_ref.h"

namespace quiver::rdb {

using EntryFn = FunctionRef<Status(std::string_view)>;

// The out_len bytes LZF-compressed in `in`; an error unless they are
// exactly that many.
Result<std::string> LzfDecompress(std::string_view in, size_t out_len);

// Calls fn with every entry of a listpack, a ziplist or an intset, in
// order; an error for a malformed container (or fn's first error). An
// empty container is an error too: Redis never writes one.
Status ForEachListpackEntry(std::string_view lp, EntryFn fn);
Status ForEachZiplistEntry(std::string_view zl, EntryFn fn);
Status ForEachIntsetEntry(std::string_view is, EntryFn fn);

// "Bad data format: <why>": every malformed value's error.
Status BadFormat(std::string_view why);

}  // namespace quiver::rdb
