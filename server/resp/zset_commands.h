// What the sorted set command files (zsets.cc, zset_ranges.cc,
// zset_combine.cc) share: how they reply items and scores.
#pragma once

#include <span>

#include "server/resp/command.h"
#include "storage/keyspace/zset_index.h"

namespace quiver::resp {

// Items as ZRANGE replies them: members only, or with scores (in RESP3 an
// array of [member, score] pairs, in RESP2 one flat array).
void ReplyItems(Context& ctx, std::span<const ZItem> items, bool with_scores);

// Items with scores as ZMPOP replies them: an array of [member, score]
// pairs in both protocols.
void ReplyPairs(Context& ctx, std::span<const ZItem> items);

// The limit every sorted set write checks: whether members of these sizes
// fit under maxmemory (as ZIndex members, the larger form).
bool ZMembersFit(Context& ctx, Args members, size_t step);

}  // namespace quiver::resp
