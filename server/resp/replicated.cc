#include "server/resp/replicated.h"

#include <new>

#include "server/cluster/record.h"
#include "server/cluster/slots.h"
#include "server/resp/arguments.h"
#include "util/ascii.h"
#include "util/rcu.h"

namespace quiver::resp {

namespace {

constexpr int kEveryPartition = -2;

bool IsFlush(const Command& cmd) {
  return cmd.name == "flushdb" || cmd.name == "flushall";
}

// The partition every key of the commands maps to; kEveryPartition for a
// FLUSHDB or FLUSHALL alone; -1 after replying CROSSSLOT (or that a
// command with no key cannot be proposed).
int PartitionOf(Context& ctx, std::span<const std::vector<std::string_view>> commands) {
  const int partitions = ctx.shared.changelog->partitions();
  int partition = -1;
  for (const auto& words : commands) {
    const Command* cmd = FindCommand(words[0]);
    if (cmd == nullptr || !(cmd->flags & kWrite)) continue;
    if (cmd->flags & kRunsScript) {
      ctx.out.Error("ERR " + AsciiUpperCopy(cmd->name) +
                    " is not replicated through the changelog yet: on a cluster member, run "
                    "read-only scripts with EVAL_RO or EVALSHA_RO");
      return -1;
    }
    if (IsFlush(*cmd) && commands.size() == 1) return kEveryPartition;
    if (IsFlush(*cmd)) {
      ctx.out.Error(std::string("ERR ") + (cmd->name == "flushdb" ? "FLUSHDB" : "FLUSHALL") +
                    " inside a transaction is not replicated through the changelog: run it "
                    "alone");
      return -1;
    }
    size_t keys = 0;
    bool crossed = false;
    ForEachKey(*cmd, words, [&](size_t i) {
      const int p = cluster::PartitionOf(words[i], partitions);
      crossed = crossed || (partition >= 0 && p != partition);
      partition = p;
      ++keys;
    });
    if (crossed) {
      ctx.out.Error("CROSSSLOT Keys in request don't hash to the same slot");
      return -1;
    }
    if (keys == 0 && cmd->numkeys_at > 0) {  // refused when it runs
      partition = std::max(partition, 0);
      continue;
    }
    if (keys == 0) {
      ctx.out.Error("ERR " + std::string(cmd->name) +
                    " is not replicated through the changelog yet: run it on each member with "
                    "cluster_topic unset, or delete the keys by name");
      return -1;
    }
  }
  return partition;
}

}  // namespace

bool Proposed(const Session& session, const Command* cmd) {
  if (cmd == nullptr) return false;
  if (cmd->flags & kWrite) return true;
  return session.in_multi && session.queued_writes && cmd->name == "exec";
}

void Propose(Context& ctx, std::span<const std::vector<std::string_view>> commands,
             bool transaction) {
  const int partition = PartitionOf(ctx, commands);
  if (partition == -1) return;
  ctx.proposal->every_partition = partition == kEveryPartition;
  ctx.proposal->partition = std::max(partition, 0);
  ctx.proposal->body.clear();
  cluster::EncodeCommands(ctx.session.proto, transaction, ctx.db(), commands, &ctx.proposal->body);
}

RespApplier::RespApplier(KeySpace& ks, FeatureStore& store, Shared& shared)
    : ks_(ks), store_(store), shared_(shared), info_(std::make_shared<ClientInfo>()) {}

Result<std::string> RespApplier::Apply(cluster::RecordKind kind, std::string_view body,
                                       int32_t partition, int64_t time_ms, HistoryBatch* batch) {
  if (kind != cluster::RecordKind::kCommands) {
    return Status::InvalidArgument("not a RESP commands record");
  }
  cluster::Commands c;
  QUIVER_RETURN_IF_ERROR(cluster::DecodeCommands(body, &c));
  if (c.db >= ks_.databases()) {
    return Status::InvalidArgument("changelog record for database " + std::to_string(c.db) +
                                   ", beyond the " + std::to_string(ks_.databases()) +
                                   " this server has");
  }
  std::vector<const Command*> cmds;
  for (const auto& words : c.commands) {
    const Command* cmd = FindCommand(words[0]);
    if (cmd == nullptr || !ArityOk(*cmd, words.size())) {
      return Status::InvalidArgument("changelog record with a command this server cannot run: " +
                                     std::string(words[0].substr(0, 64)));
    }
    cmds.push_back(cmd);
  }
  Session session;
  session.info = info_;
  session.db = c.db;
  session.proto = c.proto;
  session.authenticated = true;
  std::string reply;
  protocol::RespWriter out(&reply);
  out.SetVersion(c.proto);
  Context ctx{ks_, store_, shared_, session, out};
  ctx.applying = true;
  ctx.partition = partition;
  ctx.txn = ks_.log() != nullptr ? batch : nullptr;
  KeySpace::ClockScope clock(ks_, time_ms);
  rcu::RetireBatch retire;
  KeySpace::ExclusiveGate exclusive(ks_);
  if (c.transaction) out.Array(cmds.size());
  try {
    for (size_t i = 0; i < cmds.size(); ++i)
      Run(ctx, *cmds[i], c.commands[i], /*gate=*/false);
    // This member's clients waiting on keys the record wrote try again.
    if (!session.ready.empty()) ServeReady(ctx);
  } catch (const std::bad_alloc&) {
    // A replica that cannot apply a record must not skip it.
    return Status::OutOfMemory("applying a changelog record: out of memory");
  }
  return reply;
}

namespace {

// CHANGELOG SKIP partition offset: the operator's way past a record this
// member cannot apply (docs/cluster.md#records-a-member-cannot-apply).
void ChangelogCommand(Context& ctx, Args args) {
  if (!EqualsNoCase(args[1], "skip") || args.size() != 4) {
    return ctx.out.Error("ERR unknown subcommand or wrong number of arguments for '" +
                         std::string(args[1].substr(0, 64)) +
                         "'. Try CHANGELOG SKIP <partition> <offset>.");
  }
  if (ctx.shared.changelog == nullptr) {
    return ctx.out.Error("ERR this server is not a cluster member (no cluster_topic)");
  }
  int64_t partition = 0, offset = 0;
  if (!ParseInt64(args[2], &partition) || !ParseInt64(args[3], &offset) || partition < 0 ||
      partition > INT32_MAX || offset < 0) {
    return ctx.out.Error(kNotInteger);
  }
  const Status s = ctx.shared.changelog->Skip(static_cast<int>(partition), offset);
  if (!s.ok()) return ctx.Fail(s);
  ctx.out.Ok();
}

// Waits for the changelog's thread: on the pool of long requests.
const Command kClusterCommands[] = {
    {"changelog", -2, kAdmin | kLong, 0, 0, 0, "server",
     "Operates a cluster member's changelog: CHANGELOG SKIP partition offset.", ChangelogCommand},
};

}  // namespace

std::span<const Command> ClusterCommands() {
  return kClusterCommands;
}

}  // namespace quiver::resp
