// The RESP port on a cluster member (docs/cluster.md): a write is not run
// where it arrives but proposed to the changelog, as its commands with the
// client's database and protocol version, and run by every member when it
// applies the record, as of the record's time. The writer's client gets
// the reply its own server computed when applying it.
//
// A record goes to one partition: every key a command (or a transaction)
// names must map to it (Redis Cluster's rule, per partition: use {hash
// tags} for keys that change together), else CROSSSLOT.
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "server/cluster/changelog.h"
#include "server/resp/command.h"

namespace quiver::resp {

// Whether a cluster member proposes the command rather than run it: a
// write, or EXEC of a transaction that writes.
bool Proposed(const Session& session, const Command* cmd);

// Fills ctx.proposal with the commands as one record (a transaction's
// reply is an array), or replies why they cannot be proposed. FLUSHDB and
// FLUSHALL become a record for every partition, each removing the keys of
// its own.
// REQUIRES: ctx.proposal and ctx.shared.changelog set.
void Propose(Context& ctx, std::span<const std::vector<std::string_view>> commands,
             bool transaction);

// Applies the changelog's kCommands records to the keyspace.
class RespApplier final : public cluster::RecordApplier {
 public:
  RespApplier(KeySpace& ks, FeatureStore& store, Shared& shared);
  Result<std::string> Apply(cluster::RecordKind kind, std::string_view body, int32_t partition,
                            int64_t time_ms, HistoryBatch* batch) override;

 private:
  KeySpace& ks_;
  FeatureStore& store_;
  Shared& shared_;
  std::shared_ptr<ClientInfo> info_;  // the applier's session's (not a client)
};

}  // namespace quiver::resp
