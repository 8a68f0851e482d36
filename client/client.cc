#include "quiver/client.h"

#include <algorithm>
#include <chrono>
#include <cstdlib>

#include "client/connection.h"
#include "client/json.h"
#include "client/wire.h"
#include "client/write_batch_impl.h"

namespace quiver {

using client_internal::Frame;
namespace wire = client_internal;

struct Client::Impl {
  struct Endpoint {
    std::string host;
    uint16_t port = 0;
  };
  ClientOptions options;
  std::vector<Endpoint> servers;  // at least one
  size_t current = 0;             // the server in use, or tried next
  client_internal::Connection connection;
  flatbuffers::FlatBufferBuilder builder{16 * 1024};
  uint64_t next_id = 1;
  std::string server_version;
  std::string server_durability;
  std::vector<Position> written;  // the newest position of each partition written
  wire::WriteIdSource write_ids;

  Status ParseServers();
  Status Handshake();
  // Connects to the current server, or to the next ones in turn.
  Status EnsureConnected();
  // Finishes the request whose body is in `builder`; returns its id.
  uint64_t Finish(fb::RequestBody type, flatbuffers::Offset<void> body,
                  std::span<const Position> after);
  // Sends the request body finished in `builder` and waits for its answer;
  // a lost connection moves to the next server and sends it again.
  Result<Frame> Call(fb::RequestBody type, flatbuffers::Offset<void> body,
                     std::span<const Position> after = {});
  // The positions a read waits for: its own and, with read_your_writes,
  // this client's writes.
  std::vector<Position> After(const std::vector<Position>& request) const {
    std::vector<Position> after = request;
    if (options.read_your_writes) wire::MergePositions(written, &after);
    return after;
  }
};

Status Client::Impl::Handshake() {
  builder.Clear();
  auto name = builder.CreateString(options.client_name);
  auto password = options.password.empty() ? 0 : builder.CreateString(options.password);
  auto user = options.user.empty() ? 0 : builder.CreateString(options.user);
  auto hello = fb::CreateHello(builder, protocol::kProtocolVersion, name, password, user);
  const uint64_t id = next_id++;
  builder.FinishSizePrefixed(fb::CreateRequest(builder, id, fb::RequestBody::Hello, hello.Union()));
  QUIVER_RETURN_IF_ERROR(connection.SendAll({builder.GetBufferPointer(), builder.GetSize()}));
  QUIVER_ASSIGN_OR_RETURN(Frame frame, connection.ReceiveFrame());
  QUIVER_ASSIGN_OR_RETURN(const fb::Response* response, wire::CheckResponse(frame, id));
  const auto* reply = response->body_as_HelloReply();
  if (reply == nullptr) return Status::ProtocolError("handshake answered without a HelloReply");
  server_version = reply->server_version() ? reply->server_version()->str() : "";
  server_durability = reply->durability() ? reply->durability()->str() : "";
  return Status::Ok();
}

namespace {

// "host", "host:port", "[v6]:port", or a bare IPv6 address.
Status ParseEndpoint(const std::string& s, std::string* host, uint16_t* port) {
  *host = s;
  size_t colon = std::string::npos;
  if (s.starts_with('[')) {
    const size_t close = s.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("server '" + s + "': no ']'");
    *host = s.substr(1, close - 1);
    if (close + 1 < s.size()) colon = s[close + 1] == ':' ? close + 1 : s.size();
  } else if (std::count(s.begin(), s.end(), ':') == 1) {
    colon = s.find(':');
    *host = s.substr(0, colon);
  }
  if (host->empty()) return Status::InvalidArgument("server '" + s + "' names no host");
  if (colon == std::string::npos) return Status::Ok();
  const std::string digits = colon < s.size() ? s.substr(colon + 1) : "";
  char* end = nullptr;
  const unsigned long n = std::strtoul(digits.c_str(), &end, 10);
  if (digits.empty() || *end != '\0' || n == 0 || n > 65535) {
    return Status::InvalidArgument("server '" + s + "': the port must be 1 to 65535");
  }
  *port = static_cast<uint16_t>(n);
  return Status::Ok();
}

// A cluster member that catches up with the changelog refuses reads.
bool IsLoading(const Status& s) {
  return s.code() == StatusCode::kUnavailable && s.message().starts_with("LOADING ");
}

}  // namespace

Status Client::Impl::ParseServers() {
  if (options.servers.empty()) {
    servers.push_back({options.host, options.port});
    return Status::Ok();
  }
  for (const std::string& s : options.servers) {
    Endpoint e{"", options.port};
    QUIVER_RETURN_IF_ERROR(ParseEndpoint(s, &e.host, &e.port));
    servers.push_back(std::move(e));
  }
  return Status::Ok();
}

Status Client::Impl::EnsureConnected() {
  if (connection.is_open()) return Status::Ok();
  Status s;
  for (size_t tried = 0; tried < servers.size(); ++tried) {
    const Endpoint& e = servers[current];
    s = connection.Open(e.host, e.port, options.timeout_ms, options.max_frame_bytes, options.tls);
    if (s.ok()) s = Handshake();
    if (s.ok()) return s;
    connection.Close();
    current = (current + 1) % servers.size();
  }
  return s;
}

uint64_t Client::Impl::Finish(fb::RequestBody type, flatbuffers::Offset<void> body,
                              std::span<const Position> after) {
  const uint64_t id = next_id++;
  flatbuffers::Offset<flatbuffers::Vector<const fb::Position*>> positions;
  if (!after.empty()) {
    std::vector<fb::Position> v;
    for (const Position& p : after)
      v.emplace_back(p.partition, p.offset);
    positions = builder.CreateVectorOfStructs(v);
  }
  builder.FinishSizePrefixed(fb::CreateRequest(
      builder, id, type, body, positions,
      after.empty() ? 0 : static_cast<uint32_t>(std::max(options.after_timeout_ms, 1))));
  return id;
}

Result<Frame> Client::Impl::Call(fb::RequestBody type, flatbuffers::Offset<void> body,
                                 std::span<const Position> after) {
  const uint64_t id = Finish(type, body, after);
  std::span<const uint8_t> bytes(builder.GetBufferPointer(), builder.GetSize());
  std::vector<uint8_t> copy;  // the request, once reconnecting reuses the builder
  // A Backfill runs its events through windows: sent twice, it counts them
  // twice; a Checkpoint names a directory on its server. Every other
  // request may be sent again (a write with its id).
  const size_t attempts =
      type == fb::RequestBody::Backfill || type == fb::RequestBody::Checkpoint ? 1 : servers.size();
  for (size_t attempt = 1;; ++attempt) {
    if (!connection.is_open()) {
      if (copy.empty()) copy.assign(bytes.begin(), bytes.end());
      bytes = copy;
      QUIVER_RETURN_IF_ERROR(EnsureConnected());
    }
    Status sent = connection.SendAll(bytes);
    Result<Frame> frame = sent.ok() ? connection.ReceiveFrame() : Result<Frame>(sent);
    Status status = frame.ok() ? wire::CheckResponse(*frame, id).status() : frame.status();
    if (status.ok()) return frame;
    // Another member may serve it: this one went away (the connection is
    // closed), or catches up with the changelog (LOADING).
    const bool moves = !frame.ok() || IsLoading(status);
    if (!moves || attempt >= attempts) return status;
    connection.Close();
    current = (current + 1) % servers.size();
  }
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  QUIVER_RETURN_IF_ERROR(impl->ParseServers());
  QUIVER_RETURN_IF_ERROR(impl->EnsureConnected());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

std::string_view Client::server_version() const {
  return impl_->server_version;
}

const std::vector<Position>& Client::written() const {
  return impl_->written;
}

std::string Client::server() const {
  const Impl::Endpoint& e = impl_->servers[impl_->current];
  return e.host + ":" + std::to_string(e.port);
}

Status Client::Ping() {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreatePing(b, b.CreateVector(std::vector<uint8_t>{'q'}));
  return impl_->Call(fb::RequestBody::Ping, body.Union()).status();
}

Result<ApplyResult> Client::Apply(std::string_view yaml) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateApplyDefinitions(b, b.CreateString(yaml));
  QUIVER_ASSIGN_OR_RETURN(Frame frame,
                          impl_->Call(fb::RequestBody::ApplyDefinitions, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_ApplyReply();
  if (reply == nullptr) return Status::ProtocolError("Apply answered without an ApplyReply");
  return ApplyResult{wire::Strings(reply->created()), wire::Strings(reply->updated()),
                     wire::Strings(reply->unchanged())};
}

Result<std::vector<ViewInfo>> Client::ListViews() {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateListViews(b);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::ListViews, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_ViewList();
  if (reply == nullptr) return Status::ProtocolError("ListViews answered without a ViewList");
  std::vector<ViewInfo> views;
  if (reply->views() != nullptr) {
    for (const fb::ViewInfo* v : *reply->views())
      views.push_back(wire::DecodeViewInfo(*v));
  }
  return views;
}

Result<ViewInfo> Client::Describe(std::string_view view) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateDescribeView(b, b.CreateString(view));
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::DescribeView, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_ViewInfo();
  if (reply == nullptr) return Status::ProtocolError("DescribeView answered without a ViewInfo");
  return wire::DecodeViewInfo(*reply);
}

Result<PutResult> Client::Put(const WriteBatch& batch) {
  QUIVER_RETURN_IF_ERROR(batch.impl_->error);
  if (batch.impl_->write_id.empty()) batch.impl_->write_id = impl_->write_ids.Next();
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodePut(b, *batch.impl_);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Put, body.Union()));
  QUIVER_ASSIGN_OR_RETURN(PutResult result, wire::DecodePutReply(frame));
  wire::MergePositions(result.positions, &impl_->written);
  return result;
}

