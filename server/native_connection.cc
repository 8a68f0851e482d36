#include "server/native_connection.h"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace quiver {

namespace {
// Stop reading while this much is waiting to be written: a client that
// pipelines without reading cannot make the server buffer without bound.
constexpr size_t kMaxPendingBytes = 32u << 20;
// Stop reading while this many writes of one connection await their commit.
constexpr size_t kMaxAwaiting = 1024;
}  // namespace

NativeConnection::NativeConnection(boost::asio::ip::tcp::socket socket, FeatureStore& store,
                                   const NativeHandlerOptions& options)
    : socket_(std::move(socket)),
      store_(store),
      reader_(static_cast<uint32_t>(options.max_frame_bytes)),
      handler_(store, options),
      builder_(64 * 1024) {}

void NativeConnection::Start() {
  boost::system::error_code ignored;
  socket_.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  Read();
}

void NativeConnection::Read() {
  if (reading_ || closing_ || pending_.size() + writing_.size() > kMaxPendingBytes ||
      awaiting_ >= kMaxAwaiting) {
    return;
  }
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
    Answer();
  }
}

void NativeConnection::Answer() {
  const uint8_t* out = builder_.GetBufferPointer();
  const size_t size = builder_.GetSize();
  HistoryBatch& writes = handler_.writes();
  bool awaits = false;
  if (!writes.empty()) {
    HistoryBatch batch = std::move(writes);
    writes.Clear();
    awaits = store_.Commit(std::move(batch), [self = shared_from_this()](const Status& status) {
      // On the committer thread: hand the outcome to the connection's own.
      boost::asio::post(self->socket_.get_executor(),
                        [self, status] { self->OnCommitted(status); });
    });
  }
  if (!awaits && held_.empty()) {
    pending_.insert(pending_.end(), out, out + size);
    return;
  }
  held_.push_back(Held{std::vector<uint8_t>(out, out + size), handler_.last_id(), awaits});
  awaiting_ += awaits ? 1 : 0;
}

void NativeConnection::OnCommitted(const Status& status) {
  // Commits complete in submission order: this one is the oldest awaited.
  for (Held& h : held_) {
    if (!h.awaits_commit) continue;
    h.awaits_commit = false;
    --awaiting_;
    if (!status.ok()) {
      protocol::BuildErrorResponse(&builder_, h.id, status);
      h.bytes.assign(builder_.GetBufferPointer(), builder_.GetBufferPointer() + builder_.GetSize());
    }
    break;
  }
  while (!held_.empty() && !held_.front().awaits_commit) {
    const auto& bytes = held_.front().bytes;
    pending_.insert(pending_.end(), bytes.begin(), bytes.end());
    held_.pop_front();
  }
  Flush();
  Read();  // resumes reading if too many commits had paused it
}

void NativeConnection::Flush() {
  if (writing_in_flight_) return;
  if (pending_.empty()) {
    if (closing_ && held_.empty()) Close();
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
