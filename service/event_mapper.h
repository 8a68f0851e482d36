// EventMapper: one source's JSON events (simdjson) turned into the
// SourceEvents of every view computed from that source, as the definitions
// map them (docs/features.md#sources-and-windowed-features).
//
// A mapper is compiled from one catalog; Refresh recompiles it when the
// registry has published another. One thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/registry/registry.h"
#include "storage/streaming/ingestor.h"

namespace simdjson::dom {
class parser;
}

namespace quiver {

// Why an event (or its use by one view) was refused.
enum class EventError : uint8_t {
  kNone = 0,
  kBadJson,       // not a JSON document
  kBadEventTime,  // event time missing, or not Unix ms / RFC 3339
  kMissingKey,    // a join key path is missing or null
  kBadKey,        // a join key is not a string or an integer, or is empty
  kWrongType,     // a value does not fit its field's type
};
inline constexpr size_t kEventErrorKinds = 6;
std::string_view EventErrorName(EventError e);

struct MappedEvent {
  std::vector<SourceEvent> events;       // one per view that accepted it
  EventError error = EventError::kNone;  // the first refusal, if any
  std::string message;                   // says which view and path
};

class EventMapper {
 public:
  // store (may be null) bounds event times as its writes are bounded
  // (FeatureStore::CheckEventTime): an event out of bounds is refused
  // kBadEventTime, and so dead-lettered by Kafka ingestion.
  explicit EventMapper(std::string source, const FeatureStore* store = nullptr);
  ~EventMapper();
  EventMapper(EventMapper&&) noexcept;

  // Recompiles from the registry's current catalog if it changed.
  // REQUIRES: an rcu::ThreadRegistration on this thread.
  void Refresh(Registry& registry);

  const std::string& source() const { return source_; }
  // Views computed from the source, as of the last Refresh.
  size_t views() const;
  // The topic and dead-letter topic, as of the last Refresh (empty if the
  // source is not defined).
  const std::string& topic() const { return topic_; }
  const std::string& dead_letter_topic() const { return dead_letter_topic_; }

  // Maps one event into *out (cleared first).
  void Map(std::string_view json, MappedEvent* out);

 private:
  struct Compiled;
  std::string source_;
  const FeatureStore* store_;
  std::string topic_;
  std::string dead_letter_topic_;
  uint64_t generation_ = 0;
  std::unique_ptr<Compiled> compiled_;
  std::unique_ptr<simdjson::dom::parser> parser_;
};

}  // namespace quiver