Result<GetResult> Client::Get(const GetRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeGet(b, request);
  QUIVER_ASSIGN_OR_RETURN(
      Frame frame, impl_->Call(fb::RequestBody::Get, body.Union(), impl_->After(request.after)));
  return wire::DecodeGetResult(frame);
}

Result<uint32_t> Client::Delete(std::string_view view, const std::vector<std::string>& key_parts) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateDelete(b, b.CreateString(view), b.CreateVectorOfStrings(key_parts),
                               b.CreateString(impl_->write_ids.Next()));
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Delete, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_DeleteReply();
  if (reply == nullptr) return Status::ProtocolError("Delete answered without a DeleteReply");
  wire::MergePositions(wire::DecodePositions(reply->positions()), &impl_->written);
  return reply->deleted();
}

Result<GetResult> Client::GetAsOf(const GetAsOfRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeGetAsOf(b, request);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::GetAsOf, body.Union(),
                                                   impl_->After(request.after)));
  return wire::DecodeGetResult(frame);
}

Result<GetResult> Client::History(const HistoryRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeHistory(b, request);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::History, body.Union(),
                                                   impl_->After(request.after)));
  return wire::DecodeGetResult(frame);
}

Result<TrainingSetResult> Client::TrainingSet(const TrainingSetBatch& batch) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeTrainingSet(b, batch);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::TrainingBatch, body.Union()));
  return wire::DecodeTrainingSet(frame);
}

