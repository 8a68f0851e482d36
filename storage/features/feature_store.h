// FeatureStore: typed reads and writes of feature rows over the registry and
// the online table. Every front end (native, RESP, HTTP, Kafka) calls these
// same functions; only the encoding of requests and answers differs.
//
// Threads: all methods may be called concurrently from threads registered
// with rcu::ThreadRegistration.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "storage/features/row_events.h"
#include "storage/history/commit_queue.h"
#include "storage/history/history_store.h"
#include "storage/online/entity_key.h"
#include "storage/online/online_table.h"
#include "storage/registry/registry.h"
#include "storage/stats/baseline_store.h"
#include "storage/stats/feature_stats.h"

namespace quiver {

// One field's values for all rows of a write, as little-endian bytes; the
// native protocol's vectors are wrapped without copying.
struct ColumnInput {
  std::string_view field;
  TypeSpec type;
  std::span<const uint8_t> fixed;     // fixed-width: rows * FixedWidth(type) bytes
  std::span<const uint32_t> offsets;  // string/bytes: rows + 1 offsets into data
  std::span<const uint8_t> data;
  std::span<const uint8_t> nulls;  // empty, or one byte per row: nonzero = row does not set it
};

struct WriteRequest {
  std::string_view view;  // "name" or "name@vN"
  // rows x the entity's join keys: row i is key_parts[i*K .. i*K+K-1].
  std::span<const std::string_view> key_parts;
  std::span<const int64_t> event_time_ms;  // rows values, one for all, or empty (now)
  std::span<const ColumnInput> columns;
};

// A whole row computed from source events (ingestion, backfill): fields it
// does not set are absent, whatever the previous row held.
struct ComputedRow {
  std::string_view key;  // encoded entity key
  int64_t event_time_ms = 0;
  std::span<const uint8_t> row;
};

struct WriteResult {
  uint32_t applied = 0;  // rows now served online
  uint32_t stale = 0;    // rows older than the online value (kept for history only)
};

enum class RowState : uint8_t { kFound = 0, kMissing = 1, kExpired = 2 };

struct ReadRequest {
  std::string_view view;
  std::span<const std::string_view> fields;  // empty: every field, in schema order
  std::span<const std::string_view> key_parts;
};

// A read of the past: the value of each entity as of a time.
struct AsOfRequest {
  std::string_view view;
  std::span<const std::string_view> fields;  // empty: every field, in schema order
  std::span<const std::string_view> key_parts;
  std::span<const int64_t> as_of_ms;  // one time for all entities, or one per entity
};

// What a read found: per entity, its state and (if found) its packed row
// and event time. Online rows point into the table and stay valid while the
// caller's rcu::ReadLock is held; rows of the past point into `versions`.
// Reusable: every read clears it first.
struct ReadResult {
  const ViewSchema* view = nullptr;
  std::vector<int> fields;                     // indexes into view->fields
  std::vector<RowState> states;                // per entity
  std::vector<std::span<const uint8_t>> rows;  // per entity; empty unless kFound
  std::vector<int64_t> event_time_ms;          // per entity; 0 unless kFound
  EncodedKeys keys;                            // per entity
  VersionRows versions;                        // owns the rows of an as-of read
  int64_t now_ms = 0;
};

// Entity i's value of field fi as served: its raw bytes as packed in the
// row (a fixed-width value, or a string's or bytes' own bytes), or the
// field's default, with null set, if the entity has none.
struct ServedValue {
  bool null;
  std::string_view raw;
};
ServedValue ServedValueOf(const ReadResult& read, size_t i, int fi);
// The bytes of field fi's values over every entity of a read, as served
// (defaults included). Front ends bound their answers with it before they
// build them. Not exact: an upper bound without decoding a row (a found
// entity's whole row bounds each of its values).
uint64_t ServedBytes(const ReadResult& read, int fi, bool exact = true);

enum class Aggregation : uint8_t { kNone = 0, kLatest, kAvg, kSum, kMin, kMax, kCount };
Result<Aggregation> ParseAggregation(std::string_view text);

struct HistoryRequest {
  std::string_view view;
  std::span<const std::string_view> fields;     // empty: every field (every numeric one with
                                                // avg, sum, min and max)
  std::span<const std::string_view> key_parts;  // one entity
  int64_t from_ms = 0;                          // inclusive
  int64_t to_ms = 0;                            // inclusive
  Aggregation agg = Aggregation::kNone;
  uint32_t limit = 0;  // at most this many versions, the newest ones; 0: 100,000
};

// Versions of one entity, oldest first, as a ReadResult whose entities are
// the versions. With an aggregation, one row of a derived view whose fields
// hold the aggregates (count: int64; avg, sum, min, max: float64; latest:
// the field's type), its event time the newest version's.
struct HistoryResult {
  ReadResult read;
  ViewSchema derived;       // the aggregate's schema (read.view points here)
  std::string derived_row;  // the aggregate's packed row
};

// A point-in-time join of label rows with features of one or more views.
struct TrainingRequest {
  std::span<const std::string_view> features;  // "view:field" or "view@vN:field"
  // Label columns by join-key name: key_columns[j] holds key_names[j]'s
  // value for every label row.
  std::span<const std::string_view> key_names;
  std::span<const std::span<const std::string_view>> key_columns;
  std::span<const int64_t> event_time_ms;  // one per label row
};

// One joined value per label row and feature: the newest version of its
// view with event time <= t and > t - ttl, or the default flagged missing.
struct TrainingResult {
  struct Feature {
    std::string name;  // as requested
    const ViewSchema* view = nullptr;
    int field = 0;
    size_t source = 0;  // index into `views`
    uint64_t missing = 0;
  };
  std::vector<Feature> features;
  std::vector<ReadResult> views;  // one as-of read per distinct view
};

class FeatureStore {
 public:
  struct Options {
    size_t max_rows_per_request = 1'000'000;
    // Event times further ahead of the server clock are refused
    // (--max-future-skew): one write with microseconds sent as milliseconds
    // would otherwise make its entity's every later write "stale".
    int64_t max_future_skew_ms = 5 * 60'000;
    std::function<int64_t()> now_ms;  // default: the system clock
    bool statistics = true;           // keep FeatureStats of every write
    FeatureStats::Options stats;      // started_ms is set from now_ms
  };

