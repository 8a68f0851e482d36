// Changelog: this server's side of a replicated cluster (docs/cluster.md).
// Kafka orders, stores and replicates every write; each server is a
// deterministic state machine that applies the log.
//
// Writes are proposed: encoded as a record (server/cluster/record.h) and
// produced to the partition of their key by an idempotent producer with
// acks=all. Nothing is applied when proposed. One thread of the changelog
// consumes every partition (stage 1: every server a full replica) and
// applies each record in log order through the RecordApplier, as of the
// record's time. When it applies a record this server proposed, it hands
// the writer the reply applying it produced, so that INCR's value is the
// one every replica computed.
//
// Exactly once: the next offset and the clock of each partition are
// written in the same history batch as the writes of the records applied
// (meta entries "cluster/<topic>/<partition>"); a restart resumes there.
// The local history may commit asynchronously: the log is the durable
// copy.
//
// A record that cannot be applied (corrupt) stops its partition, counted
// and logged; the others go on.
//
// A record carrying a write id its partition applied recently is not
// applied again: its writer gets the first reply (server/cluster/write_ids.h).
//
// Threads: Propose and status from any thread; the RecordApplier and the
// Done callbacks run on the changelog's thread (a Done may also run on
// the proposing thread, when the producer refuses the record at once).
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "server/cluster/read_waiters.h"
#include "server/cluster/record.h"
#include "service/cluster_options.h"
#include "service/kafka_options.h"
#include "storage/history/history_store.h"

namespace quiver::cluster {

// What applies records to this server's state (the server's wiring
// implements it over the keyspace). Called on the changelog's thread only.
class RecordApplier {
 public:
  virtual ~RecordApplier() = default;
  // Applies a record's body (any kind but kTick) of a partition as of
  // time_ms, adding what it writes to *batch (nullptr: no history). A
  // record proposed to every partition (FLUSHALL) acts on the keys of its
  // own. Returns the reply for
  // the writer's client: an error the request deserved (a wrong type, an
  // unknown field) is part of the reply, since every member computes it
  // alike. An error status is about this member:
  //   Unavailable: not now (the view the record names is not yet defined
  //     here, the memory or the disk refuses); the partition waits and the
  //     record is tried again;
  //   any other: the record cannot be applied (corrupt); the partition
  //     stops.
  virtual Result<std::string> Apply(RecordKind kind, std::string_view body, int32_t partition,
                                    int64_t time_ms, HistoryBatch* batch) = 0;
};

// Where a proposed record landed, and what applying it answered.
struct Applied {
  int32_t partition = 0;
  int64_t offset = 0;
  std::string reply;
};
using Done = std::function<void(Result<Applied>)>;
// A record to propose with others (Changelog::ProposeAll).
struct Proposed {
  int partition = 0;
  std::string_view body;
};
using DoneAll = std::function<void(std::vector<Result<Applied>>)>;

struct PartitionStatus {
  int32_t partition = 0;
  int64_t applied = 0;   // the next offset to apply
  int64_t log_end = -1;  // the partition's end as last fetched; -1: not known yet
  int64_t clock_ms = 0;  // the time of the last record applied
  std::string stopped;   // why it stopped (a record it cannot apply); empty: running
  std::string waiting;   // why its next record waits (applied when it can); empty: none
  int64_t lag() const { return log_end < 0 ? -1 : std::max<int64_t>(0, log_end - applied); }
};

struct ChangelogStatus {
  std::string topic, replica_id;
  bool caught_up = false;  // every partition has applied what its end was at start
  int64_t proposed = 0, applied = 0, refused = 0, corrupt = 0, skipped = 0;
  int64_t deduplicated = 0;  // records whose write id was applied already
  int64_t write_ids = 0;     // write ids remembered now
  std::vector<PartitionStatus> partitions;
  // Records not yet applied over every partition (those of unknown end: 0).
  int64_t lag() const {
    int64_t sum = 0;
    for (const PartitionStatus& p : partitions)
      sum += std::max<int64_t>(0, p.lag());
    return sum;
  }
};

class Changelog {
 public:
  // Creates the topic if it is missing, loads the stored offsets, and
  // starts consuming. history may be null: everything is applied again
  // from the log's beginning at each start.
  static Result<std::unique_ptr<Changelog>> Start(const ClusterOptions& options,
                                                  const KafkaOptions& kafka, HistoryStore* history,
                                                  RecordApplier& applier);
  // Stops consuming; proposals not yet applied fail.
  ~Changelog();
  Changelog(const Changelog&) = delete;
  Changelog& operator=(const Changelog&) = delete;

  int partitions() const;
  const std::string& topic() const;
  const std::string& replica_id() const;
  // Proposes a record; done runs once, with where it was applied and its
  // reply, or with ClusterDown if it could not be written to the log or
  // was not applied within the write timeout.
  void Propose(int partition, RecordKind kind, std::string_view body, std::string_view write_id,
               Done done);
  // Proposes records of one kind and write id (a write spanning several
  // partitions, a FLUSHALL); done runs once, when every one was applied or
  // failed, with their outcomes in the order given.
  void ProposeAll(std::span<const Proposed> records, RecordKind kind, std::string_view write_id,
                  DoneAll done);
  ChangelogStatus status() const;
  // Ok if this member serves reads: it has caught up (or serve_stale is
  // set); else LOADING.
  Status ReadsAllowed() const;
  // Calls ready once this member has applied every record at or before
  // the positions (and its history shows them), or with Unavailable after
  // timeout_ms; at once with InvalidArgument for a position this topic
  // cannot have. However many positions a client sends, the wait keeps
  // one per partition (the newest). ready runs on the calling thread
  // (already applied) or on the changelog's.
  void WhenApplied(std::vector<Position> positions, int64_t timeout_ms, ReadWaiters::Ready ready);
  // The operator's way past a record this member cannot apply: skips the
  // record at `offset` of a partition stopped there (its position is
  // stored as after it) and resumes the partition. FailedPrecondition if
  // the partition is not stopped at that offset. Waits for the
  // changelog's thread.
  Status Skip(int partition, int64_t offset);
  // A time every partition's clock has reached: a key that expired by then
  // is expired for every record still to come, so the sweep may remove
  // it. 0 until every partition has a clock.
  int64_t SafeTime() const;

  struct Impl;

 private:
  explicit Changelog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace quiver::cluster
