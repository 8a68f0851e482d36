#include "server/net/clients.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <algorithm>

#include <boost/asio/write.hpp>

#include "server/net/stream_connection.h"
#include "util/clock.h"

namespace quiver {

void ClientLimits::Set(const ServerOptions& o) {
  maxclients_.store(o.maxclients, std::memory_order_relaxed);
  timeout_s_.store(o.timeout_s, std::memory_order_relaxed);
  keepalive_s_.store(o.tcp_keepalive_s, std::memory_order_relaxed);
  hard_.store(o.output_limits.normal.hard, std::memory_order_relaxed);
  soft_.store(o.output_limits.normal.soft, std::memory_order_relaxed);
  soft_seconds_.store(o.output_limits.normal.soft_seconds, std::memory_order_relaxed);
  protected_mode_.store(o.protected_mode, std::memory_order_relaxed);
}

bool IsLoopback(const boost::asio::ip::address& address) {
  if (address.is_loopback()) return true;
  if (!address.is_v6()) return false;
  const auto v6 = address.to_v6();
  return v6.is_v4_mapped() &&
         boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, v6).is_loopback();
}

bool RefusedByProtectedMode(const ClientLimits& limits, bool password_set, bool loopback_bind,
                            const boost::asio::ip::tcp::socket& socket) {
  if (!limits.protected_mode() || password_set || loopback_bind) return false;
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  return !ec && !IsLoopback(peer.address());
}

ClientLimits::Slot& ClientLimits::Slot::operator=(Slot&& other) noexcept {
  Slot taken(std::move(other));
  std::swap(limits_, taken.limits_);  // taken gives back the place this held
  return *this;
}

ClientLimits::Slot::~Slot() {
  if (limits_ != nullptr) limits_->connected_.fetch_sub(1, std::memory_order_relaxed);
}

ClientLimits::Slot ClientLimits::Admit() {
  if (connected_.fetch_add(1, std::memory_order_relaxed) >= maxclients()) {
    connected_.fetch_sub(1, std::memory_order_relaxed);
    rejected_.fetch_add(1, std::memory_order_relaxed);
    return Slot();
  }
  return Slot(this);
}

OutputLimit ClientLimits::output() const {
  return {hard_.load(std::memory_order_relaxed), soft_.load(std::memory_order_relaxed),
          soft_seconds_.load(std::memory_order_relaxed)};
}

void SetKeepAlive(boost::asio::ip::tcp::socket& socket, int64_t seconds) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::socket_base::keep_alive(seconds > 0), ignored);
  if (seconds <= 0) return;
  const int fd = socket.native_handle();
  const int idle = static_cast<int>(std::min<int64_t>(seconds, 32767));
  const int interval = std::max(1, idle / 3);
  const int count = 3;
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
}

void RefuseClient(boost::asio::ip::tcp::socket socket, std::string_view answer) {
  boost::system::error_code ignored;
  boost::asio::write(socket, boost::asio::buffer(answer.data(), answer.size()), ignored);
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ignored);
  socket.close(ignored);
}

namespace {
thread_local ClientCron* this_thread_cron = nullptr;
}  // namespace

ClientCron* ClientCron::ForThisThread() {
  return this_thread_cron;
}

void ClientCron::SetForThisThread(ClientCron* cron) {
  this_thread_cron = cron;
}

void ClientCron::Start() {
  timer_.expires_after(std::chrono::seconds(1));
  timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;  // stopped
    Tick();
    Start();
  });
}

void ClientCron::Tick() {
  const int64_t now = MonotonicMs();
  size_t kept = 0;
  for (size_t i = 0; i < connections_.size(); ++i) {
    std::shared_ptr<StreamConnection> c = connections_[i].lock();
    if (c == nullptr) continue;
    c->Tick(now);
    if (kept != i) connections_[kept] = std::move(connections_[i]);
    ++kept;
  }
  connections_.resize(kept);
}

}  // namespace quiver
