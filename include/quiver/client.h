// quiver::Client: the thin C++ client of quiverd's native protocol.
//
// A Client owns one TCP connection and is used by one thread at a time (use
// one Client per thread). Every call returns a Status or Result; nothing
// throws. A call that finds the connection broken reconnects once. Results
// of reads (GetResult) view the response buffer directly: a float32[N]
// value is a std::span<const float> over the bytes the server sent, with no
// decoding step. They stay valid as long as the GetResult (or a copy) lives.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/status.h"
#include "quiver/types.h"
#include "quiver/view_info.h"

namespace quiver {

namespace client_internal {
struct Access;
}  // namespace client_internal

// TLS to quiverd's --tls-native-port (docs/security.md#tls).
struct TlsOptions {
  bool enabled = false;
  // CA certificates (PEM) the server's certificate must chain to: a file,
  // a directory (openssl rehash), or, with both empty, the system's.
  std::string ca_file, ca_dir;
  // A client certificate and its key (PEM), for a server that asks for one
  // (tls-auth-clients yes or optional).
  std::string cert_file, key_file;
  // The name the server's certificate must carry (and the SNI sent);
  // empty: the host connected to (a name or an IP address).
  std::string server_name;
  // false: any certificate is accepted. For tests only: a man in the
  // middle is then not noticed.
  bool verify = true;
};

struct ClientOptions {
  std::string host = "127.0.0.1";
  uint16_t port = 7070;
  int timeout_ms = 10'000;  // per send/receive; 0: wait forever
  std::string client_name = "quiver-cpp";
  uint32_t max_frame_bytes = 64u << 20;
  // The user to run as (docs/security.md), and its password; an empty user
  // is the default one, whose password is the server's requirepass.
  std::string user;
  std::string password;
  // The members of a cluster, "host:port" each ("host" alone: `port`).
  // The client talks to the first that answers; when its server goes away
  // during a call, it moves to the next and sends the call again: a read,
  // or a write with its write id, which the cluster applies once
  // (docs/cluster.md#clients). Empty: host and port alone.
  std::vector<std::string> servers;
  // Every read waits until its server has applied this client's own
  // writes (Client::written()), up to after_timeout_ms: a client reads
  // its writes on whichever member it is moved to.
  bool read_your_writes = false;
  // How long a read waits for the positions it names (GetRequest::after
  // and read_your_writes) before failing with Unavailable.
  int after_timeout_ms = 1000;
  TlsOptions tls;  // off unless tls.enabled
};

// Where a write's record is in a cluster's changelog: its partition and
// offset (docs/cluster.md#reading-your-writes). A single server gives none.
struct Position {
  int32_t partition = 0;
  int64_t offset = 0;
  friend bool operator==(const Position&, const Position&) = default;
};

enum class RowState : uint8_t { kFound = 0, kMissing = 1, kExpired = 2 };

// One field of a GetResult over all requested entities.
class Column {
 public:
  std::string_view name() const { return name_; }
  TypeSpec type() const { return type_; }
  // True if entity `row` had no value (missing, expired or never written):
  // the value accessors then return the field's default.
  bool is_null(size_t row) const { return nulls_ != nullptr && nulls_[row] != 0; }

  // Typed access; the caller uses the accessor matching type().
  bool bool_value(size_t row) const { return values_[row] != 0; }
  int32_t int32_value(size_t row) const { return Load<int32_t>(row); }
  int64_t int64_value(size_t row) const { return Load<int64_t>(row); }
  float float32_value(size_t row) const { return Load<float>(row); }
  double float64_value(size_t row) const { return Load<double>(row); }
  // float32[N]: N floats viewing the response buffer.
  std::span<const float> vector_value(size_t row) const {
    return {reinterpret_cast<const float*>(values_) + row * type_.dim, type_.dim};
  }
  // string and bytes: viewing the response buffer.
  std::string_view string_value(size_t row) const {
    return {reinterpret_cast<const char*>(data_) + offsets_[row],
            offsets_[row + 1] - offsets_[row]};
  }

 private:
  friend struct client_internal::Access;
  template <typename T>
  T Load(size_t row) const {
    return reinterpret_cast<const T*>(values_)[row];
  }

