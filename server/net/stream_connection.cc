#include "server/net/stream_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include "util/clock.h"

namespace quiver {

namespace {
MemoryBudget* BudgetOf(const ClientLimits::Slot& slot) {
  return slot.limits() != nullptr ? slot.limits()->budget() : nullptr;
}
}  // namespace

StreamConnection::StreamConnection(boost::asio::ip::tcp::socket socket, std::string_view name,
                                   ClientLimits::Slot slot)
    : socket_(std::move(socket)),
      name_(name),
      slot_(std::move(slot)),
      buffers_(BudgetOf(slot_), MemoryPart::kClients),
      transaction_(BudgetOf(slot_), MemoryPart::kTransactions) {}

void StreamConnection::Account() {
  if (closed_) {  // what it holds goes with it
    buffers_.Set(0);
    transaction_.Set(0);
    return;
  }
  buffers_.Set(static_cast<int64_t>(pending_.capacity() + writing_.capacity() + HeldBytes() +
                                    ReadBufferBytes()));
  // A request on the pool may be changing the transaction (EXEC).
  if (!offloaded_) transaction_.Set(static_cast<int64_t>(TransactionBytes()));
}

void StreamConnection::UseTls(std::shared_ptr<boost::asio::ssl::context> context) {
  tls_context_ = std::move(context);
  tls_ = std::make_unique<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>>(socket_,
                                                                                   *tls_context_);
}

void StreamConnection::Start() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  if (const ClientLimits* limits = slot_.limits()) SetKeepAlive(socket_, limits->keepalive_s());
  if (ClientCron* cron = ClientCron::ForThisThread()) cron->Add(weak_from_this());
  idle_since_ms_ = MonotonicMs();
  if (tls_ == nullptr) {
    Started();
    return Read();
  }
  handshake_since_ms_ = idle_since_ms_;
  tls_->async_handshake(
      boost::asio::ssl::stream_base::server,
      [self = shared_from_this()](const boost::system::error_code& ec) { self->OnHandshake(ec); });
}

void StreamConnection::OnHandshake(const boost::system::error_code& ec) {
  handshake_since_ms_ = 0;
  ++activity_;
  if (ec) {
    // Plain text to a TLS port, an unknown CA, an expired certificate, ...
    spdlog::debug("{} connection: TLS handshake failed: {}", name_, ec.message());
    Close();
    return;
  }
  Handshaken(tls_->native_handle());
  Started();
  Read();
}

void StreamConnection::Tick(int64_t now_ms) {
  const ClientLimits* limits = slot_.limits();
  if (closed_ || limits == nullptr) return;
  // Reads and writes only count; the cron, once a second, turns the count
  // into a time, so the hot path reads no clock (an idle client is closed
  // up to a second after its timeout).
  if (activity_ != seen_activity_) {
    seen_activity_ = activity_;
    idle_since_ms_ = now_ms;
  }
  if (handshake_since_ms_ > 0 && now_ms - handshake_since_ms_ >= kHandshakeTimeoutMs) {
    spdlog::debug("{} connection: no TLS handshake within {} ms: closed", name_,
                  kHandshakeTimeoutMs);
    Close();
    return;
  }
  if (!offloaded_ && Revoked()) {
    spdlog::info("{} connection closed: its user was deleted or lost its permissions", name_);
    Close();
    return;
  }
  const int64_t timeout = limits->timeout_ms();
  if (offloaded_) idle_since_ms_ = now_ms;  // a request of its own is running
  if (timeout > 0 && !AnswersPending() && now_ms - idle_since_ms_ >= timeout) {
    spdlog::debug("{} connection idle for {} ms: closed (timeout)", name_, now_ms - idle_since_ms_);
    Close();
    return;
  }
  OverOutputLimit(now_ms);
}

bool StreamConnection::OverOutputLimit(int64_t now_ms) {
  const ClientLimits* limits = slot_.limits();
  if (limits == nullptr) return false;
  const OutputLimit limit = limits->output();
  const auto bytes = static_cast<int64_t>(OutputBytes());
  const bool over_soft = limit.soft > 0 && bytes > limit.soft;
  if (!over_soft) soft_since_ms_ = 0;
  if (over_soft && now_ms < 0) now_ms = MonotonicMs();  // the clock only when it matters
  if (over_soft && soft_since_ms_ == 0) soft_since_ms_ = now_ms;
  const bool hard = limit.hard > 0 && bytes > limit.hard;
  if (!hard && !(over_soft && now_ms - soft_since_ms_ >= limit.soft_seconds * 1000)) return false;
  spdlog::info(
      "{} connection closed: {} bytes of answers unread, past the {} limit "
      "(client-output-buffer-limit)",
      name_, bytes, hard ? "hard" : "soft");
  Close();
  return true;
}

void StreamConnection::Offload(WorkPool* pool, std::function<void()> work,
                               std::function<void()> done) {
  if (pool == nullptr) {
    work();
    done();
    return;
  }
  pool->Run([resume = Suspend(), work = std::move(work), done = std::move(done)]() mutable {
    work();
    resume(std::move(done));
  });
}

StreamConnection::Resume StreamConnection::Suspend() {
  offloaded_ = true;
  return [self = shared_from_this()](std::function<void()> done) {
    auto executor = self->socket_.get_executor();
    boost::asio::post(executor, [self, done = std::move(done)] {
      self->offloaded_ = false;
      done();
      self->Flush();
      self->Read();
      self->Account();
    });
  };
}

void StreamConnection::Read() {
  if (reading_ || closing_ || closed_ || offloaded_ ||
      pending_.size() + writing_.size() > kMaxPendingBytes || ReadPaused()) {
    return;
  }
  reading_ = true;
  std::span<char> space = ReadSpace();
  auto done = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
    self->OnRead(ec, n);
  };
  if (tls_ != nullptr) {
    tls_->async_read_some(boost::asio::buffer(space.data(), space.size()), std::move(done));
  } else {
    socket_.async_read_some(boost::asio::buffer(space.data(), space.size()), std::move(done));
  }
}

void StreamConnection::OnRead(const boost::system::error_code& ec, size_t bytes) {
  reading_ = false;
  ++activity_;
  if (ec) {
    if (ec != boost::asio::error::eof && ec != boost::asio::error::operation_aborted) {
      spdlog::debug("{} connection read error: {}", name_, ec.message());
    }
    Close();
    return;
  }
  Received(bytes);
  Flush();
  Read();
  Account();
}

void StreamConnection::Flush() {
  if (closed_ || OverOutputLimit() || writing_in_flight_) return;
  if (pending_.empty()) {
    if (closing_ && !AnswersPending()) Close();
    return;
  }
  writing_.swap(pending_);
  writing_in_flight_ = true;
  auto done = [self = shared_from_this()](const boost::system::error_code& ec, size_t) {
    self->OnWritten(ec);
  };
  if (tls_ != nullptr) {
    boost::asio::async_write(*tls_, boost::asio::buffer(writing_), std::move(done));
  } else {
    boost::asio::async_write(socket_, boost::asio::buffer(writing_), std::move(done));
  }
}

void StreamConnection::OnWritten(const boost::system::error_code& ec) {
  writing_in_flight_ = false;
  ++activity_;
  const size_t bytes = writing_.size();
  writing_.clear();
  if (writing_.capacity() > kShrinkAbove) std::string().swap(writing_);  // after a large answer
  if (ec) {
    Close();
    return;
  }
  Written(bytes);
  Flush();
  Read();  // resumes reading if backpressure had paused it
  Account();
}

void StreamConnection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  Account();
}

}  // namespace quiver
