// NativeHandler: answers one native-protocol frame at a time: verifies it,
// decodes the request, calls the FeatureStore and encodes the response.
// One per connection (it keeps reusable scratch space); used by the thread
// that owns the connection. Knows nothing of sockets.
#pragma once

#include <atomic>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <flatbuffers/flatbuffers.h>

#include "security/acl/acl_log.h"
#include "security/acl/users.h"
#include "server/cluster/changelog.h"
#include "storage/features/feature_store.h"
#include "util/function_ref.h"

namespace quiver {

namespace fb {
struct Request;
struct Put;
struct Get;
struct Delete;
struct GetAsOf;
struct History;
struct TrainingBatch;
struct Backfill;
struct GetMonitoring;
struct Checkpoint;
struct Hello;
}  // namespace fb

class Ingestor;
class FreshnessCache;
class IngestStatusSource;

class WorkPool;

struct NativeHandlerOptions {
  uint64_t max_frame_bytes = 64u << 20;
  std::string server_version;
  std::string durability = "memory";          // told to clients in HelloReply
  Ingestor* ingestor = nullptr;               // for Backfill; null: refused
  const IngestStatusSource* kafka = nullptr;  // for GetStatus; null: no Kafka ingestion
  // The users (the RESP port's): a connection runs as the default user, or
  // as the user its Hello authenticates, and each request is checked
  // against the user's permissions (service/feature_acl.h); denials go to
  // acl_log. Null: every request is served.
  const acl::Users* users = nullptr;
  acl::AclLog* acl_log = nullptr;
  // tls-auth-clients-user CN: a TLS client's verified certificate names
  // the user the connection runs as. Null: never.
  const std::atomic<bool>* user_from_certificate = nullptr;
  // For GetMonitoring's freshness report, shared with the HTTP port's.
  // Null: measured per request.
  FreshnessCache* freshness = nullptr;
  // Where requests that may run long are run (NativeHandler::IsLong);
  // null: on the connection's own thread.
  WorkPool* long_requests = nullptr;
  // A cluster member's changelog: Put and Delete are proposed to it
  // (NativeHandler::proposals) instead of applied here. Null: a single
  // server.
  cluster::Changelog* changelog = nullptr;
};

class NativeHandler {
 public:
  NativeHandler(FeatureStore& store, const NativeHandlerOptions& options);
  // What the connection's denials are logged with ("addr=... laddr=...").
  void set_client_info(std::string info) { client_info_ = std::move(info); }
  // A TLS client's verified certificate names `name` (its CN): with
  // tls-auth-clients-user CN, the connection runs as that user, if it
  // exists and is on (in access.cc).
  void CertificateNames(std::string_view name);

  // Builds the response frame for `frame` (prefix included, 8-aligned) into
  // *out, cleared first. Returns false if the frame was malformed: the
  // response then carries ProtocolError and the caller closes the
  // connection after sending it.
  //
  // A request that changed data leaves its history entries in writes():
  // the caller commits them (FeatureStore::Commit) and, if the durability
  // mode asks for it, holds the response until they are committed.
  //
  // With `defer` set, a well-formed request that may run long (IsLong) is
  // not run: *defer is set and the caller runs Handle again without it, on
  // the pool of such requests.
  //
  // With `after` set, on a cluster member, a well-formed request naming
  // changelog positions to wait for (Request.after) is not run: *after gets
  // them, and the caller runs Handle again without it once this member has
  // applied them, or answers the wait's error (AnswerError).
  struct ReadAfter {
    std::vector<cluster::Position> positions;  // empty: none
    int64_t timeout_ms = 0;
  };
  bool Handle(std::span<const uint8_t> frame, flatbuffers::FlatBufferBuilder* out,
              bool* defer = nullptr, ReadAfter* after = nullptr);
  // Builds the error answer to the last request handled.
  void AnswerError(const Status& status, flatbuffers::FlatBufferBuilder* out);
  // How long a read waits for its positions when the request says 0, and
  // at most.
  static constexpr int64_t kDefaultAfterMs = 1000;
  static constexpr int64_t kMaxAfterMs = 60'000;
  // Requests that may take milliseconds or more: a Put, Get, GetAsOf or
  // Delete of kLongKeys key parts or more, a History of more than
  // kLongVersions versions, a training set of kLongRows label rows or
  // more, a Backfill of kLongRows events or more.
  static bool IsLong(const fb::Request& request);
  static constexpr size_t kLongKeys = 16384;
  static constexpr size_t kLongRows = 4096;
  static constexpr uint32_t kLongVersions = 10000;

  // Whether the connection may make requests other than Hello.
  bool authenticated() const { return authenticated_; }
  // The largest frame accepted before authentication: a Hello with its
  // client name and password.
  static constexpr uint32_t kUnauthenticatedMaxFrame = 16 * 1024;

