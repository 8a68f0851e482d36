// quiver-bench: drives quiver and Redis with the same workloads in the same
// run and prints both, with the ratio. See bench/README.md.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include <CLI/CLI.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/streambuf.hpp>
#include <boost/asio/write.hpp>

#include "bench/workloads.h"

namespace {

using namespace quiver::bench;

struct Endpoint {
  std::string host = "127.0.0.1";
  uint16_t port = 0;
};

struct Args {
  Endpoint quiver{"127.0.0.1", 7070};
  Endpoint redis{"127.0.0.1", 6379};
  std::string target = "both";
  std::vector<std::string> workloads{"user", "rank"};
  bool load = false;
  bool load_only = false;
  Scale scale;
  double scale_factor = 1.0;
  std::string definitions = "examples/features.yaml";
  int quiver_pid = 0;
  int redis_pid = 0;   // 0: asked of Redis (INFO server's process_id)
  int pool_mib = 128;  // read requests made before the run, in all (0: none)
  LoadOptions load_options;
  // The native port over TLS (quiverd --tls-native-port): the CA to verify
  // it with, and the client certificate to show. Empty: plain.
  std::string tls_ca, tls_cert, tls_key;
  std::shared_ptr<boost::asio::ssl::context> tls;
};

// The client context of --tls-ca/--tls-cert/--tls-key.
std::shared_ptr<boost::asio::ssl::context> TlsContext(const Args& a) {
  auto context = std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
  boost::system::error_code ec;
  context->load_verify_file(a.tls_ca, ec);
  if (!ec && !a.tls_cert.empty()) context->use_certificate_chain_file(a.tls_cert, ec);
  if (!ec && !a.tls_key.empty()) {
    context->use_private_key_file(a.tls_key, boost::asio::ssl::context::pem, ec);
  }
  if (ec) {
    std::fprintf(stderr, "quiver-bench: TLS files: %s\n", ec.message().c_str());
    return nullptr;
  }
  context->set_verify_mode(boost::asio::ssl::verify_peer);
  return context;
}

Endpoint ParseEndpoint(const std::string& text, uint16_t default_port) {
  Endpoint e;
  const size_t colon = text.rfind(':');
  e.host = text.substr(0, colon);
  e.port = colon == std::string::npos ? default_port
                                      : static_cast<uint16_t>(std::stoi(text.substr(colon + 1)));
  return e;
}

// One INFO field of Redis (e.g. used_memory of section memory), or -1.
long long RedisInfo(const Endpoint& redis, const std::string& field,
                    const std::string& section = "memory") {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  boost::system::error_code ec;
  boost::asio::ip::tcp::resolver resolver(io);
  boost::asio::connect(socket, resolver.resolve(redis.host, std::to_string(redis.port)), ec);
  if (ec) return -1;
  boost::asio::write(socket, boost::asio::buffer("INFO " + section + "\r\n"), ec);
  boost::asio::streambuf buf;
  boost::asio::read_until(socket, buf, "\r\n\r\n", ec);
  std::string text((std::istreambuf_iterator<char>(&buf)), std::istreambuf_iterator<char>());
  const size_t at = text.find("\n" + field + ":");
  return at == std::string::npos ? -1 : std::stoll(text.substr(at + field.size() + 2));
}

long long ProcessRssBytes(int pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

void PrintHeader() {
  std::printf("%-6s %-7s %6s %5s %12s %9s %9s %9s %9s %9s %7s %10s %10s\n", "load", "target",
              "conns", "pipe", "req/s", "p50(us)", "p90(us)", "p99(us)", "p999(us)", "max(us)",
              "errors", "srv(ns/r)", "gen(ns/r)");
}

// A CPU cost per request in ns, or "-" where it was not measured.
std::string Nanos(double us) {
  return us < 0 ? "-" : std::to_string(static_cast<long long>(us * 1000 + 0.5));
}

void PrintRow(const std::string& workload, const std::string& target, const LoadOptions& o,
              const LoadResult& r) {
  if (!r.failure.empty()) {
    std::printf("%-6s %-7s FAILED: %s\n", workload.c_str(), target.c_str(), r.failure.c_str());
    return;
  }
  const auto us = [&](double q) { return r.latency.Percentile(q) / 1000.0; };
  std::printf("%-6s %-7s %6d %5d %12.0f %9.1f %9.1f %9.1f %9.1f %9.1f %7llu %10s %10s%s\n",
              workload.c_str(), target.c_str(), o.connections, o.pipeline, r.rps(), us(0.5),
              us(0.9), us(0.99), us(0.999), r.latency.max() / 1000.0,
              static_cast<unsigned long long>(r.errors), Nanos(r.ServerUsPerRequest()).c_str(),
              Nanos(r.GeneratorUsPerRequest()).c_str(),
              r.generator_bound() ? "  GENERATOR-BOUND" : "");
}

LoadResult RunOne(const Args& a, const std::string& workload, bool quiver) {
  LoadOptions o = a.load_options;
  o.host = quiver ? a.quiver.host : a.redis.host;
  o.port = quiver ? a.quiver.port : a.redis.port;
  o.server_pid = quiver ? a.quiver_pid : a.redis_pid;
  // Reads are made before the run; a put carries the current time.
  const size_t pool = static_cast<size_t>(a.pool_mib) << 20;
  o.pool_bytes = workload == "put" || pool == 0
                     ? 0
                     : std::max<size_t>(256 << 10, pool / static_cast<size_t>(o.connections));
  if (quiver) o.tls = a.tls.get();
  const Scale s = a.scale;
  auto source = [&](int i) -> RequestSource {
    const uint64_t seed = 1000 + static_cast<uint64_t>(i);
    if (workload == "user") return quiver ? QuiverUserSource(s, seed) : RedisUserSource(s, seed);
    if (workload == "put") return quiver ? QuiverPutSource(s, seed) : RedisPutSource(s, seed);
    return quiver ? QuiverRankSource(s, seed) : RedisRankSource(s, seed);
  };
  return RunLoad(o, source, quiver ? QuiverReplyParser() : RespReplyParser());
}

int Load(const Args& a, bool quiver, bool redis) {
  if (quiver) {
    std::ifstream in(a.definitions);
    std::stringstream yaml;
    yaml << in.rdbuf();
    std::fprintf(stderr, "loading quiver: %lld users, %lld items\n",
                 static_cast<long long>(a.scale.users), static_cast<long long>(a.scale.items));
    quiver::Status s = LoadQuiver(a.quiver.host, a.quiver.port, yaml.str(), a.scale);
    if (!s.ok()) {
      std::fprintf(stderr, "quiver load failed: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  if (redis) {
    std::fprintf(stderr, "loading redis (today's layout)\n");
    quiver::Status s = LoadRedis(a.redis.host, a.redis.port, a.scale);
    if (!s.ok()) {
      std::fprintf(stderr, "redis load failed: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  return 0;
}

void PrintMemory(const Args& a, bool quiver, bool redis) {
  long long q = quiver && a.quiver_pid > 0 ? ProcessRssBytes(a.quiver_pid) : -1;
  long long r = redis ? RedisInfo(a.redis, "used_memory") : -1;
  if (q > 0) std::printf("memory  quiver RSS          %10.1f MiB\n", q / 1048576.0);
  if (r > 0) {
    std::printf("memory  redis used_memory  %10.1f MiB (RSS %.1f MiB)\n", r / 1048576.0,
                RedisInfo(a.redis, "used_memory_rss") / 1048576.0);
  }
  if (q > 0 && r > 0) std::printf("memory  quiver / redis     %10.1f%%\n", 100.0 * q / r);
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  std::string quiver_addr = "127.0.0.1:7070", redis_addr = "127.0.0.1:6379";
  CLI::App app("quiver-bench: quiver and Redis under the reference workload, side by side");
  app.add_option("--quiver", quiver_addr, "quiverd native address (default 127.0.0.1:7070)");
  app.add_option("--redis", redis_addr, "Redis address (default 127.0.0.1:6379)");
  app.add_option("--target", a.target, "both, quiver or redis (default both)");
  app.add_option("--workloads", a.workloads, "user, rank and/or put (default user,rank)")
      ->delimiter(',');
  app.add_flag("--load", a.load, "Load the data set before running");
  app.add_flag("--load-only", a.load_only, "Load the data set and exit");
  app.add_option("--users", a.scale.users, "Users in the data set (default 2,000,000)");
  app.add_option("--items", a.scale.items, "Items in the data set (default 500,000)");
  app.add_option("--scale", a.scale_factor, "Multiply users and items by this (e.g. 0.01)");
  app.add_option("--versions", a.scale.versions,
                 "quiver load: versions per entity, an hour apart from 2026-11-01 (default: one, "
                 "now)");
  app.add_option("--definitions", a.definitions, "Feature definitions for quiver");
  app.add_option("--quiver-pid", a.quiver_pid,
                 "quiverd's pid, to report its RSS and CPU per request (same machine only)");
  app.add_option("--redis-pid", a.redis_pid,
                 "Redis's pid, for its CPU per request (default: INFO server's process_id when "
                 "Redis is on this machine's loopback)");
  app.add_option("--connections,-c", a.load_options.connections, "Connections (default 50)");
  app.add_option("--pipeline,-P", a.load_options.pipeline,
                 "Requests per write per connection (default 1)");
  app.add_option("--duration", a.load_options.duration_s, "Measured seconds per run (default 10)");
  app.add_option("--warmup", a.load_options.warmup_s, "Unmeasured seconds before (default 2)");
  app.add_option("--requests", a.load_options.max_requests, "Stop after this many requests");
  app.add_option("--pool-mib", a.pool_mib,
                 "Read requests made before the run, MiB in all (default 128; 0: each made as it "
                 "is sent)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--tls-ca", a.tls_ca,
                 "quiverd over TLS (--tls-native-port): the CA to verify it with");
  app.add_option("--tls-cert", a.tls_cert, "The client certificate to show quiverd");
  app.add_option("--tls-key", a.tls_key, "Its private key");
  CLI11_PARSE(app, argc, argv);
  a.quiver = ParseEndpoint(quiver_addr, 7070);
  a.redis = ParseEndpoint(redis_addr, 6379);
  a.scale.users = std::max<int64_t>(1, static_cast<int64_t>(a.scale.users * a.scale_factor));
  a.scale.items = std::max<int64_t>(1, static_cast<int64_t>(a.scale.items * a.scale_factor));
  const bool quiver = a.target != "redis", redis = a.target != "quiver";
  if (redis && a.redis_pid == 0 &&
      (a.redis.host.rfind("127.", 0) == 0 || a.redis.host == "localhost"))
    a.redis_pid = static_cast<int>(RedisInfo(a.redis, "process_id", "server"));
  if (a.redis_pid < 0) a.redis_pid = 0;
  if (!a.tls_ca.empty() && (a.load || a.load_only)) {
    std::fprintf(stderr, "quiver-bench: load through the plain port, then run over TLS\n");
    return 1;
  }
  if (!a.tls_ca.empty() && (a.tls = TlsContext(a)) == nullptr) return 1;

  if ((a.load || a.load_only) && Load(a, quiver, redis) != 0) return 1;
  PrintMemory(a, quiver, redis);
  if (a.load_only) return 0;
  PrintHeader();
  int failures = 0;
  for (const std::string& w : a.workloads) {
    LoadResult q, r;
    if (quiver) PrintRow(w, "quiver", a.load_options, q = RunOne(a, w, true));
    if (redis) PrintRow(w, "redis", a.load_options, r = RunOne(a, w, false));
    failures += !q.failure.empty() + !r.failure.empty();
    if (quiver && redis && r.rps() > 0 && q.failure.empty()) {
      std::printf("%-6s ratio   quiver/redis req/s x%.2f, p99 %.1f us vs %.1f us", w.c_str(),
                  q.rps() / r.rps(), q.latency.Percentile(0.99) / 1000.0,
                  r.latency.Percentile(0.99) / 1000.0);
      if (q.ServerUsPerRequest() > 0 && r.ServerUsPerRequest() > 0)
        std::printf(", server CPU per request x%.2f of Redis's",
                    q.ServerUsPerRequest() / r.ServerUsPerRequest());
      std::printf("\n");
    }
  }
  return failures == 0 ? 0 : 1;
}
