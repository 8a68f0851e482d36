#include "server/native_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/write.hpp>

namespace quiver {

namespace {
// Stop reading while this much is waiting to be written: a client that
// pipelines without reading cannot make the server buffer without bound.
constexpr size_t kMaxPendingBytes = 32u << 20;
}  // namespace

NativeConnection::NativeConnection(boost::asio::ip::tcp::socket socket, FeatureStore& store,
                                   const NativeHandlerOptions& options)
    : socket_(std::move(socket)),
      reader_(static_cast<uint32_t>(options.max_frame_bytes)),
      handler_(store, options),
      builder_(64 * 1024) {}

void NativeConnection::Start() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  Read();
}

void NativeConnection::Read() {
  if (reading_ || closing_ || pending_.size() + writing_.size() > kMaxPendingBytes) return;
  reading_ = true;
  std::span<uint8_t> space = reader_.WritableSpace();
  socket_.async_read_some(boost::asio::buffer(space.data(), space.size()),
                          [self = shared_from_this()](const boost::system::error_code& ec,
                                                      size_t n) { self->OnRead(ec, n); });
}

void NativeConnection::OnRead(const boost::system::error_code& ec, size_t bytes) {
  reading_ = false;
  if (ec) {
    if (ec != boost::asio::error::eof && ec != boost::asio::error::operation_aborted) {
      spdlog::debug("native connection read error: {}", ec.message());
    }
    Close();
    return;
  }
  reader_.Commit(bytes);
  ProcessFrames();
  Flush();
  Read();
}

void NativeConnection::ProcessFrames() {
  while (!closing_) {
    Result<std::span<const uint8_t>> frame = reader_.Next();
    if (!frame.ok()) {
      spdlog::warn("closing native connection: {}", frame.status().message());
      protocol::BuildErrorResponse(&builder_, 0, frame.status());
      closing_ = true;
    } else if (frame->empty()) {
      return;
    } else if (!handler_.Handle(*frame, &builder_)) {
      spdlog::warn("closing native connection: malformed frame");
      closing_ = true;
    }
    const uint8_t* out = builder_.GetBufferPointer();
    pending_.insert(pending_.end(), out, out + builder_.GetSize());
  }
}

void NativeConnection::Flush() {
  if (writing_in_flight_) return;
  if (pending_.empty()) {
    if (closing_) Close();
    return;
  }
  writing_.swap(pending_);
  writing_in_flight_ = true;
  boost::asio::async_write(socket_, boost::asio::buffer(writing_),
                           [self = shared_from_this()](const boost::system::error_code& ec,
                                                       size_t) { self->OnWritten(ec); });
}

void NativeConnection::OnWritten(const boost::system::error_code& ec) {
  writing_in_flight_ = false;
  writing_.clear();
  if (ec) {
    Close();
    return;
  }
  Flush();
  Read();  // resumes reading if backpressure had paused it
}

void NativeConnection::Close() {
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace quiver
