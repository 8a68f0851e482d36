#include "server/resp_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/write.hpp>

namespace quiver {

namespace {
// Stop reading while this much is waiting to be written: a client that
// pipelines without reading cannot make the server buffer without bound.
constexpr size_t kMaxPendingBytes = 32u << 20;

std::string Endpoint(const boost::asio::ip::tcp::endpoint& e) {
  return e.address().to_string() + ":" + std::to_string(e.port());
}
}  // namespace

RespConnection::RespConnection(boost::asio::ip::tcp::socket socket, KeySpace& keyspace,
                               FeatureStore& store, resp::Shared& shared)
    : socket_(std::move(socket)), keyspace_(keyspace), store_(store), shared_(shared) {
  auto info = std::make_shared<resp::ClientInfo>();
  info->id = shared_.next_client_id.fetch_add(1, std::memory_order_relaxed);
  boost::system::error_code ec;
  info->addr = Endpoint(socket_.remote_endpoint(ec));
  info->laddr = Endpoint(socket_.local_endpoint(ec));
  info->created_ms = keyspace_.NowMs();
  session_.info = std::move(info);
  std::lock_guard<std::mutex> lock(shared_.config_mu);
  session_.authenticated = shared_.options.requirepass.empty();
}

RespConnection::~RespConnection() {
  const resp::ClientInfo& info = *session_.info;
  shared_.closed_commands.fetch_add(info.commands.load(std::memory_order_relaxed));
  shared_.closed_net_in.fetch_add(info.net_in.load(std::memory_order_relaxed));
  shared_.closed_net_out.fetch_add(info.net_out.load(std::memory_order_relaxed));
  std::lock_guard<std::mutex> lock(shared_.clients_mu);
  shared_.clients.erase(info.id);
}

void RespConnection::Start() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  shared_.connections_received.fetch_add(1, std::memory_order_relaxed);
  {
    std::lock_guard<std::mutex> lock(shared_.clients_mu);
    shared_.clients.emplace(session_.info->id, session_.info);
  }
  Read();
}

void RespConnection::Read() {
  if (reading_ || closed_ || session_.close ||
      pending_.size() + writing_.size() > kMaxPendingBytes) {
    return;
  }
  reading_ = true;
  std::span<char> space = reader_.WritableSpace();
  socket_.async_read_some(boost::asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void RespConnection::OnRead(const boost::system::error_code& ec, size_t bytes) {
  reading_ = false;
  if (ec) {
    if (ec != boost::asio::error::eof && ec != boost::asio::error::operation_aborted) {
      spdlog::debug("resp connection read error: {}", ec.message());
    }
    Close();
    return;
  }
  resp::ClientInfo::Add(session_.info->net_in, static_cast<int64_t>(bytes));
  reader_.Commit(bytes);
  ProcessRequests();
  Flush();
  Read();
}

void RespConnection::ProcessRequests() {
  resp::Context ctx{keyspace_, store_, shared_, session_, writer_};
  session_.info->last_command_ms.store(keyspace_.NowMs(), std::memory_order_relaxed);
  while (!session_.close && pending_.size() <= kMaxPendingBytes) {
    Result<bool> got = reader_.Next(&args_);
    if (!got.ok()) {
      spdlog::debug("closing resp connection: {}", got.status().message());
      writer_.Error("ERR " + got.status().message());
      session_.close = true;
    } else if (!*got) {
      break;
    } else {
      resp::Execute(ctx, args_);
    }
  }
  if (session_.hits != 0 || session_.misses != 0) {
    shared_.keyspace_hits.fetch_add(session_.hits, std::memory_order_relaxed);
    shared_.keyspace_misses.fetch_add(session_.misses, std::memory_order_relaxed);
    session_.hits = session_.misses = 0;
  }
}

void RespConnection::Flush() {
  if (writing_in_flight_ || closed_) return;
  if (pending_.empty()) {
    if (session_.close) Close();
    return;
  }
  writing_.swap(pending_);
  writing_in_flight_ = true;
  resp::ClientInfo::Add(session_.info->net_out, static_cast<int64_t>(writing_.size()));
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       size_t) { self->OnWritten(ec); });
}

void RespConnection::OnWritten(const boost::system::error_code& ec) {
  writing_in_flight_ = false;
  writing_.clear();
  if (ec) {
    Close();
    return;
  }
  // Requests left unprocessed while the replies were too large run now.
  if (!session_.close && reader_.buffered() > 0) ProcessRequests();
  Flush();
  Read();
}

void RespConnection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace quiver