Result<BackfillResult> Client::Backfill(std::string_view view,
                                        const std::vector<std::string>& events, bool finish,
                                        int64_t until_ms) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateBackfill(b, b.CreateString(view), b.CreateVectorOfStrings(events), finish,
                                 until_ms);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Backfill, body.Union()));
  return wire::DecodeBackfill(frame);
}

Result<ServerStatus> Client::GetStatus() {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateGetStatus(b);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::GetStatus, body.Union()));
  return wire::DecodeStatus(frame);
}

Result<uint64_t> Client::Compact() {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateCompact(b);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Compact, body.Union()));
  return wire::DecodeCompact(frame);
}

Result<std::string> Client::Checkpoint(std::string_view dir) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateCheckpoint(b, b.CreateString(dir));
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Checkpoint, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_CheckpointReply();
  if (reply == nullptr) return Status::ProtocolError("Checkpoint answered without its reply");
  return reply->dir() != nullptr ? reply->dir()->str() : std::string();
}

Result<std::string> Client::Monitoring(MonitoringKind kind, std::string_view view,
                                       std::string_view window) {
  auto& b = impl_->builder;
  b.Clear();
  auto view_offset = b.CreateString(view.data(), view.size());
  auto window_offset = b.CreateString(window.data(), window.size());
  auto body =
      fb::CreateGetMonitoring(b, static_cast<fb::MonitoringKind>(kind), view_offset, window_offset);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::GetMonitoring, body.Union()));
  return wire::DecodeMonitoring(frame);
}

