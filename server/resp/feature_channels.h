// quiver's feature channels, which no Redis has: SUBSCRIBE
// __quiver__:<view> (every version of the view) or __quiver__:<view>@v<N>
// (that version), or PSUBSCRIBE __quiver__:*, and receive each row version
// the store accepts, whoever wrote it (Put on any port, Kafka ingestion,
// backfill, a cluster member applying the changelog), as one JSON
// message:
//
//   {"view":"user_profile","version":2,"key":"u1","event_time_ms":1733500000000,
//    "online":true,"row":{"watch_count_7d":12,"genre_preferences":[0.1,0.2]}}
//
// row holds every field the entity's row has (after a Put merged its
// fields in); online is false for a late version, which entered the
// history but did not replace the served row. A deleted row sends
// {"view":…,"version":…,"key":…,"deleted":true}. key is the entity's
// join-key value(s) as RESP feature keys take them (joined by commas).
// With no subscription that could match, a write checks one counter.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "server/resp/pubsub.h"
#include "storage/features/row_events.h"

namespace quiver::resp {

class FeatureChannels final : public RowEvents {
 public:
  explicit FeatureChannels(PubSub& pubsub) : pubsub_(pubsub) {}

  bool Wants(const ViewSchema& view) const override;
  void Written(const ViewSchema& view, std::string_view key, size_t key_values,
               int64_t event_time_ms, std::span<const uint8_t> row, bool online) override;
  void Deleted(const ViewSchema& view, std::string_view key, size_t key_values) override;

  // The JSON message of a row version (as above).
  static std::string RowMessage(const ViewSchema& view, std::string_view key, size_t key_values,
                                int64_t event_time_ms, std::span<const uint8_t> row, bool online);

 private:
  // Publishes to the view's channel and to its version's.
  void Publish(const ViewSchema& view, const std::string& message);

  PubSub& pubsub_;
};

}  // namespace quiver::resp
