#include "bench/load_driver.h"

#include <time.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
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

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

// CPU time at the start of the measured interval, then the time used in it.
struct CpuClock {
  int server_pid = 0;
  double server = -1, generator = 0;
  bool started = false;

  void Start() {
    started = true;
    server = server_pid > 0 ? ProcessCpuSeconds(server_pid) : -1;
    generator = ThreadCpuSeconds();
  }
  void Stop(LoadResult* result) const {
    if (!started) return;
    const double s = server_pid > 0 ? ProcessCpuSeconds(server_pid) : -1;
    result->server_cpu_s = server >= 0 && s >= 0 ? s - server : -1;
    result->generator_cpu_s = ThreadCpuSeconds() - generator;
  }
};

struct Run {
  const LoadOptions& options;
  const ReplyParser& parser;
  Clock::time_point measure_from;
  Clock::time_point stop_at;
  LoadResult result;
  int active = 0;
  bool stopped = false;
  // Fire at measure_from and stop_at to read the CPU clocks; cancelled
  // (and so fired at once) when every connection has finished.
  asio::steady_timer* start_timer = nullptr;
  asio::steady_timer* stop_timer = nullptr;

  bool Measuring(Clock::time_point t) const { return t >= measure_from; }
  void ConnectionFinished() {
    if (--active > 0) return;
    start_timer->cancel();
    stop_timer->cancel();
  }
};

// What one batch sends: at most two buffers (a pool's end and start), and
// how many replies they ask for.
struct Batch {
  std::array<asio::const_buffer, 2> buffers;
  int replies = 0;
};

// The requests of one connection: made before the run into a pool and sent
// from it in turn, or (without a pool) made as they are sent.
class Requests {
 public:
  static constexpr size_t kMaxPooled = 4096;

  Requests(RequestSource source, size_t pool_bytes, int pipeline) : source_(std::move(source)) {
    if (pool_bytes == 0) return;
    offsets_.push_back(0);
    while ((pool_.size() < pool_bytes && replies_.size() < kMaxPooled) ||
           replies_.size() < static_cast<size_t>(pipeline)) {
      replies_.push_back(source_(&pool_));
      offsets_.push_back(pool_.size());
    }
  }

  Batch Next(int n) {
    Batch b;
    if (replies_.empty()) {
      live_.clear();
      for (int i = 0; i < n; ++i)
        b.replies += source_(&live_);
      b.buffers[0] = asio::buffer(live_);
      return b;
    }
    const size_t first = next_, k = replies_.size();
    for (int i = 0; i < n; ++i) {
      b.replies += replies_[next_];
      next_ = next_ + 1 == k ? 0 : next_ + 1;
    }
    const size_t end = first + static_cast<size_t>(n);
    b.buffers[0] = Span(first, std::min(end, k));
    if (end > k) b.buffers[1] = Span(0, end - k);
    return b;
  }

 private:
  asio::const_buffer Span(size_t from, size_t to) const {
    return asio::buffer(pool_.data() + offsets_[from], offsets_[to] - offsets_[from]);
  }

  RequestSource source_;
  std::string pool_;             // the pooled requests, back to back
  std::vector<size_t> offsets_;  // where each starts, and the end
  std::vector<int> replies_;     // the replies each asks for
  size_t next_ = 0;
  std::string live_;  // without a pool: the batch being sent
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(asio::io_context& io, Run& run, RequestSource source)
      : socket_(io),
        run_(run),
        requests_(std::move(source), run.options.pool_bytes, run.options.pipeline) {}

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
    const Batch batch = requests_.Next(run_.options.pipeline);
    expected_ = batch.replies;
    replies_ = 0;
    sent_at_ = now;
    auto written = [self = shared_from_this()](boost::system::error_code ec, size_t) {
      if (ec) return self->Fail("write: " + ec.message());
      self->Read();
    };
    if (tls_ != nullptr) return asio::async_write(*tls_, batch.buffers, std::move(written));
    asio::async_write(socket_, batch.buffers, std::move(written));
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
    run_.ConnectionFinished();
  }

  tcp::socket socket_;
  std::unique_ptr<asio::ssl::stream<tcp::socket&>> tls_;
  Run& run_;
  Requests requests_;
  std::vector<uint8_t> in_;
  size_t in_end_ = 0;
  int expected_ = 0;
  int replies_ = 0;
  uint64_t errors_ = 0;
  Clock::time_point sent_at_;
  bool finished_ = false;
};

}  // namespace

double ProcessCpuSeconds(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t name_end = text.rfind(')');  // the command may hold spaces
  if (name_end == std::string::npos) return -1;
  std::istringstream fields(text.substr(name_end + 2));
  // From field 3 (state): utime and stime are fields 14 and 15.
  std::string skip;
  for (int i = 3; i < 14 && fields >> skip;)
    ++i;
  long long utime = -1, stime = -1;
  if (!(fields >> utime >> stime)) return -1;
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

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
  CpuClock cpu{.server_pid = options.server_pid};
  asio::steady_timer start_timer(io, run.measure_from), stop_timer(io, run.stop_at);
  run.start_timer = &start_timer;
  run.stop_timer = &stop_timer;
  start_timer.async_wait([&](boost::system::error_code ec) {
    if (!ec) cpu.Start();
  });
  stop_timer.async_wait([&](boost::system::error_code) { cpu.Stop(&run.result); });
  for (auto& c : connections)
    c->SendBatch();
  connections.clear();  // the connections keep themselves alive
  io.run();
  const auto end = std::min(Clock::now(), run.stop_at);
  run.result.seconds = std::chrono::duration<double>(end - run.measure_from).count();
  return run.result;
}

}  // namespace quiver::bench
