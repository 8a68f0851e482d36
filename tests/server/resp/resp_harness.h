// Runs RESP commands in process, without a socket, against a real keyspace
// and feature store (as Dragonfly's command tests do): Run({"SET", "k", "v"})
// returns the reply exactly as the wire would carry it ("+OK\r\n").
// One harness per test; the test's thread only.
#pragma once

#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/resp.h"
#include "server/resp/command.h"
#include "storage/features/feature_store.h"
#include "storage/keyspace/keyspace.h"
#include "util/rcu.h"

namespace quiver::resp {

struct RespHarnessOptions {
  int64_t max_memory_bytes = 0;  // 0: no limit
  std::string requirepass;
};

class RespHarness {
 public:
  explicit RespHarness(RespHarnessOptions options = {})
      : table_(OnlineTable::Options{.shards = 4, .max_memory_bytes = options.max_memory_bytes}),
        store_(registry_, table_, nullptr, {}),
        keyspace_(table_, KeySpaceOptions()),
        config_(Settings(options)),
        shared_(config_, "test") {
    config_.OnChange("max_memory",
                     [this](const ServerOptions& o) { table_.set_max_memory_bytes(o.max_memory); });
    session_.info = std::make_shared<ClientInfo>();
    session_.authenticated = options.requirepass.empty();
  }

  // The reply to one command, as RESP bytes.
  std::string Run(std::initializer_list<std::string_view> args) {
    std::vector<std::string_view> v(args);
    return Run(v);
  }
  std::string Run(const std::vector<std::string_view>& args) {
    std::string out;
    protocol::RespWriter writer(&out);
    writer.SetVersion(session_.proto);
    Context ctx{keyspace_, store_, shared_, session_, writer};
    Execute(ctx, args);
    return out;
  }

  FeatureStore& store() { return store_; }
  KeySpace& keyspace() { return keyspace_; }
  Session& session() { return session_; }

  // Reply encodings, for expectations.
  static std::string Ok() { return "+OK\r\n"; }
  static std::string Error(std::string_view line) { return "-" + std::string(line) + "\r\n"; }
  static std::string Bulk(std::string_view s) {
    return "$" + std::to_string(s.size()) + "\r\n" + std::string(s) + "\r\n";
  }
  static std::string Null() { return "$-1\r\n"; }
  static std::string Integer(int64_t n) { return ":" + std::to_string(n) + "\r\n"; }

 private:
  static KeySpace::Options KeySpaceOptions() {
    KeySpace::Options o;
    o.databases = 16;
    return o;
  }
  static ServerOptions Settings(const RespHarnessOptions& options) {
    ServerOptions o;
    o.requirepass = options.requirepass;
    o.max_memory = options.max_memory_bytes;
    return o;
  }

  rcu::ThreadRegistration registration_;
  Registry registry_;
  OnlineTable table_;
  FeatureStore store_;
  KeySpace keyspace_;
  RuntimeConfig config_;
  Shared shared_;
  Session session_;
};

}  // namespace quiver::resp
