#include "bench/load_driver.h"

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace quiver::bench {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

struct Run {
  const LoadOptions& options;
  const ReplyParser& parser;
  Clock::time_point measure_from;
  Clock::time_point stop_at;
  LoadResult result;
  int active = 0;
  bool stopped = false;

  bool Measuring(Clock::time_point t) const { return t >= measure_from; }
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Run& run, RequestSource source)
      : socket_(io), run_(run), source_(std::move(source)) {}

  tcp::socket& socket() { return socket_; }
  // Over TLS: shakes hands (blocking, before the run).
  boost::system::error_code StartTls(asio::ssl::context& context) {
    tls_ = std::make_unique<asio::ssl::stream<tcp::socket&>>(socket_, context);
    boost::system::error_code ec;
    tls_->handshake(asio::ssl::stream_base::client, ec);
    return ec;
  }

  void SendBatch() {
    const auto now = Clock::now();
    if (run_.stopped || now >= run_.stop_at ||
        (run_.options.max_requests > 0 && run_.result.requests >= run_.options.max_requests)) {
      Finish();
      return;
    }
    out_.clear();
    expected_ = 0;
    for (int i = 0; i < run_.options.pipeline; ++i)
      expected_ += source_(&out_);
    replies_ = 0;
    sent_at_ = now;
    auto written = [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Fail("write: " + ec.message());
      self->Read();
    };
    if (tls_ != nullptr) return asio::async_write(*tls_, asio::buffer(out_), std::move(written));
    asio::async_write(socket_, asio::buffer(out_), std::move(written));
  }

 private:
  void Read() {
    if (in_.size() - in_end_ < 64 * 1024) in_.resize(in_.size() * 2 + 64 * 1024);
    auto got = [self = shared_from_this()](boost::system::error_code ec, size_t n) {
      if (ec) return self->Fail("read: " + ec.message());
      self->in_end_ += n;
      self->Consume();
    };
    const auto space = asio::buffer(in_.data() + in_end_, in_.size() - in_end_);
    if (tls_ != nullptr) return tls_->async_read_some(space, std::move(got));
    socket_.async_read_some(space, std::move(got));
  }

  void Consume() {
    size_t pos = 0;
    while (replies_ < expected_) {
      bool error = false;
      const ptrdiff_t used = run_.parser(in_.data() + pos, in_end_ - pos, &error);
      if (used < 0) return Fail("malformed reply");
      if (used == 0) break;
      pos += static_cast<size_t>(used);
      ++replies_;
      errors_ += error ? 1 : 0;
    }
    std::memmove(in_.data(), in_.data() + pos, in_end_ - pos);
    in_end_ -= pos;
    if (replies_ < expected_) return Read();
    const auto done = Clock::now();
    if (run_.Measuring(sent_at_)) {
      const auto nanos =
          std::chrono::duration_cast<std::chrono::nanoseconds>(done - sent_at_).count();
      // Every logical request of the batch waited from the send to now.
      for (int i = 0; i < run_.options.pipeline; ++i)
        run_.result.latency.Record(static_cast<uint64_t>(nanos));
      run_.result.requests += run_.options.pipeline;
      run_.result.errors += errors_;
    }
    errors_ = 0;
    SendBatch();
  }

  void Fail(const std::string& what) {
    if (run_.result.failure.empty() && !run_.stopped) run_.result.failure = what;
    Finish();
  }

  void Finish() {
    if (finished_) return;
    finished_ = true;
    boost::system::error_code ignored;
    socket_.close(ignored);
    --run_.active;
  }

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  Run& run_;
  RequestSource source_;
  std::string out_;
  std::vector<uint8_t> in_;
  size_t in_end_ = 0;
  int expected_ = 0;
  int replies_ = 0;
  uint64_t errors_ = 0;
  Clock::time_point sent_at_;
  bool finished_ = false;
};

}  // namespace

LoadResult RunLoad(const LoadOptions& options, const std::function<RequestSource(int)>& make_source,
                   const ReplyParser& parser) {
  asio::io_context io(1);
  Run run{options, parser, {}, {}, {}, 0, false};
  tcp::resolver resolver(io);
  boost::system::error_code ec;
  auto endpoints = resolver.resolve(options.host, std::to_string(options.port), ec);
  if (ec) {
    run.result.failure = "resolve: " + ec.message();
    return run.result;
  }
  std::vector<std::shared_ptr<Connection>> connections;
  for (int i = 0; i < options.connections; ++i) {
    auto c = std::make_shared<Connection>(io, run, make_source(i));
    asio::connect(c->socket(), endpoints, ec);
    if (ec) {
      run.result.failure =
          "connect to " + options.host + ":" + std::to_string(options.port) + ": " + ec.message();
      return run.result;
    }
    c->socket().set_option(tcp::no_delay(true));
    if (options.tls != nullptr && (ec = c->StartTls(*options.tls))) {
      run.result.failure = "TLS handshake with " + options.host + ": " + ec.message();
      return run.result;
    }
    connections.push_back(c);
  }
  const auto start = Clock::now();
  run.measure_from = start + std::chrono::duration_cast<Clock::duration>(
                                 std::chrono::duration<double>(options.warmup_s));
  run.stop_at = run.measure_from + std::chrono::duration_cast<Clock::duration>(
                                       std::chrono::duration<double>(options.duration_s));
  run.active = options.connections;
  for (auto& c : connections)
    c->SendBatch();
  connections.clear();  // the connections keep themselves alive
  io.run();
  const auto end = std::min(Clock::now(), run.stop_at);
  run.result.seconds = std::chrono::duration<double>(end - run.measure_from).count();
  return run.result;
}

}  // namespace quiver::bench
