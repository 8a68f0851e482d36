// Applying the changelog's feature-row records (kPut, kDelete) to the
// feature store, and the replies the writer's front end decodes.
//
// A reply is "+" and the result (Put: u32 applied, u32 stale; Delete: u32
// deleted; Definitions: the created, updated and unchanged lists, each a
// varint count of varint-sized names), or "-", a u8 status code and the message of the error the
// request deserved (an unknown field, a bad event time): every member
// computes the same. A condition of this member only (the memory limit,
// the disk, a view not yet defined here) is not a reply but an
// Unavailable status: the changelog tries the record again.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "server/cluster/record.h"
#include "storage/features/feature_store.h"

namespace quiver::cluster {

// REQUIRES: kind is kPut, kDelete or kDefinitions.
Result<std::string> ApplyFeatureRecord(FeatureStore& store, RecordKind kind, std::string_view body,
                                       int64_t time_ms, HistoryBatch* batch);

// The writer's side: what applying its record answered.
Result<WriteResult> PutReply(std::string_view reply);
Result<uint32_t> DeleteReply(std::string_view reply);
Result<ApplyReport> DefinitionsReply(std::string_view reply);

}  // namespace quiver::cluster
