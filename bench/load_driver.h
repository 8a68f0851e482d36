// LoadDriver: drives one server with N connections on one Boost.Asio
// thread. Each connection sends `pipeline` requests in one write, waits for
// all their answers, records each one's latency, and repeats until the run
// ends. The same driver runs quiver and Redis, so the two are measured
// alike.
//
// It also measures what each request cost: the server's CPU (all its
// threads, from /proc/PID/stat) and the driver's own, both over the
// measured interval only. A driver busy nearly all of that interval was the
// bottleneck, and says so (LoadResult::generator_bound). With a request
// pool, the requests are made before the run and sent from the pool, so the
// hot path makes no request, allocates nothing and copies nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "bench/latency_histogram.h"

namespace quiver::bench {

// Parses one complete reply at the front of a buffer: returns its size, 0 if
// more bytes are needed, or -1 if the stream is broken. Sets *error if the
// reply is a well-formed error answer.
using ReplyParser = std::function<ptrdiff_t(const uint8_t* data, size_t size, bool* error)>;
// Appends one logical request to *out; returns how many replies it expects.
using RequestSource = std::function<int(std::string* out)>;

struct LoadOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
  int connections = 50;
  int pipeline = 1;           // logical requests per write
  double duration_s = 10;     // measured time
  double warmup_s = 2;        // unmeasured time before it
  uint64_t max_requests = 0;  // stop after this many measured requests (0: no limit)
  // Over TLS with this (client) context; null: plain TCP. The handshakes
  // are done before the run starts.
  boost::asio::ssl::context* tls = nullptr;
  // The server's pid, to read its CPU time (0: not measured).
  int server_pid = 0;
  // Requests made before the run, per connection at most this many bytes
  // (and 4,096 requests), then sent in turn from the pool. 0: each request
  // is made as it is sent (for writes that must carry the current time).
  size_t pool_bytes = 0;
};

struct LoadResult {
  uint64_t requests = 0;  // measured logical requests
  uint64_t errors = 0;    // error replies among them
  double seconds = 0;
  LatencyHistogram latency;  // per logical request, send to last reply
  std::string failure;       // set if the run could not complete
  // CPU seconds over the measured interval: the server's (-1 if not
  // measured) and this driver's thread.
  double server_cpu_s = -1;
  double generator_cpu_s = 0;
  double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
  // CPU microseconds per logical request, or -1.
  double ServerUsPerRequest() const { return PerRequest(server_cpu_s); }
  double GeneratorUsPerRequest() const { return PerRequest(generator_cpu_s); }
  // The driver was busy 90% of the measured interval or more: the server's
  // throughput and latency were limited by it, not measured.
  bool generator_bound() const { return seconds > 0 && generator_cpu_s >= 0.9 * seconds; }

 private:
  double PerRequest(double cpu_s) const {
    return cpu_s < 0 || requests == 0 ? -1 : cpu_s * 1e6 / static_cast<double>(requests);
  }
};

// The CPU seconds process `pid` has used, all threads, user and system
// (from /proc/PID/stat), or -1 if it cannot be read.
double ProcessCpuSeconds(int pid);

// make_source(i) gives connection i its request generator.
LoadResult RunLoad(const LoadOptions& options, const std::function<RequestSource(int)>& make_source,
                   const ReplyParser& parser);

// Parsers for the two protocols.
ReplyParser QuiverReplyParser();
ReplyParser RespReplyParser();

}  // namespace quiver::bench
