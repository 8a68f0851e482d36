// libFuzzer target: arbitrary bytes as a RESP stream, through the RESP
// reader and every command, against a real KeySpace. Nothing may crash,
// leak or read out of bounds; every request gets a reply, and a protocol
// error ends the stream as it ends a connection.
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>

#include "fuzz/fixture.h"
#include "protocol/resp.h"
#include "server/resp/command.h"
#include "util/rcu.h"

namespace {

struct Fixture {
  Fixture()
      : table(quiver::OnlineTable::Options{.shards = 4, .max_memory_bytes = 64 << 20}),
        store(registry, table, nullptr, {}),
        keyspace(table, {.databases = 4}),
        config(Settings()),
        shared(config, "fuzz") {
    keyspace.SetKeyEvents(&shared.notifier);  // as the server does
    store.SetRowEvents(&shared.feature_channels);
    shared.script_instruction_limit = 1'000'000;  // a mutated script may loop forever
  }
  static quiver::ServerOptions Settings() {
    quiver::ServerOptions o;
    o.databases = 4;
    return o;
  }
  quiver::rcu::ThreadRegistration registration;
  quiver::Registry registry;
  quiver::OnlineTable table;
  quiver::FeatureStore store;
  quiver::KeySpace keyspace;
  quiver::RuntimeConfig config;
  quiver::resp::Shared shared;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Fixture* f = &quiver::fuzz::Persistent<Fixture>();
  quiver::resp::Session session;
  session.info = std::make_shared<quiver::resp::ClientInfo>();
  // Odd-sized inputs run as a client that has not authenticated: the
  // reader's limits for such clients, and every command's NOAUTH path.
  session.authenticated = size % 2 == 0;
  std::string out;
  quiver::protocol::RespWriter writer(&out);
  quiver::resp::Context ctx{f->keyspace, f->store, f->shared, session, writer};
  struct EndSubscriptions {  // the registry outlives each input's session
    Fixture* f;
    quiver::resp::Session& s;
    ~EndSubscriptions() { quiver::resp::UnsubscribeAll(f->shared, s); }
  } end_subscriptions{f, session};
  quiver::protocol::RespReader reader({.max_bulk = 1 << 20, .max_args = 4096});
  std::vector<std::string_view> args;
  // Feed in two pieces to exercise partly received requests.
  const size_t half = size / 2;
  for (auto [p, n] : {std::pair{data, half}, std::pair{data + half, size - half}}) {
    std::span<char> space = reader.WritableSpace(n);
    if (n > 0) std::memcpy(space.data(), p, n);
    reader.Commit(n);
    while (!session.close) {
      reader.set_authenticated(session.authenticated);
      quiver::Result<bool> got = reader.Next(&args);
      if (!got.ok()) return 0;
      if (!*got) break;
      quiver::resp::Execute(ctx, args);
      if (ctx.block) {  // a blocking command with nothing to take: as if it timed out
        ctx.block.reset();
        writer.NullArray();
      }
      if (out.size() > (8u << 20)) out.clear();
    }
  }
  return 0;
}
