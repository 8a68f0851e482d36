// RowEvents: told of each row version a FeatureStore accepts, whichever
// front end or source wrote it (Put, Kafka ingestion, backfill, a cluster
// member applying the changelog), so that it can be published (quiver's
// __quiver__:<view> channels, server/resp/feature_channels.h).
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "storage/registry/schema.h"

namespace quiver {

class RowEvents {
 public:
  virtual ~RowEvents() = default;
  // Whether anyone listens to the view's rows; asked once per write
  // request, before its rows, so it may take a lock.
  virtual bool Wants(const ViewSchema& view) const = 0;
  // A version of an entity's row (the packed row with every field it
  // has): online if it is now the served value, else a late version that
  // entered the history only. key is the encoded entity key
  // (storage/online/entity_key.h) of key_values join-key values. Called
  // after the write, on the writer's thread.
  virtual void Written(const ViewSchema& view, std::string_view key, size_t key_values,
                       int64_t event_time_ms, std::span<const uint8_t> row, bool online) = 0;
  // An entity's online row was deleted.
  virtual void Deleted(const ViewSchema& view, std::string_view key, size_t key_values) = 0;
};

}  // namespace quiver
