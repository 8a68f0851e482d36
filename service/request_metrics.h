// RequestMetrics: per front end and request kind, how many requests were
// served, how many failed, and how long each took on the server, in real
// histograms (Histogram's buckets: any percentile within 6.25%, in
// nanoseconds). A request's time runs from its first byte being decoded to
// its answer being ready; a write's wait for its commit (durability async
// or sync) is recorded apart, per front end, as commit wait.
//
// Recording is lock-free and uncontended: each I/O thread owns a Recorder
// (single-writer relaxed counters, allocated on a kind's first request),
// and a reader sums the recorders. Read by /metrics, INFO commandstats and
// latencystats.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "service/histogram.h"

namespace quiver {

enum class FrontEnd : uint8_t { kNative = 0, kResp = 1, kHttp = 2 };
inline constexpr size_t kFrontEnds = 3;
std::string_view FrontEndName(FrontEnd f);  // "native", "resp", "http"

// Monotonic nanoseconds, for request timing.
inline int64_t MonotonicNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

class RequestMetrics {
 public:
  // kinds[f]: the names of front end f's request kinds, by kind id; a
  // Recorder serves one thread (threads of them).
  RequestMetrics(std::array<std::vector<std::string>, kFrontEnds> kinds, size_t threads);
  ~RequestMetrics();
  RequestMetrics(const RequestMetrics&) = delete;
  RequestMetrics& operator=(const RequestMetrics&) = delete;

  // One kind's counters, written by one thread.
  struct Cell {
    std::atomic<uint64_t> count{0}, errors{0}, sum_ns{0};
    std::atomic<int64_t> max_ns{0};
    std::array<std::atomic<uint64_t>, Histogram::kBuckets> buckets{};
    void Record(int64_t ns, bool error);
  };

  class Recorder {
   public:
    explicit Recorder(const RequestMetrics& metrics);
    ~Recorder();
    Recorder(const Recorder&) = delete;
    Recorder& operator=(const Recorder&) = delete;
    // Only the owning thread records. A kind id out of range is ignored.
    void Record(FrontEnd f, size_t kind, int64_t ns, bool error);
    void RecordCommitWait(FrontEnd f, int64_t ns);

   private:
    friend class RequestMetrics;
    std::array<std::vector<std::atomic<Cell*>>, kFrontEnds> cells_;
    std::array<std::atomic<Cell*>, kFrontEnds> commit_waits_{};
  };

  Recorder& recorder(size_t thread) { return *recorders_[thread % recorders_.size()]; }
  std::string_view kind_name(FrontEnd f, size_t kind) const {
    return kinds_[static_cast<size_t>(f)][kind];
  }

  struct Totals {
    uint64_t count = 0, errors = 0, sum_ns = 0;
    int64_t max_ns = 0;
    std::vector<uint64_t> buckets;  // Histogram::kBuckets counts
    Histogram::Summary Summarize() const { return Histogram::Summarize(buckets, max_ns); }
  };
  struct KindTotals {
    FrontEnd front_end;
    std::string_view kind;
    Totals totals;
  };
  // Every kind served at least once, summed over the threads, by front end
  // then kind id.
  std::vector<KindTotals> Collect() const;
  // A front end's commit waits; count 0 if none.
  Totals CommitWaits(FrontEnd f) const;

 private:
  static void Add(const Cell& cell, Totals* totals);
  std::array<std::vector<std::string>, kFrontEnds> kinds_;
  std::vector<std::unique_ptr<Recorder>> recorders_;
};

}  // namespace quiver