  // A cluster member's Put or Delete is not applied but proposed: Handle
  // leaves its records, one per partition its entities map to, here, and
  // no answer. The caller proposes them to the changelog
  // (Changelog::ProposeAll) and, once each has been applied (or failed),
  // passes their outcomes, in order, to FinishProposed, which builds the
  // answer.
  struct Proposal {
    int partition = 0;
    cluster::RecordKind kind = cluster::RecordKind::kPut;
    std::string body;
  };
  // An outcome: CLUSTERDOWN if not applied, else where the record is and
  // what applying it answered (server/cluster/feature_apply.h).
  using Outcome = Result<cluster::Applied>;
  std::vector<Proposal>& proposals() { return proposals_; }
  // The write id the proposals carry (the client's; empty: none).
  const std::string& write_id() const { return write_id_; }
  void FinishProposed(std::span<const Outcome> outcomes, flatbuffers::FlatBufferBuilder* out);

  // The history entries of the last request handled; the caller moves them
  // out. The last request's id is last_id().
  HistoryBatch& writes() { return writes_; }
  uint64_t last_id() const { return last_id_; }
  // The last request's kind (its body type; 0 if unreadable, as for NONE)
  // and whether it succeeded, for RequestMetrics.
  size_t last_kind() const { return last_kind_; }
  bool last_ok() const { return last_ok_; }
  // The names of the request kinds, by kind id ("get", "get_as_of", ...).
  static std::vector<std::string> KindNames();

 private:
  // OK if a reply about `entities` entities fits the frame limit; bytes(exact)
  // bounds its size (GetReplyBytes).
  Status CheckReply(FunctionRef<uint64_t(bool exact)> bytes, size_t entities) const;
  using Builder = flatbuffers::FlatBufferBuilder;
  using FbStrings = flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>;
  Status Dispatch(const fb::Request& request, Builder& b, uint64_t id);
  // Fills key_parts_ and fields_ (cleared first) from a request's vectors.
  void DecodeKeysAndFields(const FbStrings* keys, const FbStrings* fields);
  Status HandlePut(const fb::Put& put, Builder& b, uint64_t id);
  Status HandleGet(const fb::Get& get, Builder& b, uint64_t id);
  Status HandleDelete(const fb::Delete& del, Builder& b, uint64_t id);
  // A cluster member's Put and Delete: checked, then split into proposals_.
  Status ProposePut(const WriteRequest& w);
  Status ProposeDelete(std::string_view view, std::span<const std::string_view> key_parts);
  // The answer to proposals of `kind` from their outcomes.
  Status FinishAs(cluster::RecordKind kind, std::span<const Outcome> outcomes, Builder& b);
  // Keeps a Put's or Delete's write id for its proposals.
  Status KeepWriteId(const flatbuffers::String* id);
  // Whether the request waits for positions (filling *after), or fails.
  Status WantsPositions(const fb::Request& request, ReadAfter* after) const;
  Status HandleGetAsOf(const fb::GetAsOf& req, Builder& b, uint64_t id);
  Status HandleHistory(const fb::History& req, Builder& b, uint64_t id);
  Status HandleTraining(const fb::TrainingBatch& req, Builder& b, uint64_t id);
  // In status_handlers.cc.
  Status HandleBackfill(const fb::Backfill& req, Builder& b, uint64_t id);
  Status HandleStatus(Builder& b, uint64_t id);
  Status HandleMonitoring(const fb::GetMonitoring& request, Builder& b, uint64_t id);
  Status HandleCompact(Builder& b, uint64_t id);
  Status HandleCheckpoint(const fb::Checkpoint& request, Builder& b, uint64_t id);

  // Runs the connection as the user a Hello names, if its password is the
  // user's (in access.cc, with the checks below).
  Status Authenticate(const fb::Hello& hello);
  // Whether the connection's user may make the request (looked up again
  // first if any user changed).
  Status Permitted(const fb::Request& request);
  void UseUser(std::shared_ptr<const acl::User> user, uint64_t generation);

  FeatureStore& store_;
  NativeHandlerOptions options_;
  bool authenticated_ = true;              // the connection may make requests other than Hello
  std::shared_ptr<const acl::User> user_;  // with users: the connection's; null before Hello
  uint64_t user_generation_ = 0;           // the users' generation when user_ was looked up
  std::string client_info_;
  // Answers the (verified) request into *out.
  void Run(const fb::Request& request, Builder* out);
  // Scratch reused across requests to avoid allocating on the hot path.
  std::vector<std::string_view> key_parts_;
  std::vector<Proposal> proposals_;
  std::string write_id_;
  std::vector<std::string_view> fields_;
  ReadResult read_;
  HistoryBatch writes_;
  uint64_t last_id_ = 0;
  size_t last_kind_ = 0;
  bool last_ok_ = false;
};

}  // namespace quiver
