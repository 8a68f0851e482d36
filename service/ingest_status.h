// What a front end may report of stream ingestion (GetStatus, /metrics)
// without knowing the consumer behind it: the status of Kafka ingestion
// (server/ingest/kafka_ingest.h) as plain values, and the interface that
// gives it. Implementations say which threads may call status().
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "service/event_mapper.h"
#include "service/histogram.h"

namespace quiver {

struct PartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = -1;     // after what is applied and durable; -1: nothing yet
  int64_t high_watermark = -1;  // the end of the partition as last fetched; -1: unknown
  int64_t lag = -1;             // high_watermark - next_offset; -1: unknown
  int64_t max_event_time_ms = 0;
};

struct IngestStatus {
  bool running = false;
  std::string brokers, group;
  uint64_t messages = 0;  // consumed
  uint64_t events = 0;    // applied to a view (an event feeding two views counts twice)
  uint64_t versions = 0;  // rows written
  uint64_t too_late = 0;
  uint64_t batches = 0;
  uint64_t dead_lettered = 0;
  uint64_t pauses = 0;  // times ingestion waited while writes were refused
  std::string paused;   // why it waits now (the disk failed, memory is full); empty: it runs
  std::array<uint64_t, kEventErrorKinds> malformed{};  // by EventError
  // Window changes (a tile leaving a window) are applied and durable up to
  // this event time: the stream's progress, or now once it is caught up.
  int64_t windows_through_ms = 0;
  Histogram::Summary event_to_visible_us;    // event time -> applied online
  Histogram::Summary consume_to_visible_us;  // received from Kafka -> applied online
  // event_to_visible_us's bucket counts (Histogram::Counts), so that a
  // reader can summarize the time between two snapshots alone.
  std::vector<uint64_t> event_to_visible_counts;
  std::vector<PartitionStatus> partitions;
};

// A running ingestion that can say how it is doing.
class IngestStatusSource {
 public:
  virtual ~IngestStatusSource() = default;
  // A consistent snapshot. Any thread.
  virtual IngestStatus status() const = 0;
};

}  // namespace quiver
