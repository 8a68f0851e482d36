// Clients of every port, as Redis limits them (the settings are in
// service/client_limits.h): how many may be connected at once
// (maxclients), how long one may stay idle (timeout), TCP keepalive, and
// how many bytes of answers one may leave unread
// (client-output-buffer-limit). ClientLimits holds the current values,
// which CONFIG SET changes while connections run; each I/O thread's
// ClientCron looks at that thread's connections once a second.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "service/settings.h"
#include "storage/memory/memory_budget.h"

namespace quiver {

class StreamConnection;

class ClientLimits {
 public:
  ClientLimits() = default;
  explicit ClientLimits(const ServerOptions& o) { Set(o); }
  ClientLimits(const ClientLimits&) = delete;
  ClientLimits& operator=(const ClientLimits&) = delete;

  // Takes the settings' current values (at start and after CONFIG SET).
  void Set(const ServerOptions& o);

  // One of maxclients places, given back when destroyed.
  class Slot {
   public:
    Slot() = default;
    Slot(Slot&& other) noexcept : limits_(std::exchange(other.limits_, nullptr)) {}
    Slot& operator=(Slot&& other) noexcept;
    ~Slot();
    explicit operator bool() const { return limits_ != nullptr; }
    const ClientLimits* limits() const { return limits_; }

   private:
    friend class ClientLimits;
    explicit Slot(ClientLimits* limits) : limits_(limits) {}
    ClientLimits* limits_ = nullptr;
  };
  // A place for a new client; an empty Slot if maxclients are connected.
  Slot Admit();

  int64_t connected() const { return connected_.load(std::memory_order_relaxed); }
  int64_t maxclients() const { return maxclients_.load(std::memory_order_relaxed); }
  int64_t timeout_ms() const { return timeout_s_.load(std::memory_order_relaxed) * 1000; }
  int64_t keepalive_s() const { return keepalive_s_.load(std::memory_order_relaxed); }
  // The limit of normal clients (every connection today).
  OutputLimit output() const;
  // Clients refused because maxclients were connected.
  int64_t rejected() const { return rejected_.load(std::memory_order_relaxed); }
  bool protected_mode() const { return protected_mode_.load(std::memory_order_relaxed); }
  // Where connections count their buffers (--max-memory); null: nowhere.
  MemoryBudget* budget() const { return budget_; }
  void set_budget(MemoryBudget* budget) { budget_ = budget; }

 private:
  MemoryBudget* budget_ = nullptr;
  std::atomic<int64_t> connected_{0}, rejected_{0};
  std::atomic<int64_t> maxclients_{10000}, timeout_s_{0}, keepalive_s_{300};
  std::atomic<int64_t> hard_{0}, soft_{0}, soft_seconds_{0};
  std::atomic<bool> protected_mode_{true};
};

// Protected mode, as Redis's: with no password, a server listening on a
// non-loopback address serves only clients that come from a loopback one.
// True if this client must be refused.
bool RefusedByProtectedMode(const ClientLimits& limits, bool password_set, bool loopback_bind,
                            const boost::asio::ip::tcp::socket& socket);
// True if the address is 127.0.0.0/8, ::1, or ::ffff:127.0.0.0/104.
bool IsLoopback(const boost::asio::ip::address& address);

// TCP keepalive after `seconds` of silence, then a probe every seconds/3,
// three unanswered close it (Redis's anetKeepAlive); 0: none.
void SetKeepAlive(boost::asio::ip::tcp::socket& socket, int64_t seconds);

// Writes `answer` to a client refused at accept, then closes it. The
// socket is fresh, so a short answer fits its send buffer at once.
void RefuseClient(boost::asio::ip::tcp::socket socket, std::string_view answer);

// Once a second, on its I/O thread, every connection of that thread checks
// its idle time and its unread answers (StreamConnection::Tick).
class ClientCron {
 public:
  explicit ClientCron(boost::asio::io_context& context) : timer_(context) {}
  void Start();
  void Stop() { timer_.cancel(); }
  void Add(std::weak_ptr<StreamConnection> connection) {
    connections_.push_back(std::move(connection));
  }
  // The cron of the calling I/O thread, or null (set by Server::Run).
  static ClientCron* ForThisThread();
  static void SetForThisThread(ClientCron* cron);

 private:
  void Tick();
  boost::asio::steady_timer timer_;
  std::vector<std::weak_ptr<StreamConnection>> connections_;  // this thread's
};

}  // namespace quiver
