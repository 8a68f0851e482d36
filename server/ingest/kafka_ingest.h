// KafkaIngest: consumes the topics of every source in the definitions with
// a librdkafka consumer group, or, for a cluster member
// (KafkaOptions::assign_all), every partition of them assigned directly,
// and feeds the events through the Ingestor.
//
// Exactly once: auto commit is off; the next offset of every partition is
// written to RocksDB in the same atomic batch as the history rows and
// window states its events produced. On assignment the
// rebalance callback starts each partition at its stored offset (the
// earliest offset if none is stored); on revocation the pending batch is
// applied and committed first. After a crash the consumer resumes exactly
// where the durable state ends.
//
// Malformed events are counted per kind, logged once per kind with their
// partition and offset, copied to the source's dead-letter topic if it has
// one, and skipped.
//
// Batches (KafkaOptions): applied as soon as librdkafka has nothing more
// fetched, or when full, or max_batch_ms after they began.
//
// One thread of its own runs the consumer; stats() may be read from any.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "quiver/status.h"
#include "service/event_mapper.h"
#include "service/histogram.h"
#include "service/ingest_status.h"
#include "service/kafka_options.h"
#include "storage/features/feature_store.h"
#include "storage/streaming/ingestor.h"

namespace quiver {

class KafkaIngest final : public IngestStatusSource {
 public:
  // Creates the consumer and starts consuming. Fails on bad settings.
  static Result<std::unique_ptr<KafkaIngest>> Start(FeatureStore& store, Ingestor& ingestor,
                                                    KafkaOptions options);
  // Applies and commits what is pending, leaves the group, stops.
  ~KafkaIngest() override;

  // Any thread.
  IngestStatus status() const override;

 private:
  struct Impl;
  explicit KafkaIngest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The consumer's librdkafka settings: quiver's own, then options.config,
// which librdkafka applies in order, so that a later setting wins.
std::vector<std::pair<std::string, std::string>> ConsumerSettings(const KafkaOptions& options);

}  // namespace quiver
