#include "service/request_metrics.h"

#include <algorithm>

namespace quiver {

namespace {

// A single writer adds without a locked instruction; readers see whole
// values (relaxed atomics), perhaps a moment old.
void Bump(std::atomic<uint64_t>& counter, uint64_t by) {
  counter.store(counter.load(std::memory_order_relaxed) + by, std::memory_order_relaxed);
}

// The cell of `slot`, made on first use by the owning thread.
RequestMetrics::Cell& CellOf(std::atomic<RequestMetrics::Cell*>& slot) {
  RequestMetrics::Cell* cell = slot.load(std::memory_order_relaxed);
  if (cell == nullptr) {
    cell = new RequestMetrics::Cell();
    slot.store(cell, std::memory_order_release);
  }
  return *cell;
}

}  // namespace

std::string_view FrontEndName(FrontEnd f) {
  switch (f) {
    case FrontEnd::kNative:
      return "native";
    case FrontEnd::kResp:
      return "resp";
    case FrontEnd::kHttp:
      return "http";
  }
  return "unknown";
}

void RequestMetrics::Cell::Record(int64_t ns, bool error) {
  ns = std::max<int64_t>(ns, 0);
  Bump(count, 1);
  if (error) Bump(errors, 1);
  Bump(sum_ns, static_cast<uint64_t>(ns));
  if (ns > max_ns.load(std::memory_order_relaxed)) max_ns.store(ns, std::memory_order_relaxed);
  Bump(buckets[Histogram::BucketOf(ns)], 1);
}

RequestMetrics::Recorder::Recorder(const RequestMetrics& metrics) {
  for (size_t f = 0; f < kFrontEnds; ++f)
    cells_[f] = std::vector<std::atomic<Cell*>>(metrics.kinds_[f].size());
}

RequestMetrics::Recorder::~Recorder() {
  for (auto& cells : cells_) {
    for (auto& cell : cells)
      delete cell.load();
  }
  for (auto& cell : commit_waits_)
    delete cell.load();
}

void RequestMetrics::Recorder::Record(FrontEnd f, size_t kind, int64_t ns, bool error) {
  auto& cells = cells_[static_cast<size_t>(f)];
  if (kind < cells.size()) CellOf(cells[kind]).Record(ns, error);
}

void RequestMetrics::Recorder::RecordCommitWait(FrontEnd f, int64_t ns) {
  CellOf(commit_waits_[static_cast<size_t>(f)]).Record(ns, false);
}

RequestMetrics::RequestMetrics(std::array<std::vector<std::string>, kFrontEnds> kinds,
                               size_t threads)
    : kinds_(std::move(kinds)) {
  for (size_t i = 0; i < std::max<size_t>(threads, 1); ++i)
    recorders_.push_back(std::make_unique<Recorder>(*this));
}

RequestMetrics::~RequestMetrics() = default;

void RequestMetrics::Add(const Cell& cell, Totals* t) {
  t->count += cell.count.load(std::memory_order_relaxed);
  t->errors += cell.errors.load(std::memory_order_relaxed);
  t->sum_ns += cell.sum_ns.load(std::memory_order_relaxed);
  t->max_ns = std::max(t->max_ns, cell.max_ns.load(std::memory_order_relaxed));
  t->buckets.resize(Histogram::kBuckets);
  for (size_t i = 0; i < Histogram::kBuckets; ++i)
    t->buckets[i] += cell.buckets[i].load(std::memory_order_relaxed);
}

std::vector<RequestMetrics::KindTotals> RequestMetrics::Collect() const {
  std::vector<KindTotals> out;
  for (size_t f = 0; f < kFrontEnds; ++f) {
    for (size_t kind = 0; kind < kinds_[f].size(); ++kind) {
      Totals totals;
      for (const auto& r : recorders_) {
        const Cell* cell = r->cells_[f][kind].load(std::memory_order_acquire);
        if (cell != nullptr) Add(*cell, &totals);
      }
      if (totals.count > 0) out.push_back({static_cast<FrontEnd>(f), kinds_[f][kind], totals});
    }
  }
  return out;
}

RequestMetrics::Totals RequestMetrics::CommitWaits(FrontEnd f) const {
  Totals totals;
  for (const auto& r : recorders_) {
    const Cell* cell = r->commit_waits_[static_cast<size_t>(f)].load(std::memory_order_acquire);
    if (cell != nullptr) Add(*cell, &totals);
  }
  totals.buckets.resize(Histogram::kBuckets);
  return totals;
}

}  // namespace quiver