  // history may be null: the store then keeps only the online table.
  FeatureStore(Registry& registry, OnlineTable& table, HistoryStore* history, Options options);

  // Rebuilds the registry and the online table from the history, one
  // sequential scan of the latest values. Call once, before serving.
  Status Recover();

  // Parses and applies a definitions document (see Registry::Apply); with a
  // history, a document that changes anything is saved (fsynced) first.
  Result<ApplyReport> Apply(std::string_view yaml_text);

  // REQUIRES: the caller holds an rcu::ReadLock while it uses *out.
  // Fails, with *out unspecified, on an unknown view or field or bad keys.
  Status Read(const ReadRequest& request, ReadResult* out) const;

  // The values as of the given times: the online value where it is not
  // newer than the time, the history otherwise. Entities with no version at
  // that time are kMissing; those whose version there is older than the
  // view's ttl are kExpired. FailedPrecondition without history.
  // REQUIRES: the caller holds an rcu::ReadLock while it uses *out.
  Status ReadAsOf(const AsOfRequest& request, ReadResult* out) const;

  // Versions of one entity in a time range, or their aggregate.
  Status History(const HistoryRequest& request, HistoryResult* out) const;

  // The point-in-time join of a batch of label rows.
  Status Training(const TrainingRequest& request, TrainingResult* out) const;

  // Validates the whole request first, so bad input changes nothing; then
  // applies each row, merging the fields it sets into the current row
  // (fields it does not set keep their values). Last-writer-wins by event
  // time. Fails with ResourceExhausted if the batch would exceed the
  // memory limit. Each row applied adds its version to *batch (if not
  // null); a row older than the online value enters the history only.
  // Whatever Write returns, *batch holds what was applied: commit it.
  Result<WriteResult> Write(const WriteRequest& request, HistoryBatch* batch);

  // What a write or delete names, checked as Write and Delete check it
  // (the view, the keys, the event times, the columns and, for a write,
  // the memory limit) without changing anything: a cluster member checks a
  // request before it proposes it to the changelog.
  struct Checked {
    std::string view;     // "name@vN": the version the request resolved to
    size_t keys_per_row;  // the entity's join keys
  };
  Result<Checked> CheckWrite(const WriteRequest& request) const;
  Result<Checked> CheckDelete(std::string_view view,
                              std::span<const std::string_view> key_parts) const;

  // Writes rows a source computed for `view`, through the same table and
  // history as Write, but not to the latest values: the Ingestor rebuilds
  // computed rows from its window states at restart. Views with a source
  // accept only these; Write and Delete refuse them. With batch null, only
  // the online table is written (a restart rebuilding rows; not counted in
  // the statistics). Not held to the memory limit row by row: ingestion
  // checks it before each batch (OnlineTable::Limit). REQUIRES: the caller
  // holds an rcu::ReadLock (view is from the current catalog).
  Result<WriteResult> WriteComputed(const ViewSchema& view, std::span<const ComputedRow> rows,
                                    HistoryBatch* batch);
  // OK, or why ingestion (Kafka, backfill) must wait before its next batch:
  // writes are refused after a disk fault, or the online table is within
  // 1/32 of its memory limit.
  Status IngestRefusal() const;