  std::string_view name_;
  TypeSpec type_;
  const uint8_t* nulls_ = nullptr;
  const uint8_t* values_ = nullptr;    // fixed-width values, row-major
  const uint32_t* offsets_ = nullptr;  // string/bytes
  const uint8_t* data_ = nullptr;
};

// The columnar answer of a Get. Cheap to copy (shares the buffer).
class GetResult {
 public:
  size_t size() const { return states_.size(); }   // entities, in request order
  std::string_view view() const { return view_; }  // resolved, "name@vN"
  int64_t server_time_ms() const { return server_time_ms_; }
  RowState state(size_t i) const { return static_cast<RowState>(states_[i]); }
  bool found(size_t i) const { return state(i) == RowState::kFound; }
  int64_t event_time_ms(size_t i) const { return event_times_[i]; }
  int64_t age_ms(size_t i) const { return ages_[i]; }  // -1 unless found

  const std::vector<Column>& columns() const { return columns_; }
  // The named column, or nullptr.
  const Column* column(std::string_view name) const;

 private:
  friend struct client_internal::Access;
  std::shared_ptr<const void> buffer_;
  std::string_view view_;
  int64_t server_time_ms_ = 0;
  std::span<const uint8_t> states_;
  std::span<const int64_t> event_times_;
  std::span<const int64_t> ages_;
  std::vector<Column> columns_;
};

// The joined features of a batch of label rows (Client::TrainingSet): one
// column per feature, named as requested ("view:field"); is_null(row) marks
// a miss (the field's default is in its place). Cheap to copy.
class TrainingSetResult {
 public:
  size_t size() const { return rows_; }  // label rows, in request order
  const std::vector<Column>& columns() const { return columns_; }
  // Per feature: how many label rows missed it.
  const std::vector<uint64_t>& missing() const { return missing_; }

 private:
  friend struct client_internal::Access;
  std::shared_ptr<const void> buffer_;
  size_t rows_ = 0;
  std::vector<Column> columns_;
  std::vector<uint64_t> missing_;
};

// Rows of one view to write in one Put. Fields a row does not Set keep
// their current value on the server.
class WriteBatch {
 public:
  static constexpr int64_t kNow = std::numeric_limits<int64_t>::min();

  explicit WriteBatch(std::string view);
  ~WriteBatch();
  WriteBatch(WriteBatch&&) noexcept;
  WriteBatch& operator=(WriteBatch&&) noexcept;

  // Starts a row: one value per join key of the view's entity, in order.
  WriteBatch& Row(std::vector<std::string> key, int64_t event_time_ms = kNow);
  WriteBatch& Set(std::string_view field, bool v);
  WriteBatch& Set(std::string_view field, int32_t v);
  WriteBatch& Set(std::string_view field, int64_t v);
  WriteBatch& Set(std::string_view field, float v);
  WriteBatch& Set(std::string_view field, double v);
  WriteBatch& Set(std::string_view field, std::string_view v);  // a string field
  WriteBatch& Set(std::string_view field, const char* v) { return Set(field, std::string_view(v)); }
  WriteBatch& SetBytes(std::string_view field, std::string_view v);
  WriteBatch& Set(std::string_view field, std::span<const float> v);  // float32[N]

  size_t rows() const;
  const std::string& view() const;

  struct Impl;  // internal

