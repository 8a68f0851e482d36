// MemoryBudget: the server's memory against its one limit (--max-memory,
// CONFIG SET maxmemory). Every part that grows with data or with clients
// is counted here, so that the limit bounds what INFO memory, quiver
// status and /metrics report.
//
// Parts that change write by write are counted as they change (Add), from
// any thread. Parts another library measures (RocksDB's caches, the window
// states) are read from their gauges by Refresh(), which the server's cron
// calls a few times a second; between refreshes they keep their last value.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver {

enum class MemoryPart : uint8_t {
  kRows,          // online rows and plain keys (the online table)
  kWindows,       // streaming window states
  kHistory,       // RocksDB: memtables and block cache (one budget), table readers
  kClients,       // connection buffers: requests being read, answers not yet sent
  kTransactions,  // MULTI queues and WATCH lists
  kDeadLetters,   // malformed events waiting to reach their dead-letter topic
};
inline constexpr size_t kMemoryParts = 6;
// "rows", "windows", "history", "clients", "transactions", "dead_letters".
std::string_view MemoryPartName(MemoryPart part);

class MemoryBudget {
 public:
  explicit MemoryBudget(int64_t limit = 0) : limit_(limit) {}
  MemoryBudget(const MemoryBudget&) = delete;
  MemoryBudget& operator=(const MemoryBudget&) = delete;

  // The limit in bytes; 0: none.
  int64_t limit() const { return limit_.load(std::memory_order_relaxed); }
  void set_limit(int64_t bytes) { limit_.store(bytes, std::memory_order_relaxed); }

  void Add(MemoryPart part, int64_t delta) {
    parts_[Index(part)].bytes.fetch_add(delta, std::memory_order_relaxed);
  }
  int64_t bytes(MemoryPart part) const {
    return parts_[Index(part)].bytes.load(std::memory_order_relaxed);
  }
  // Every part together: what the limit bounds.
  int64_t total() const;

  // OK, or OutOfMemory if `added` more bytes would pass the limit. The
  // message is `what` (e.g. "write refused"), then what memory holds, by
  // part, then `after` (e.g. "reads continue").
  Status Check(int64_t added, std::string_view what, std::string_view after) const;
  // That OutOfMemory status, whatever memory holds.
  Status Refusal(std::string_view what, std::string_view after) const;
  // True within limit/divisor of the limit (never without one).
  bool Near(int64_t divisor) const;
  // "1234 bytes (rows 1000, history 234)": the total and its non-zero parts.
  std::string Describe() const;

  // One holder's share of a part, set as it changes and given back when
  // destroyed (a connection's buffers, the window states). Not shared
  // between threads.
  class Share {
   public:
    Share() = default;
    Share(MemoryBudget* budget, MemoryPart part) : budget_(budget), part_(part) {}
    Share(const Share&) = delete;
    Share& operator=(const Share&) = delete;
    ~Share() { Set(0); }
    void Set(int64_t bytes) {
      if (budget_ == nullptr || bytes == bytes_) return;
      budget_->Add(part_, bytes - bytes_);
      bytes_ = bytes;
    }

   private:
    MemoryBudget* budget_ = nullptr;
    MemoryPart part_ = MemoryPart::kRows;
    int64_t bytes_ = 0;
  };

  // A part measured elsewhere: `read` is called by Refresh() until the
  // Gauge is destroyed; the part is the sum of its gauges (a part is
  // either gauged or added to, never both).
  class Gauge {
   public:
    Gauge() = default;
    Gauge(Gauge&& other) noexcept;
    Gauge& operator=(Gauge&& other) noexcept;
    ~Gauge();

   private:
    friend class MemoryBudget;
    Gauge(MemoryBudget* budget, uint64_t id) : budget_(budget), id_(id) {}
    MemoryBudget* budget_ = nullptr;
    uint64_t id_ = 0;
  };
  [[nodiscard]] Gauge Track(MemoryPart part, std::function<int64_t()> read);
  // Reads every gauge into its part.
  void Refresh();

 private:
  static size_t Index(MemoryPart part) { return static_cast<size_t>(part); }
  void Untrack(uint64_t id);

  struct alignas(64) Counter {
    std::atomic<int64_t> bytes{0};
  };
  struct Tracked {
    uint64_t id;
    MemoryPart part;
    std::function<int64_t()> read;
  };
  std::array<Counter, kMemoryParts> parts_;
  std::atomic<int64_t> limit_;
  std::mutex gauges_mu_;  // guards gauges_ and next_id_; held while gauges are read
  std::vector<Tracked> gauges_;
  uint64_t next_id_ = 1;
};

}  // namespace quiver
