#include "storage/memory/memory_budget.h"

#include <algorithm>
#include <utility>

namespace quiver {

std::string_view MemoryPartName(MemoryPart part) {
  switch (part) {
    case MemoryPart::kRows:
      return "rows";
    case MemoryPart::kWindows:
      return "windows";
    case MemoryPart::kHistory:
      return "history";
    case MemoryPart::kClients:
      return "clients";
    case MemoryPart::kTransactions:
      return "transactions";
    case MemoryPart::kDeadLetters:
      return "dead_letters";
  }
  return "unknown";
}

int64_t MemoryBudget::total() const {
  int64_t sum = 0;
  for (const Counter& c : parts_)
    sum += c.bytes.load(std::memory_order_relaxed);
  return sum;
}

bool MemoryBudget::Near(int64_t divisor) const {
  const int64_t max = limit();
  return max > 0 && total() >= max - max / divisor;
}

std::string MemoryBudget::Describe() const {
  std::string out = std::to_string(total()) + " bytes (";
  bool first = true;
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const int64_t b = parts_[i].bytes.load(std::memory_order_relaxed);
    if (b == 0) continue;
    if (!first) out += ", ";
    first = false;
    out += std::string(MemoryPartName(static_cast<MemoryPart>(i))) + " " + std::to_string(b);
  }
  return out + ")";
}

Status MemoryBudget::Check(int64_t added, std::string_view what, std::string_view after) const {
  const int64_t max = limit();
  if (max <= 0 || added < 0 || total() + added <= max) return Status::Ok();
  return Refusal(what, after);
}

Status MemoryBudget::Refusal(std::string_view what, std::string_view after) const {
  return Status::OutOfMemory(std::string(what) + ": quiverd holds " + Describe() +
                             " and its limit is " + std::to_string(limit()) + " (--max-memory); " +
                             std::string(after));
}

MemoryBudget::Gauge::Gauge(Gauge&& other) noexcept
    : budget_(std::exchange(other.budget_, nullptr)), id_(other.id_) {}

MemoryBudget::Gauge& MemoryBudget::Gauge::operator=(Gauge&& other) noexcept {
  if (this != &other) {
    if (budget_ != nullptr) budget_->Untrack(id_);
    budget_ = std::exchange(other.budget_, nullptr);
    id_ = other.id_;
  }
  return *this;
}

MemoryBudget::Gauge::~Gauge() {
  if (budget_ != nullptr) budget_->Untrack(id_);
}

MemoryBudget::Gauge MemoryBudget::Track(MemoryPart part, std::function<int64_t()> read) {
  std::lock_guard<std::mutex> lock(gauges_mu_);
  const uint64_t id = next_id_++;
  gauges_.push_back({id, part, std::move(read)});
  return Gauge(this, id);
}

void MemoryBudget::Untrack(uint64_t id) {
  std::lock_guard<std::mutex> lock(gauges_mu_);
  const auto it =
      std::find_if(gauges_.begin(), gauges_.end(), [id](const Tracked& t) { return t.id == id; });
  if (it == gauges_.end()) return;
  const MemoryPart part = it->part;
  gauges_.erase(it);
  // What it measured is gone; a part with no gauge left reads 0.
  if (std::none_of(gauges_.begin(), gauges_.end(),
                   [part](const Tracked& t) { return t.part == part; }))
    parts_[Index(part)].bytes.store(0, std::memory_order_relaxed);
}

void MemoryBudget::Refresh() {
  std::lock_guard<std::mutex> lock(gauges_mu_);
  std::array<int64_t, kMemoryParts> sums{};
  std::array<bool, kMemoryParts> gauged{};
  for (const Tracked& t : gauges_) {
    sums[Index(t.part)] += t.read();
    gauged[Index(t.part)] = true;
  }
  for (size_t i = 0; i < kMemoryParts; ++i) {
    if (gauged[i]) parts_[i].bytes.store(sums[i], std::memory_order_relaxed);
  }
}

}  // namespace quiver