 private:
  friend class Client;
  friend class Pipeline;
  std::unique_ptr<Impl> impl_;
};

struct PutResult {
  uint32_t applied = 0;  // rows now served
  uint32_t stale = 0;    // rows older than the value already served
  // On a cluster: where the write's records are, one per partition its
  // rows map to. A read on another member that names them (after) sees
  // the write.
  std::vector<Position> positions;
};

struct GetRequest {
  std::string view;                    // "name" or "name@vN"
  std::vector<std::string> key_parts;  // K values per entity (K = join keys)
  std::vector<std::string> fields;     // empty: all fields
  // On a cluster: served once the server has applied these positions (a
  // write's PutResult::positions), waiting up to after_timeout_ms.
  std::vector<Position> after;
};

// Values as they were at a time: per entity, the newest version with event
// time <= its as-of time (and within the view's ttl: an older one is
// answered kExpired).
struct GetAsOfRequest {
  std::string view;
  std::vector<std::string> key_parts;  // K values per entity
  std::vector<int64_t> as_of_ms;       // one time for all entities, or one per entity
  std::vector<std::string> fields;     // empty: all fields
  std::vector<Position> after;         // as GetRequest's
};

enum class HistoryAgg : uint8_t { kNone = 0, kLatest, kAvg, kSum, kMin, kMax, kCount };

// The versions of one entity in [from_ms, to_ms], oldest first (one
// GetResult row per version), or their aggregate (one row: count as int64;
// avg, sum, min, max as float64 over numeric fields; latest in the field's
// type).
struct HistoryRequest {
  std::string view;
  std::vector<std::string> key;  // the entity's join-key values
  int64_t from_ms = std::numeric_limits<int64_t>::min();
  int64_t to_ms = std::numeric_limits<int64_t>::max();
  HistoryAgg agg = HistoryAgg::kNone;
  std::vector<std::string> fields;  // empty: all fields (all numeric ones for avg/sum/min/max)
  uint32_t limit = 0;               // the newest `limit` versions; 0: server default (100,000)
  std::vector<Position> after;      // as GetRequest's
};

// Label rows to join point-in-time with features, server-side: row i has
// key_columns[j][i] for join key key_names[j] and time event_time_ms[i].
struct TrainingSetBatch {
  std::vector<std::string> features;  // "view:field" or "view@vN:field"
  std::vector<std::string> key_names;
  std::vector<std::vector<std::string>> key_columns;
  std::vector<int64_t> event_time_ms;
};

struct ApplyResult {
  std::vector<std::string> created, updated, unchanged;
};

// What a Backfill request did.
struct BackfillResult {
  uint64_t events = 0;             // applied
  uint64_t malformed = 0;          // refused
  uint64_t too_late = 0;           // older than every window they could join
  uint64_t versions = 0;           // rows written
  std::string first_error;         // why the first refused event was refused
  int64_t first_error_index = -1;  // its index within the request; -1: none
};

struct LatencySummary {
  uint64_t count = 0;
  int64_t p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
};

struct KafkaPartitionStatus {
  std::string topic;
  int32_t partition = 0;
  int64_t next_offset = -1;     // after what is applied and durable; -1: nothing yet
  int64_t high_watermark = -1;  // -1: unknown
  int64_t lag = -1;             // -1: unknown
  int64_t max_event_time_ms = 0;
};

struct KafkaStatus {
  bool running = false;
  std::string brokers, group;
  uint64_t messages = 0, events = 0, versions = 0, too_late = 0, batches = 0, dead_lettered = 0;
  std::vector<std::pair<std::string, uint64_t>> malformed;  // by kind
  LatencySummary event_to_visible, consume_to_visible;
  std::vector<KafkaPartitionStatus> partitions;
  int64_t windows_through_ms = 0;  // window changes applied and durable up to here
  // Why ingestion waits now (writes are refused: a disk fault, memory at
  // --max-memory); empty while it runs. It resumes by itself.
  std::string paused;
  uint64_t pauses = 0;  // times it waited so
};

// A compaction of the server's history (Client::Compact).
struct CompactionStatus {
  bool running = false;
  int64_t started_ms = 0;   // the running or last one's start (Unix ms)
  uint64_t finished = 0;    // compactions finished since the server started
  double last_seconds = 0;  // how long the last one took
  std::string last_error;   // empty if the last one succeeded
};

// A cluster member's changelog (docs/cluster.md).
struct ClusterPartitionStatus {
  int32_t partition = 0;
  int64_t applied = 0;   // the next offset the member applies
  int64_t log_end = -1;  // -1: unknown
  int64_t lag = -1;      // -1: unknown
  std::string waiting;   // why its next record waits; empty: it does not
  std::string stopped;   // why it stopped; empty: running
};
struct ClusterStatus {
  std::string topic, replica_id;
  bool caught_up = false;
  int64_t proposed = 0, applied = 0, refused = 0, unapplicable = 0;
  std::vector<ClusterPartitionStatus> partitions;
};

struct ServerStatus {
  std::string server_version, durability;
  int64_t server_time_ms = 0;
  int64_t rows = 0;          // online rows
  int64_t memory_bytes = 0;  // held by online rows
  uint64_t window_entities = 0;
  uint64_t window_bytes = 0;  // about how much memory the window states hold
  // What --max-memory counts, part by part (rows, windows, history,
  // clients, transactions, dead_letters), and the limit (0: none).
  std::vector<std::pair<std::string, int64_t>> memory;
  int64_t max_memory = 0;
  std::optional<KafkaStatus> kafka;            // set when the server ingests from Kafka
  std::optional<CompactionStatus> compaction;  // set when the server keeps a history
  std::optional<ClusterStatus> cluster;        // set on a cluster member
};

// The monitoring documents a server serves as JSON (docs/monitoring.md).
enum class MonitoringKind : uint8_t {
  kStats = 0,            // one view's statistics (GET /v1/views/{view}/stats)
  kFreshness = 1,        // every view's freshness (GET /v1/freshness)
  kDrift = 2,            // drift of one view, or of every view with a baseline (GET /v1/drift)
  kCaptureBaseline = 3,  // capture a view's drift baseline from a statistics window
  kClearBaseline = 4,    // forget a view's captured baseline
};

class Client {
 public:
  // Connects and performs the protocol handshake.
  static Result<std::unique_ptr<Client>> Connect(const ClientOptions& options);
  ~Client();
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  Status Ping();
  // Applies a definitions document (YAML text).
  Result<ApplyResult> Apply(std::string_view yaml);
  Result<std::vector<ViewInfo>> ListViews();
  Result<ViewInfo> Describe(std::string_view view);
  // A Put carries the batch's write id, drawn when the batch is first
  // sent and kept until the batch changes: putting the same batch again
  // after a failure is a retry, applied once by a cluster.
  Result<PutResult> Put(const WriteBatch& batch);
  Result<GetResult> Get(const GetRequest& request);
  Result<uint32_t> Delete(std::string_view view, const std::vector<std::string>& key_parts);
  Result<GetResult> GetAsOf(const GetAsOfRequest& request);
  Result<GetResult> History(const HistoryRequest& request);
  // One batch of a point-in-time training set; for many batches, pipeline
  // them (Pipeline::TrainingSet).
  Result<TrainingSetResult> TrainingSet(const TrainingSetBatch& batch);
  // Runs source events (JSON documents) through a computed view's windows
  // into its history; `finish` on the last request ages the windows up to
  // until_ms (0: now).
  Result<BackfillResult> Backfill(std::string_view view, const std::vector<std::string>& events,
                                  bool finish, int64_t until_ms = 0);
  // The server's sizes and, with Kafka ingestion, its progress.
  Result<ServerStatus> GetStatus();
  // Starts a compaction of the server's whole history, which applies every
  // view's retention now, and returns at once: how many compactions had
  // finished before it (GetStatus().compaction shows when it is done).
  // FailedPrecondition if one is running or the server keeps no history.
  Result<uint64_t> Compact();
  // Writes a checkpoint of the server's whole state into `dir`, a
  // directory on the server's machine that must not exist yet; returns it
  // as an absolute path. quiverd started with --data-dir on (a copy of) it
  // is a copy of the server; on a cluster, a new member that then catches
  // up from the changelog (docs/cluster.md#adding-a-member).
  Result<std::string> Checkpoint(std::string_view dir);
  // A monitoring document, as JSON text; `view` names the view (kStats,
  // kCaptureBaseline, kClearBaseline; optional for kDrift); `window` is
  // "recent" or "since_start" (kDrift, kCaptureBaseline; empty: default).
  Result<std::string> Monitoring(MonitoringKind kind, std::string_view view = {},
                                 std::string_view window = {});

