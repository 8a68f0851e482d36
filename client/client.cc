#include "quiver/client.h"

#include <chrono>

#include "client/connection.h"
#include "client/json.h"
#include "client/wire.h"
#include "client/write_batch_impl.h"

namespace quiver {

using client_internal::Frame;
namespace wire = client_internal;

struct Client::Impl {
  ClientOptions options;
  client_internal::Connection connection;
  flatbuffers::FlatBufferBuilder builder{16 * 1024};
  uint64_t next_id = 1;
  std::string server_version;
  std::string server_durability;

  Status Handshake();
  Status EnsureConnected();
  // Sends the request body finished in `builder` and waits for its answer.
  Result<Frame> Call(fb::RequestBody type, flatbuffers::Offset<void> body);
};

Status Client::Impl::Handshake() {
  builder.Clear();
  auto name = builder.CreateString(options.client_name);
  auto password = options.password.empty() ? 0 : builder.CreateString(options.password);
  auto hello = fb::CreateHello(builder, protocol::kProtocolVersion, name, password);
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

Status Client::Impl::EnsureConnected() {
  if (connection.is_open()) return Status::Ok();
  QUIVER_RETURN_IF_ERROR(
      connection.Open(options.host, options.port, options.timeout_ms, options.max_frame_bytes));
  Status s = Handshake();
  if (!s.ok()) connection.Close();
  return s;
}

Result<Frame> Client::Impl::Call(fb::RequestBody type, flatbuffers::Offset<void> body) {
  const uint64_t id = next_id++;
  builder.FinishSizePrefixed(fb::CreateRequest(builder, id, type, body));
  std::span<const uint8_t> bytes(builder.GetBufferPointer(), builder.GetSize());
  // A connection found broken before the request is sent is re-opened once;
  // after the request went out, the caller decides whether to retry.
  if (!connection.is_open()) {
    std::vector<uint8_t> copy(bytes.begin(), bytes.end());
    QUIVER_RETURN_IF_ERROR(EnsureConnected());
    QUIVER_RETURN_IF_ERROR(connection.SendAll(copy));
  } else {
    QUIVER_RETURN_IF_ERROR(connection.SendAll(bytes));
  }
  QUIVER_ASSIGN_OR_RETURN(Frame frame, connection.ReceiveFrame());
  QUIVER_RETURN_IF_ERROR(wire::CheckResponse(frame, id).status());
  return frame;
}

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Client::~Client() = default;

Result<std::unique_ptr<Client>> Client::Connect(const ClientOptions& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  QUIVER_RETURN_IF_ERROR(impl->EnsureConnected());
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

std::string_view Client::server_version() const {
  return impl_->server_version;
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
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodePut(b, *batch.impl_);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Put, body.Union()));
  return wire::DecodePutReply(frame);
}

Result<GetResult> Client::Get(const GetRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeGet(b, request);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Get, body.Union()));
  return wire::DecodeGetResult(frame);
}

Result<uint32_t> Client::Delete(std::string_view view, const std::vector<std::string>& key_parts) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = fb::CreateDelete(b, b.CreateString(view), b.CreateVectorOfStrings(key_parts));
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::Delete, body.Union()));
  const auto* reply = wire::ResponseOf(frame)->body_as_DeleteReply();
  if (reply == nullptr) return Status::ProtocolError("Delete answered without a DeleteReply");
  return reply->deleted();
}

Result<GetResult> Client::GetAsOf(const GetAsOfRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeGetAsOf(b, request);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::GetAsOf, body.Union()));
  return wire::DecodeGetResult(frame);
}

Result<GetResult> Client::History(const HistoryRequest& request) {
  auto& b = impl_->builder;
  b.Clear();
  auto body = wire::EncodeHistory(b, request);
  QUIVER_ASSIGN_OR_RETURN(Frame frame, impl_->Call(fb::RequestBody::History, body.Union()));
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
           flatbuffers::Offset<void> body) {
  const uint64_t id = c.next_id++;
  c.builder.FinishSizePrefixed(fb::CreateRequest(c.builder, id, type, body));
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
  Queue(*client_.impl_, impl_->frames, impl_->sent, fb::RequestBody::Get, body.Union());
}

void Pipeline::TrainingSet(const TrainingSetBatch& batch) {
  auto& b = client_.impl_->builder;
  b.Clear();
  auto body = wire::EncodeTrainingSet(b, batch);
  Queue(*client_.impl_, impl_->frames, impl_->sent, fb::RequestBody::TrainingBatch, body.Union());
}

void Pipeline::Put(const WriteBatch& batch) {
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
  }
  return replies;
}

}  // namespace quiver
