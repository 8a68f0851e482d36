// SENTINEL on a cluster member: the Redis Sentinel discovery commands that
// clients use to find the server to talk to (docs/cluster.md#resp-clients).
// Every member of a quiver cluster accepts writes, so each member that
// serves (it has caught up with the changelog) answers that the "master"
// of the cluster is itself, at the address the client reached it on; a
// member that does not serve answers that it is down, and the client asks
// the next sentinel in its list. The master's name is the changelog topic.
#include <string>

#include "server/cluster/changelog.h"
#include "server/resp/command.h"
#include "server/resp/helpers.h"
#include "util/ascii.h"

namespace quiver::resp {

namespace {

// The address the client reached this member on: laddr, "ip:port".
std::pair<std::string, std::string> OwnAddress(const Context& ctx) {
  const std::string& laddr = ctx.session.info->laddr;
  const size_t colon = laddr.rfind(':');
  if (colon == std::string::npos) return {laddr, "0"};
  return {laddr.substr(0, colon), laddr.substr(colon + 1)};
}

std::string Lower(std::string_view text) {
  std::string out(text.substr(0, 64));
  for (char& c : out)
    c = AsciiLower(c);
  return out;
}

bool Serving(const Context& ctx) {
  return ctx.shared.changelog->ReadsAllowed().ok();
}

// The master's state as SENTINEL MASTER(S) report it: field, value, ...
void MasterState(Context& ctx) {
  const auto [ip, port] = OwnAddress(ctx);
  const std::string fields[][2] = {
      {"name", ctx.shared.changelog->topic()},
      {"ip", ip},
      {"port", port},
      {"runid", ""},
      {"flags", Serving(ctx) ? "master" : "master,s_down"},
      {"num-slaves", "0"},
      {"num-other-sentinels", "0"},
      {"quorum", "1"},
  };
  ctx.out.Map(std::size(fields));
  for (const auto& [name, value] : fields) {
    ctx.out.Bulk(name);
    ctx.out.Bulk(value);
  }
}

// Whether args[2] names this cluster's master (replies if not).
bool NamesMaster(Context& ctx, Args args) {
  if (args.size() != 3) {
    ctx.out.Error("ERR wrong number of arguments for 'sentinel|" + Lower(args[1]) + "' command");
    return false;
  }
  if (args[2] != ctx.shared.changelog->topic()) {
    ctx.out.Error("ERR No such master with that name");
    return false;
  }
  return true;
}

void SentinelCommand(Context& ctx, Args args) {
  if (ctx.shared.changelog == nullptr) {
    return ctx.out.Error(
        "ERR this server is not a cluster member (no cluster_topic): SENTINEL answers on "
        "cluster members only");
  }
  const std::string sub = Lower(args[1]);
  if (sub == "get-master-addr-by-name") {
    if (args.size() != 3) {
      return ctx.out.Error("ERR wrong number of arguments for 'sentinel|" + sub + "' command");
    }
    if (args[2] != ctx.shared.changelog->topic() || !Serving(ctx)) {
      return ctx.out.NullArray();
    }
    const auto [ip, port] = OwnAddress(ctx);
    ctx.out.Array(2);
    ctx.out.Bulk(ip);
    return ctx.out.Bulk(port);
  }
  if (sub == "masters" && args.size() == 2) {
    ctx.out.Array(1);
    return MasterState(ctx);
  }
  if (sub == "master") {
    if (NamesMaster(ctx, args)) MasterState(ctx);
    return;
  }
  if (sub == "replicas" || sub == "slaves" || sub == "sentinels") {
    if (NamesMaster(ctx, args)) ctx.out.Array(0);  // members do not track each other
    return;
  }
  if (sub == "myid" && args.size() == 2) return ctx.out.Bulk(ctx.shared.changelog->replica_id());
  ctx.out.Error("ERR Unknown sentinel subcommand '" + std::string(args[1].substr(0, 64)) +
                "'. Try SENTINEL MASTERS, MASTER, GET-MASTER-ADDR-BY-NAME, REPLICAS, "
                "SENTINELS or MYID.");
}

const Command kSentinelCommands[] = {
    {"sentinel", -2, kFast | kStale, 0, 0, 0, "sentinel",
     "Redis Sentinel's discovery on a cluster member: the master of the cluster (named as its "
     "changelog topic) is any member that serves.",
     SentinelCommand},
};

}  // namespace

std::span<const Command> SentinelCommands() {
  return kSentinelCommands;
}

}  // namespace quiver::resp
