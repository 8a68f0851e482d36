// libFuzzer target: arbitrary bytes as an HTTP request, through Beast's
// parser (with the server's limits) and HttpApi: URL decoding, query
// parsing, JSON bodies (simdjson), feature reads against a real store
// (finding no rows, they render every type's default), metrics, the
// dashboard's files, logins (user alice, password pw), cookies and
// documents (time series, distributions). Nothing
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
        users(catalog),
        series({.metrics = metrics, .store = store}, {}),
        api({.store = store,
             .keyspace = keyspace,
             .metrics = metrics,
             .version = "fuzz",
             .users = &users,
             .acl_log = &acl_log,
             .series = &series}) {
    const std::string_view alice[] = {"on", ">pw", "+@all", "~*"};
    if (!users.SetUser("alice", alice).ok()) std::abort();
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
    series.Sample(1'000);
    metrics.recorder(0).Record(quiver::FrontEnd::kNative, 0, 3000, false);
    series.Sample(2'000);
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  quiver::FeatureStore store;
  quiver::KeySpace keyspace;
  quiver::RequestMetrics metrics;
  quiver::acl::Catalog catalog;
  quiver::acl::Users users;
  quiver::acl::AclLog acl_log;
  quiver::dashboard::Series series;
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
      f->api.Handle({.method = request.method_string(),
                     .target = request.target(),
                     .body = request.body(),
                     .authorization = request[http::field::authorization],
                     .cookie = request[http::field::cookie],
                     .if_none_match = request[http::field::if_none_match],
                     .from_page = request.find("X-Requested-With") != request.end()},
                    &kind);
  if (reply.status < 200 || reply.status > 599) std::abort();
  if (reply.body.empty() != (reply.status == 304)) std::abort();  // only "not modified" is empty
  return 0;
}
