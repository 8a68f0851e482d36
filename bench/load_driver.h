// LoadDriver: drives one server with N connections on one Boost.Asio
// thread. Each connection sends `pipeline` requests in one write, waits for
// all their answers, records each one's latency, and repeats until the run
// ends. The same driver runs quiver and Redis, so the two are measured
// alike.
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
};

struct LoadResult {
  uint64_t requests = 0;  // measured logical requests
  uint64_t errors = 0;    // error replies among them
  double seconds = 0;
  LatencyHistogram latency;  // per logical request, send to last reply
  std::string failure;       // set if the run could not complete
  double rps() const { return seconds > 0 ? static_cast<double>(requests) / seconds : 0; }
};

// make_source(i) gives connection i its request generator.
LoadResult RunLoad(const LoadOptions& options, const std::function<RequestSource(int)>& make_source,
                   const ReplyParser& parser);

// Parsers for the two protocols.
ReplyParser QuiverReplyParser();
ReplyParser RespReplyParser();

}  // namespace quiver::bench