  // The newest position of each partition this client's writes reached
  // (on a cluster; empty otherwise): pass them as another client's
  // GetRequest::after to read these writes on any member.
  const std::vector<Position>& written() const;
  // "host:port" of the server the client talks to now.
  std::string server() const;

  std::string_view server_version() const;
  // "sync", "async", "none", or "memory" (the server keeps no history).
  std::string_view server_durability() const;

  struct Impl;  // internal

 private:
  friend class Pipeline;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Many requests on one connection in one round trip: queue them, then Run()
// sends them all in one write and collects every answer.
class Pipeline {
 public:
  explicit Pipeline(Client& client);
  ~Pipeline();

  void Get(const GetRequest& request);
  void Put(const WriteBatch& batch);
  void TrainingSet(const TrainingSetBatch& batch);
  size_t size() const;

  struct Reply {
    Status status;
    std::optional<GetResult> get;               // set for a successful Get
    std::optional<PutResult> put;               // set for a successful Put
    std::optional<TrainingSetResult> training;  // set for a successful TrainingSet
  };
  // Reply i answers the i-th queued request. Fails as a whole only if the
  // connection fails. The pipeline is empty afterwards.
  Result<std::vector<Reply>> Run();

 private:
  struct Impl;
  Client& client_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace quiver
