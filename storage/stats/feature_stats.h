// FeatureStats: statistics of every value written to each feature view,
// kept on the write path in bounded memory (docs/monitoring.md#statistics).
//
// Per field and window: values and nulls, moments, an approximate distinct
// count, a quantile sketch, the most frequent strings, per-dimension moments
// of vectors, and the quality checks' violations. Two windows: since the
// server started, and the recent window (the last hour by default), kept
// as a ring of six slots (ten minutes each by default) so that the recent
// window is the current slot and the five before it; a slot leaving the
// ring is folded into the since-start summary.
//
// Threads: writers from any thread. Each thread records into one of
// `shards` summaries, each behind its own mutex, so writers on different
// threads rarely meet; a snapshot merges the shards.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "storage/registry/schema.h"
#include "storage/stats/sketches.h"

namespace quiver {

// One field's values in one window. What the sketches hold depends on the
// type: numbers (bools as 0 and 1) feed `moments`, `distinct` and
// `quantiles`; strings and bytes feed `distinct` and their lengths
// `moments`, strings also `top`; vectors feed their L2 norms to `moments`
// and `quantiles`, and each dimension (the first kMaxDims) to `dims`.
struct FieldSummary {
  static constexpr size_t kMaxDims = 1024;

  uint64_t values = 0;      // non-null values written
  uint64_t nulls = 0;       // rows written without a value for the field
  uint64_t non_finite = 0;  // NaN or infinite numbers (vectors with one), kept out of the sketches
  Moments moments;
  HyperLogLog distinct;
  KllSketch quantiles;
  TopK top;
  VectorMoments dims;
  // Violations of the field's quality checks.
  uint64_t below_min = 0, above_max = 0, not_allowed = 0;

  void Merge(const FieldSummary& other);
  double null_rate() const;
};

// A view's summaries in one window.
struct WindowSummary {
  uint64_t rows = 0;                 // rows written
  std::vector<FieldSummary> fields;  // in schema order

  void Merge(const WindowSummary& other);
};

class FeatureStats {
 public:
  static constexpr int kSlots = 6;
  struct Options {
    int64_t recent_ms = 3'600'000;  // the recent window: kSlots slots of recent_ms / kSlots
    uint32_t shards = 0;            // 0: the number of hardware threads (at least 4)
    int64_t started_ms = 0;         // when counting began (reported with the since-start window)
  };
  explicit FeatureStats(Options options);
  FeatureStats() : FeatureStats(Options{}) {}
  ~FeatureStats();
  FeatureStats(const FeatureStats&) = delete;
  FeatureStats& operator=(const FeatureStats&) = delete;

  // Records the rows of one write into the calling thread's shard, whose
  // lock it holds until destroyed. Cheap to create.
  class Writer {
   public:
    // One row: the fields it does not mention are not counted.
    void Row() { ++window_->rows; }
    void Null(size_t field) { ++window_->fields[field].nulls; }
    // A fixed-width value as it is packed in a row.
    void Fixed(size_t field, const uint8_t* value);
    void Var(size_t field, std::string_view value);
    // A whole packed row: each field it carries is a value, each other
    // one a null.
    void Packed(std::span<const uint8_t> row);

   private:
    friend class FeatureStats;
    Writer(std::unique_lock<std::mutex> lock, WindowSummary* window, const ViewSchema* view)
        : lock_(std::move(lock)), window_(window), view_(view) {}
    void Number(size_t field, double x);
    std::unique_lock<std::mutex> lock_;
    WindowSummary* window_;
    const ViewSchema* view_;
  };

  Writer Begin(const ViewSchema& view, int64_t now_ms);

  struct Snapshot {
    int64_t started_ms = 0;  // when the server began counting
    WindowSummary since_start;
    WindowSummary recent;
  };
  // The view's summaries as of now_ms, merged over the shards; nullopt if
  // nothing was ever written to it.
  std::optional<Snapshot> Take(const ViewSchema& view, int64_t now_ms) const;
  // The rows written to the view since the start, without merging its
  // sketches (cheap enough to sample every few seconds).
  uint64_t RowsWritten(const ViewSchema& view) const;

  const Options& options() const { return options_; }

 private:
  int64_t slot_ms_;
  struct Shard;
  struct ViewWindows;
  Shard& ThreadShard();

  Options options_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace quiver
