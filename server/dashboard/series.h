// Series: what the server did over the last hour, as small in-memory time
// series sampled every few seconds, for the dashboard and GET /v1/series
// (docs/dashboard.md#series). Each sample holds:
//   - requests: per front end and request kind that served any, the rate,
//     the error rate and p50/p99/p999 of the requests served since the
//     sample before (from the difference of RequestMetrics' histograms);
//   - memory: the budget's parts (`quiver status`) and the online rows;
//   - views: rows, memory, rows past the freshness SLA, age p50/p99 and
//     the write rate of each view (the first four from a pass over the
//     online table, taking at most 2% of a core: kFreshnessShare);
//   - Kafka: message, event, malformed, dead-letter and too-late rates,
//     event-to-visible p50/p99 since the sample before, each partition's lag.
// Drift (PSI, KS, mean shift of each field with a baseline, over the
// statistics' recent window) is sampled less often (drift_interval): it
// merges every view's sketches.
//
// Memory: span / interval samples (720 by default; at most kMaxSamples),
// each sized by the kinds that served requests in it, the views and the
// partitions; span / drift_interval drift samples (at most
// kMaxDriftSamples) of one small record per field with a baseline. Names
// (views, fields, partitions) are kept once each.
//
// Threads: Start runs a sampler thread; Json may be called from any
// thread, concurrently with it.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "quiver/status.h"
#include "service/freshness.h"
#include "service/ingest_status.h"
#include "service/request_metrics.h"
#include "storage/features/feature_store.h"
#include "storage/memory/memory_budget.h"

namespace quiver {
class JsonWriter;
}

namespace quiver::dashboard {

struct SeriesOptions {
  int64_t interval_ms = 5'000;         // between samples
  int64_t span_ms = 3'600'000;         // how far back samples are kept
  int64_t drift_interval_ms = 60'000;  // between drift samples
};

class Series {
 public:
  struct Sources {
    const RequestMetrics& metrics;
    FeatureStore& store;
    const IngestStatusSource* kafka = nullptr;  // null: no Kafka ingestion
  };
  Series(Sources sources, SeriesOptions options);
  ~Series();
  Series(const Series&) = delete;
  Series& operator=(const Series&) = delete;

  // Starts the sampler thread: a sample every interval (the first at once).
  void Start();
  // Stops and joins it; also done by the destructor.
  void Stop();

  // Takes one sample as of now_ms, and a drift sample if one is due. The
  // sampler thread calls it; tests call it directly. The caller must not
  // hold the RCU read lock.
  void Sample(int64_t now_ms);

  // The document of GET /v1/series: `part` is requests, memory, views,
  // kafka or drift; `view` ("name" or "name@vN") keeps one view's series
  // (views, drift); samples taken after since_ms only (0: all).
  // InvalidArgument for an unknown part.
  Result<std::string> Json(std::string_view part, std::string_view view, int64_t since_ms) const;

  // Whatever the span and intervals (a day of 100 ms samples would be
  // 864,000), at most a day of the default samples is kept: 17,280, and
  // 1,440 drift samples. The oldest go first.
  static constexpr size_t kMaxSamples = 17'280;
  static constexpr size_t kMaxDriftSamples = 1'440;

  const SeriesOptions& options() const { return options_; }
  // Samples kept now (for tests and docs).
  size_t samples() const;

 private:
  struct RequestPoint {
    uint8_t front_end = 0;
    uint32_t kind = 0;  // a name's index
    float rate = 0, error_rate = 0;
    float p50_us = 0, p99_us = 0, p999_us = 0;
  };
  struct ViewPoint {
    uint32_t view = 0;  // a name's index
    uint64_t rows = 0, past_sla = 0;
    int64_t memory_bytes = 0, age_p50_ms = 0, age_p99_ms = 0;
    float write_rate = 0;
  };
  struct PartitionPoint {
    uint32_t partition = 0;  // a name's index ("topic/N")
    int64_t lag = -1;
  };
  struct KafkaPoint {
    bool running = false;
    float message_rate = 0, event_rate = 0, malformed_rate = 0, dead_letter_rate = 0,
          too_late_rate = 0;
    float event_to_visible_p50_us = 0, event_to_visible_p99_us = 0;
    std::vector<PartitionPoint> partitions;
  };
  struct Point {
    int64_t t = 0;
    std::vector<RequestPoint> requests;
    std::array<int64_t, kMemoryParts> memory{};
    uint64_t rows = 0;
    std::vector<ViewPoint> views;
    KafkaPoint kafka;
  };
  struct FieldDriftPoint {
    uint32_t view = 0, field = 0;  // names' indexes
    float psi = 0, ks = 0, mean_shift = 0;
    bool drifting = false;
  };
  struct DriftPoint {
    int64_t t = 0;
    std::vector<FieldDriftPoint> fields;
  };
  // What the last sample read, to turn counters into rates.
  struct Previous {
    int64_t t = -1;
    std::map<std::pair<int, std::string>, RequestMetrics::Totals> requests;
    std::map<std::string, uint64_t> rows_written;  // by view ("name@vN")
    IngestStatus kafka;
  };

  std::vector<RequestPoint> SampleRequests(double seconds);
  std::vector<ViewPoint> SampleViews(int64_t now_ms, double seconds);
  KafkaPoint SampleKafka(double seconds);
  DriftPoint SampleDrift(int64_t now_ms);
  uint32_t Intern(const std::string& name);  // REQUIRES: mu_
  void Loop();

  // The parts' keys after the document's head (Json writes the head and
  // the closing brace). REQUIRES: mu_ held; points are those selected.
  void RequestsJson(JsonWriter& w, const std::vector<const Point*>& points) const;
  void MemoryJson(JsonWriter& w, const std::vector<const Point*>& points) const;
  void ViewsJson(JsonWriter& w, const std::vector<const Point*>& points,
                 std::string_view view) const;
  void KafkaJson(JsonWriter& w, const std::vector<const Point*>& points) const;
  void DriftJson(JsonWriter& w, const std::vector<const DriftPoint*>& points,
                 std::string_view view) const;

  Sources sources_;
  const SeriesOptions options_;
  Previous previous_;          // the sampler's own (one sample at a time: sample_mu_)
  std::mutex sample_mu_;       // one Sample at a time
  int64_t next_drift_ms_ = 0;  // guarded by sample_mu_
  // The views' freshness: one pass over the online table, at most a 50th
  // of the sampler's time (a pass that took T waits 50 T before the next;
  // samples in between repeat the last one's rows, memory and ages).
  static constexpr int64_t kFreshnessShare = 50;
  std::vector<ViewFreshness> freshness_;  // guarded by sample_mu_
  int64_t next_freshness_ms_ = 0;         // guarded by sample_mu_

  mutable std::mutex mu_;  // guards what follows
  std::deque<Point> points_;
  std::deque<DriftPoint> drift_;
  std::vector<std::string> names_;
  std::map<std::string, uint32_t, std::less<>> name_index_;

  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // guarded by stop_mu_
  std::thread thread_;
};

}  // namespace quiver::dashboard