std::string_view Client::server_durability() const {
  return impl_->server_durability;
}

const Column* GetResult::column(std::string_view name) const {
  for (const Column& c : columns_) {
    if (c.name() == name) return &c;
  }
  return nullptr;
}

// ---- Pipeline ----

struct Pipeline::Impl {
  std::vector<uint8_t> frames;  // queued request frames, back to back
  std::vector<std::pair<uint64_t, fb::RequestBody>> sent;
};

Pipeline::Pipeline(Client& client) : client_(client), impl_(std::make_unique<Impl>()) {}
Pipeline::~Pipeline() = default;
size_t Pipeline::size() const {
  return impl_->sent.size();
}

namespace {
void Queue(Client::Impl& c, std::vector<uint8_t>& frames,
           std::vector<std::pair<uint64_t, fb::RequestBody>>& sent, fb::RequestBody type,
           flatbuffers::Offset<void> body, std::span<const Position> after = {}) {
  const uint64_t id = c.Finish(type, body, after);
  frames.insert(frames.end(), c.builder.GetBufferPointer(),
                c.builder.GetBufferPointer() + c.builder.GetSize());
  sent.emplace_back(id, type);
}
// Fills the member of *reply that answers a request of this type.
template <typename T>
Status Keep(Result<T> decoded, std::optional<T>* out) {
  if (!decoded.ok()) return decoded.status();
  *out = std::move(decoded).value();
  return Status::Ok();
}

Status DecodeReply(fb::RequestBody type, const Frame& frame, Pipeline::Reply* reply) {
  switch (type) {
    case fb::RequestBody::Get:
      return Keep(wire::DecodeGetResult(frame), &reply->get);
    case fb::RequestBody::TrainingBatch:
      return Keep(wire::DecodeTrainingSet(frame), &reply->training);
    default:
      return Keep(wire::DecodePutReply(frame), &reply->put);
  }
}
}  // namespace

void Pipeline::Get(const GetRequest& request) {
  auto& b = client_.impl_->builder;
  b.Clear();
  auto body = wire::EncodeGet(b, request);
  Queue(*client_.impl_, impl_->frames, impl_->sent, fb::RequestBody::Get, body.Union(),
        client_.impl_->After(request.after));
}

void Pipeline::TrainingSet(const TrainingSetBatch& batch) {
  auto& b = client_.impl_->builder;
  b.Clear();
  auto body = wire::EncodeTrainingSet(b, batch);
  Queue(*client_.impl_, impl_->frames, impl_->sent, fb::RequestBody::TrainingBatch, body.Union());
}

void Pipeline::Put(const WriteBatch& batch) {
  if (batch.impl_->write_id.empty()) batch.impl_->write_id = client_.impl_->write_ids.Next();
  auto& b = client_.impl_->builder;
  b.Clear();
  auto body = wire::EncodePut(b, *batch.impl_);
  Queue(*client_.impl_, impl_->frames, impl_->sent, fb::RequestBody::Put, body.Union());
}

Result<std::vector<Pipeline::Reply>> Pipeline::Run() {
  Impl queued;
  std::swap(queued, *impl_);
  client_internal::Connection& connection = client_.impl_->connection;
  QUIVER_RETURN_IF_ERROR(client_.impl_->EnsureConnected());
  QUIVER_RETURN_IF_ERROR(connection.SendAll(queued.frames));
  std::vector<Reply> replies(queued.sent.size());
  // The server answers one connection's requests in order.
  for (size_t i = 0; i < queued.sent.size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(Frame frame, connection.ReceiveFrame());
    Result<const fb::Response*> response = wire::CheckResponse(frame, queued.sent[i].first);
    if (!response.ok()) {
      if (response.status().code() == StatusCode::kProtocolError) return response.status();
      replies[i].status = response.status();
      continue;
    }
    replies[i].status = DecodeReply(queued.sent[i].second, frame, &replies[i]);
    if (replies[i].put) wire::MergePositions(replies[i].put->positions, &client_.impl_->written);
  }
  return replies;
}

}  // namespace quiver
