#include "server/net/stream_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/write.hpp>

namespace quiver {

StreamConnection::StreamConnection(boost::asio::ip::tcp::socket socket, std::string_view name)
    : socket_(std::move(socket)), name_(name) {}

void StreamConnection::Start() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  Started();
  Read();
}

void StreamConnection::Read() {
  if (reading_ || closing_ || closed_ || pending_.size() + writing_.size() > kMaxPendingBytes ||
      ReadPaused()) {
    return;
  }
  reading_ = true;
  std::span<char> space = ReadSpace();
  socket_.async_read_some(boost::asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void StreamConnection::OnRead(const boost::system::error_code& ec, size_t bytes) {
  reading_ = false;
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
}

void StreamConnection::Flush() {
  if (writing_in_flight_ || closed_) return;
  if (pending_.empty()) {
    if (closing_ && !AnswersPending()) Close();
    return;
  }
  writing_.swap(pending_);
  writing_in_flight_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       size_t) { self->OnWritten(ec); });
}

void StreamConnection::OnWritten(const boost::system::error_code& ec) {
  writing_in_flight_ = false;
  const size_t bytes = writing_.size();
  writing_.clear();
  if (ec) {
    Close();
    return;
  }
  Written(bytes);
  Flush();
  Read();  // resumes reading if backpressure had paused it
}

void StreamConnection::Close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace quiver
