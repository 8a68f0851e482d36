// libFuzzer target: arbitrary bytes as an HTTP request, through Beast's
// parser (with the server's limits) and HttpApi: URL decoding, query
// parsing, JSON bodies (simdjson), feature reads against a real store
// (finding no rows, they render every type's default), metrics. Nothing
// may crash, leak or read out of
// bounds, and every request gets a JSON (or Prometheus text) answer with a
// status.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <boost/beast/http.hpp>

#include "fuzz/fixture.h"
#include "server/http/api.h"
#include "util/rcu.h"

namespace {

struct Fixture {
  Fixture()
      : table(quiver::OnlineTable::Options{.shards = 4, .max_memory_bytes = 64 << 20}),
        store(registry, table, nullptr, {}),
        keyspace(table, {.databases = 2}),
        metrics({std::vector<std::string>{"get"}, {"get"}, {"health"}}, 1),
        api({.store = store, .keyspace = keyspace, .metrics = metrics, .version = "fuzz"}) {
    const auto applied = store.Apply(R"(
entities: [{name: user, keys: [user_id]}, {name: pair, keys: [a, b]}]
views:
  - name: v
    entity: user
    fields:
      - {name: b, type: bool}
      - {name: i, type: int32, default: 7}
      - {name: l, type: int64}
      - {name: f, type: float32}
      - {name: d, type: float64}
      - {name: s, type: string, default: "x\"y"}
      - {name: raw, type: bytes}
      - {name: vec, type: "float32[3]"}
  - name: p
    entity: pair
    fields: [{name: x, type: float32}]
)");
    if (!applied.ok()) std::abort();
    metrics.recorder(0).Record(quiver::FrontEnd::kNative, 0, 1000, false);
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  quiver::FeatureStore store;
  quiver::KeySpace keyspace;
  quiver::RequestMetrics metrics;
  quiver::HttpApi api;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  namespace http = boost::beast::http;
  Fixture* f = &quiver::fuzz::Persistent<Fixture>();
  http::request_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(64 * 1024);
  parser.body_limit(1 << 20);
  boost::beast::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_done()) return 0;
  const auto& request = parser.get();
  quiver::HttpKind kind;
  const quiver::HttpReply reply =
      f->api.Handle(request.method_string(), request.target(), request.body(),
                    request[http::field::authorization], &kind);
  if (reply.status < 200 || reply.status > 599 || reply.body.empty()) std::abort();
  return 0;
}