  // Removes the online (and latest) rows of the given entities; returns how
  // many existed. Past versions stay in the history.
  Result<uint32_t> Delete(std::string_view view, std::span<const std::string_view> key_parts,
                          HistoryBatch* batch);

  // Hands a batch to the history's group commit. Returns true if `done`
  // will run (on the committer thread) once the batch is as durable as the
  // mode requires; false if there is nothing to wait for (no history, an
  // empty batch, or durability none), and `done` is dropped.
  bool Commit(HistoryBatch batch, CommitQueue::Done done);

  // Who hears of the rows written from now on (nullptr: no one). *events
  // outlives its use: reset it before it goes, once no write runs.
  void SetRowEvents(RowEvents* events) { events_.store(events, std::memory_order_release); }

  Registry& registry() { return registry_; }
  const Registry& registry() const { return registry_; }
  OnlineTable& table() { return table_; }
  HistoryStore* history() { return history_; }
  // OK if t is an event time writes may carry: not before the Unix epoch
  // and at most max_future_skew_ms ahead of NowMs(); else InvalidArgument
  // saying which and by how much.
  Status CheckEventTime(int64_t t) const;
  // The time: the clock's, or a ReplayScope's on this thread.
  int64_t NowMs() const;
  // Within a scope, on this thread, NowMs() is `now_ms` (rows without an
  // event time get it; event times are judged against it): a cluster member
  // applying a changelog record as of the record's time
  // (server/cluster/changelog.h).
  class ReplayScope {
   public:
    ReplayScope(const FeatureStore& store, int64_t now_ms);
    ~ReplayScope();
    ReplayScope(const ReplayScope&) = delete;
    ReplayScope& operator=(const ReplayScope&) = delete;

   private:
    const FeatureStore* saved_owner_;
    int64_t saved_now_;
  };
  // The statistics of written values; null if Options::statistics is off.
  const FeatureStats* stats() const { return stats_.get(); }
  // The captured drift baselines (Recover loads the stored ones).
  BaselineStore& baselines() { return baselines_; }
  const BaselineStore& baselines() const { return baselines_; }

 private:
  struct ResolvedWrite;
  // A record for the view's key with its times and ttl set; the value is
  // the caller's to fill (NewRecord) or a copy of `row` (CopyRecord).
  // nullptr if memory ran out.
  static Record* NewRecord(const ViewSchema& view, std::string_view key, size_t value_size,
                           int64_t event_time, int64_t write_time);
  static Record* CopyRecord(const ViewSchema& view, std::string_view key,
                            std::span<const uint8_t> row, int64_t event_time, int64_t write_time);
  Status Validate(const WriteRequest& request, const Catalog& catalog, ResolvedWrite* out) const;
  Status CheckMemory(const ResolvedWrite& w) const;
  // The view of a Delete: one whose rows clients write.
  Result<const ViewSchema*> CheckDeletable(const Catalog& catalog,
                                           std::string_view view_name) const;
  // Adds the history (and, if applied, latest) entries of one row.
  void RecordVersion(const ViewSchema& view, std::string_view key, int64_t event_time, uint64_t seq,
                     int64_t write_time, std::span<const uint8_t> row, bool latest,
                     HistoryBatch* batch);
  // The row a late write merges into: its version as of event_time.
  std::string RowAsOf(const ViewSchema& view, std::string_view key, int64_t event_time) const;
  // Resolves view, fields and keys into *out, every entity kMissing.
  Status PrepareRead(std::string_view view, std::span<const std::string_view> fields,
                     std::span<const std::string_view> key_parts, ReadResult* out) const;
  // Resolves the view and the requested fields into *out.
  Status ResolveFields(std::string_view view, std::span<const std::string_view> fields,
                       ReadResult* out) const;
  // Encodes one key per entity from key_parts (K values each).
  Status ResolveKeys(const ViewSchema& view, const Catalog& catalog,
                     std::span<const std::string_view> key_parts, EncodedKeys* keys) const;
  Status Aggregate(const HistoryRequest& request, HistoryResult* out) const;
  // Counts row i of a validated write in the view's statistics.
  static void CountRow(const ResolvedWrite& w, size_t i, FeatureStats::Writer& stats);
  Status RecoverRegistry();
  Status RecoverTable();

  // events_ if it wants the view's rows, else nullptr.
  RowEvents* Listening(const ViewSchema& view) const {
    RowEvents* events = events_.load(std::memory_order_acquire);
    return events != nullptr && events->Wants(view) ? events : nullptr;
  }

  Registry& registry_;
  OnlineTable& table_;
  HistoryStore* history_;
  std::atomic<RowEvents*> events_{nullptr};  // set while Kafka may already write
  Options options_;
  std::unique_ptr<FeatureStats> stats_;
  BaselineStore baselines_;
};

}  // namespace quiver
