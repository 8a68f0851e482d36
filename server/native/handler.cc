#include "server/native/handler.h"

#include <new>

#include "protocol/frame.h"
#include "server/cluster/feature_apply.h"
#include "server/cluster/feature_write.h"
#include "server/cluster/write_ids.h"
#include "server/native/codec.h"
#include "service/answer_limit.h"
#include "util/rcu.h"

namespace quiver {

namespace {

using Builder = flatbuffers::FlatBufferBuilder;

Status HandleHello(const fb::Hello& req, Builder& b, uint64_t id,
                   const NativeHandlerOptions& options) {
  if (req.protocol_version() != protocol::kProtocolVersion) {
    return Status::FailedPrecondition(
        "unsupported protocol version " + std::to_string(req.protocol_version()) +
        "; this server speaks version " + std::to_string(protocol::kProtocolVersion));
  }
  auto version = b.CreateString(options.server_version);
  auto durability = b.CreateString(options.durability);
  FinishOk(b, id,
           fb::CreateHelloReply(b, protocol::kProtocolVersion, version, options.max_frame_bytes,
                                durability));
  return Status::Ok();
}

// A request's kind for RequestMetrics: its body type, 0 if unknown.
size_t KindOf(const fb::Request& request) {
  const auto kind = static_cast<size_t>(request.body_type());
  return kind <= static_cast<size_t>(fb::RequestBody::MAX) ? kind : 0;
}

// Requests that read rows or views: a cluster member catching up refuses them.
bool IsRead(fb::RequestBody type) {
  return type == fb::RequestBody::Get || type == fb::RequestBody::GetAsOf ||
         type == fb::RequestBody::History || type == fb::RequestBody::TrainingBatch ||
         type == fb::RequestBody::ListViews || type == fb::RequestBody::DescribeView;
}

void FinishApplyReply(Builder& b, uint64_t id, const ApplyReport& report) {
  auto created = b.CreateVectorOfStrings(report.created);
  auto updated = b.CreateVectorOfStrings(report.updated);
  auto unchanged = b.CreateVectorOfStrings(report.unchanged);
  FinishOk(b, id, fb::CreateApplyReply(b, created, updated, unchanged));
}

Status HandleApply(FeatureStore& store, const fb::ApplyDefinitions& req, Builder& b, uint64_t id) {
  std::string_view yaml = req.yaml() ? req.yaml()->string_view() : std::string_view();
  QUIVER_ASSIGN_OR_RETURN(ApplyReport report, store.Apply(yaml));
  FinishApplyReply(b, id, report);
  return Status::Ok();
}

Status HandleListViews(FeatureStore& store, Builder& b, uint64_t id) {
  rcu::ReadLock lock;
  const Catalog& catalog = store.registry().current();
  std::vector<flatbuffers::Offset<fb::ViewInfo>> views;
  for (const auto& v : catalog.views())
    views.push_back(EncodeViewInfo(b, *v, catalog));
  FinishOk(b, id, fb::CreateViewList(b, b.CreateVector(views)));
  return Status::Ok();
}

Status HandleDescribe(FeatureStore& store, const fb::DescribeView& req, Builder& b, uint64_t id) {
  rcu::ReadLock lock;
  const Catalog& catalog = store.registry().current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* view, catalog.ResolveName(StringOf(req.view())));
  FinishOk(b, id, EncodeViewInfo(b, *view, catalog));
  return Status::Ok();
}

}  // namespace

bool NativeHandler::Handle(std::span<const uint8_t> frame, Builder* out, bool* defer,
                           ReadAfter* after) {
  out->Clear();
  const fb::Request* request = protocol::VerifyRequest(frame);
  last_kind_ = 0;
  last_ok_ = false;
  if (request == nullptr) {
    protocol::BuildErrorResponse(
        out, 0, Status::ProtocolError("malformed frame: not a valid quiver Request"));
    return false;
  }
  if (after != nullptr && authenticated_ && request->after() != nullptr &&
      request->after()->size() > 0) {
    last_id_ = request->id();
    last_kind_ = KindOf(*request);
    if (Status s = WantsPositions(*request, after); !s.ok()) AnswerError(s, out);
    return true;
  }
  // A cluster member's Put and Delete only encode their records here.
  const bool proposes =
      options_.changelog != nullptr && (request->body_type() == fb::RequestBody::Put ||
                                        request->body_type() == fb::RequestBody::Delete);
  if (defer != nullptr && authenticated_ && !proposes && IsLong(*request)) {
    *defer = true;
    return true;
  }
  Run(*request, out);
  return true;
}

Status NativeHandler::WantsPositions(const fb::Request& request, ReadAfter* after) const {
  if (options_.changelog == nullptr) {
    return Status::FailedPrecondition(
        "this server is not a cluster member: it has no changelog positions to wait for");
  }
  after->positions.clear();
  for (const fb::Position* p : *request.after())
    after->positions.push_back({p->partition(), p->offset()});
  const uint32_t timeout = request.after_timeout_ms();
  after->timeout_ms = timeout == 0 ? kDefaultAfterMs : std::min<int64_t>(timeout, kMaxAfterMs);
  return Status::Ok();
}

void NativeHandler::AnswerError(const Status& status, Builder* out) {
  out->Clear();
  last_ok_ = false;
  protocol::BuildErrorResponse(out, last_id_, status);
}

bool NativeHandler::IsLong(const fb::Request& request) {
  auto size = [](const auto* vector) { return vector != nullptr ? size_t{vector->size()} : 0; };
  if (request.body() == nullptr) return false;  // refused by Dispatch
  switch (request.body_type()) {
    case fb::RequestBody::Put:
      return size(request.body_as_Put()->key_parts()) >= kLongKeys;
    case fb::RequestBody::Get:
      return size(request.body_as_Get()->key_parts()) >= kLongKeys;
    case fb::RequestBody::Delete:
      return size(request.body_as_Delete()->key_parts()) >= kLongKeys;
    case fb::RequestBody::GetAsOf:
      return size(request.body_as_GetAsOf()->key_parts()) >= kLongKeys;
    case fb::RequestBody::History: {
      const uint32_t limit = request.body_as_History()->limit();
      return limit == 0 || limit > kLongVersions;  // 0: 100,000
    }
    case fb::RequestBody::TrainingBatch:
      return size(request.body_as_TrainingBatch()->event_time_ms()) >= kLongRows;
    case fb::RequestBody::Backfill:
      return size(request.body_as_Backfill()->events()) >= kLongRows;
    case fb::RequestBody::Checkpoint:  // flushes and links or copies every file
      return true;
    default:
      return false;
  }
}

void NativeHandler::Run(const fb::Request& request, Builder* out) {
  const uint64_t id = request.id();
  last_id_ = id;
  last_kind_ = KindOf(request);
  write_id_.clear();
  Status s;
  try {
    s = Dispatch(request, *out, id);
  } catch (const std::bad_alloc&) {  // the request fails alone
    writes_.Clear();
    proposals_.clear();
    s = Status::OutOfMemory("request not served: the server could not allocate its memory");
  }
  last_ok_ = s.ok();
  if (!s.ok()) {
    proposals_.clear();
    protocol::BuildErrorResponse(out, id, s);
  }
}

std::vector<std::string> NativeHandler::KindNames() {
  std::vector<std::string> names;
  for (size_t i = 0; i <= static_cast<size_t>(fb::RequestBody::MAX); ++i) {
    std::string name;  // "GetAsOf" -> "get_as_of"; NONE -> "none"
    for (const char* c = fb::EnumNamesRequestBody()[i]; *c != '\0'; ++c) {
      const bool upper = *c >= 'A' && *c <= 'Z';
      if (upper && !name.empty() && !(c[-1] >= 'A' && c[-1] <= 'Z')) name.push_back('_');
      name.push_back(upper ? static_cast<char>(*c + 32) : *c);
    }
    names.push_back(std::move(name));
  }
  return names;
}

Status NativeHandler::Dispatch(const fb::Request& request, Builder& b, uint64_t id) {
  // The verifier accepts a union type without its value; every case below
  // relies on the value being there.
  if (request.body_type() != fb::RequestBody::NONE && request.body() == nullptr) {
    return Status::InvalidArgument("request " + std::to_string(id) +
                                   " names a body type but has no body");
  }
  if (!authenticated_ && request.body_type() != fb::RequestBody::Hello) {
    return Status::NoAuth("this server requires a password: send it in Hello");
  }
  QUIVER_RETURN_IF_ERROR(Permitted(request));
  if (options_.changelog != nullptr && IsRead(request.body_type())) {
    QUIVER_RETURN_IF_ERROR(options_.changelog->ReadsAllowed());
  }
  switch (request.body_type()) {
    case fb::RequestBody::Hello:
      QUIVER_RETURN_IF_ERROR(Authenticate(*request.body_as_Hello()));
      return HandleHello(*request.body_as_Hello(), b, id, options_);
    case fb::RequestBody::Ping: {
      const auto* payload = request.body_as_Ping()->payload();
      auto echo = payload ? b.CreateVector(payload->data(), payload->size())
                          : b.CreateVector(std::vector<uint8_t>());
      FinishOk(b, id, fb::CreatePong(b, echo));
      return Status::Ok();
    }
    case fb::RequestBody::ApplyDefinitions:
      if (options_.changelog != nullptr) {  // every member applies the same views
        const auto* yaml = request.body_as_ApplyDefinitions()->yaml();
        proposals_.push_back(
            {0, cluster::RecordKind::kDefinitions, yaml != nullptr ? yaml->str() : std::string()});
        return Status::Ok();
      }
      return HandleApply(store_, *request.body_as_ApplyDefinitions(), b, id);
    case fb::RequestBody::ListViews:
      return HandleListViews(store_, b, id);
    case fb::RequestBody::DescribeView:
      return HandleDescribe(store_, *request.body_as_DescribeView(), b, id);
    case fb::RequestBody::Put:
      return HandlePut(*request.body_as_Put(), b, id);
    case fb::RequestBody::Get:
      return HandleGet(*request.body_as_Get(), b, id);
    case fb::RequestBody::Delete:
      return HandleDelete(*request.body_as_Delete(), b, id);
    case fb::RequestBody::GetAsOf:
      return HandleGetAsOf(*request.body_as_GetAsOf(), b, id);
    case fb::RequestBody::History:
      return HandleHistory(*request.body_as_History(), b, id);
    case fb::RequestBody::TrainingBatch:
      return HandleTraining(*request.body_as_TrainingBatch(), b, id);
    case fb::RequestBody::Backfill:
      return HandleBackfill(*request.body_as_Backfill(), b, id);
    case fb::RequestBody::GetStatus:
      return HandleStatus(b, id);
    case fb::RequestBody::GetMonitoring:
      return HandleMonitoring(*request.body_as_GetMonitoring(), b, id);
    case fb::RequestBody::Compact:
      return HandleCompact(b, id);
    case fb::RequestBody::Checkpoint:
      return HandleCheckpoint(*request.body_as_Checkpoint(), b, id);
    case fb::RequestBody::NONE:
      break;
  }
  return Status::InvalidArgument("request " + std::to_string(id) + " has no known body (type " +
                                 std::to_string(static_cast<int>(request.body_type())) + ")");
}

Status NativeHandler::CheckReply(FunctionRef<uint64_t(bool exact)> bytes, size_t entities) const {
  // FlatBuffers builds buffers of less than 2 GiB.
  const uint64_t limit = std::min<uint64_t>(options_.max_frame_bytes, (uint64_t{1} << 31) - 1);
  // The loose bound reads no row; only an answer near the limit pays for
  // the exact one.
  if (bytes(false) <= limit) return Status::Ok();
  return CheckAnswerSize(bytes(true), limit, entities, "--max-frame");
}

Status NativeHandler::HandlePut(const fb::Put& put, Builder& b, uint64_t id) {
  key_parts_.clear();
  DecodeStrings(put.key_parts(), &key_parts_);
  std::vector<ColumnInput> columns;
  if (put.columns() != nullptr) {
    for (const fb::Column* c : *put.columns()) {
      QUIVER_ASSIGN_OR_RETURN(ColumnInput in, DecodeColumn(*c));
      columns.push_back(in);
    }
  }
  QUIVER_RETURN_IF_ERROR(KeepWriteId(put.write_id()));
  WriteRequest w;
  w.view = StringOf(put.view());
  QUIVER_ASSIGN_OR_RETURN(w.event_time_ms, AlignedInt64s(put.event_time_ms(), "event_time_ms"));
  w.key_parts = key_parts_;
  w.columns = columns;
  if (options_.changelog != nullptr) return ProposePut(w);
  QUIVER_ASSIGN_OR_RETURN(WriteResult result, store_.Write(w, &writes_));
  FinishOk(b, id, fb::CreatePutReply(b, result.applied, result.stale));
  return Status::Ok();
}

Status NativeHandler::KeepWriteId(const flatbuffers::String* id) {
  write_id_.clear();
  if (id == nullptr) return Status::Ok();
  if (id->size() > cluster::WriteIds::kMaxIdBytes) {
    return Status::InvalidArgument("write_id has " + std::to_string(id->size()) +
                                   " bytes; at most " +
                                   std::to_string(cluster::WriteIds::kMaxIdBytes) + " are allowed");
  }
  write_id_.assign(id->c_str(), id->size());
  return Status::Ok();
}

Status NativeHandler::ProposePut(const WriteRequest& w) {
  QUIVER_ASSIGN_OR_RETURN(FeatureStore::Checked checked, store_.CheckWrite(w));
  for (cluster::PartitionRows& p :
       cluster::SplitRows(w.key_parts, checked.keys_per_row, options_.changelog->partitions())) {
    Proposal& proposal =
        proposals_.emplace_back(Proposal{p.partition, cluster::RecordKind::kPut, {}});
    cluster::EncodePut(w, checked.view, checked.keys_per_row, p.rows, &proposal.body);
  }
  return Status::Ok();
}

Status NativeHandler::ProposeDelete(std::string_view view,
                                    std::span<const std::string_view> key_parts) {
  QUIVER_ASSIGN_OR_RETURN(FeatureStore::Checked checked, store_.CheckDelete(view, key_parts));
  for (cluster::PartitionRows& p :
       cluster::SplitRows(key_parts, checked.keys_per_row, options_.changelog->partitions())) {
    Proposal& proposal =
        proposals_.emplace_back(Proposal{p.partition, cluster::RecordKind::kDelete, {}});
    cluster::EncodeDelete(checked.view, key_parts, checked.keys_per_row, p.rows, &proposal.body);
  }
  return Status::Ok();
}

void NativeHandler::FinishProposed(std::span<const Outcome> outcomes, Builder* out) {
  out->Clear();
  const cluster::RecordKind kind =
      proposals_.empty() ? cluster::RecordKind::kPut : proposals_[0].kind;
  proposals_.clear();
  const Status s = FinishAs(kind, outcomes, *out);
  last_ok_ = s.ok();
  if (!s.ok()) protocol::BuildErrorResponse(out, last_id_, s);
}

Status NativeHandler::FinishAs(cluster::RecordKind kind, std::span<const Outcome> outcomes,
                               Builder& b) {
  for (const Outcome& o : outcomes)
    QUIVER_RETURN_IF_ERROR(o.status());
  if (kind == cluster::RecordKind::kDefinitions) {
    QUIVER_ASSIGN_OR_RETURN(ApplyReport report, cluster::DefinitionsReply(outcomes[0]->reply));
    FinishApplyReply(b, last_id_, report);
    return Status::Ok();
  }
  WriteResult sum;
  for (const Outcome& o : outcomes) {
    if (kind == cluster::RecordKind::kDelete) {
      QUIVER_ASSIGN_OR_RETURN(uint32_t deleted, cluster::DeleteReply(o->reply));
      sum.applied += deleted;
      continue;
    }
    QUIVER_ASSIGN_OR_RETURN(WriteResult r, cluster::PutReply(o->reply));
    sum.applied += r.applied;
    sum.stale += r.stale;
  }
  std::vector<fb::Position> positions;
  for (const Outcome& o : outcomes)
    positions.emplace_back(o->partition, o->offset);
  auto where = b.CreateVectorOfStructs(positions);
  if (kind == cluster::RecordKind::kDelete) {
    FinishOk(b, last_id_, fb::CreateDeleteReply(b, sum.applied, where));
  } else {
    FinishOk(b, last_id_, fb::CreatePutReply(b, sum.applied, sum.stale, where));
  }
  return Status::Ok();
}

void NativeHandler::DecodeKeysAndFields(const FbStrings* keys, const FbStrings* fields) {
  key_parts_.clear();
  fields_.clear();
  DecodeStrings(keys, &key_parts_);
  DecodeStrings(fields, &fields_);
}

Status NativeHandler::HandleGet(const fb::Get& get, Builder& b, uint64_t id) {
  DecodeKeysAndFields(get.key_parts(), get.fields());
  rcu::ReadLock lock;
  QUIVER_RETURN_IF_ERROR(store_.Read({StringOf(get.view()), fields_, key_parts_}, &read_));
  QUIVER_RETURN_IF_ERROR(
      CheckReply([&](bool exact) { return GetReplyBytes(read_, exact); }, read_.rows.size()));
  FinishOk(b, id, EncodeGetReply(b, read_));
  return Status::Ok();
}

Status NativeHandler::HandleDelete(const fb::Delete& del, Builder& b, uint64_t id) {
  QUIVER_RETURN_IF_ERROR(KeepWriteId(del.write_id()));
  key_parts_.clear();
  DecodeStrings(del.key_parts(), &key_parts_);
  if (options_.changelog != nullptr) return ProposeDelete(StringOf(del.view()), key_parts_);
  QUIVER_ASSIGN_OR_RETURN(uint32_t deleted,
                          store_.Delete(StringOf(del.view()), key_parts_, &writes_));
  FinishOk(b, id, fb::CreateDeleteReply(b, deleted));
  return Status::Ok();
}

Status NativeHandler::HandleGetAsOf(const fb::GetAsOf& req, Builder& b, uint64_t id) {
  rcu::ReadLock lock;  // the schemas the answer refers to stay alive
  DecodeKeysAndFields(req.key_parts(), req.fields());
  AsOfRequest r{StringOf(req.view()), fields_, key_parts_, {}};
  QUIVER_ASSIGN_OR_RETURN(r.as_of_ms, AlignedInt64s(req.as_of_ms(), "as_of_ms"));
  QUIVER_RETURN_IF_ERROR(store_.ReadAsOf(r, &read_));
  QUIVER_RETURN_IF_ERROR(
      CheckReply([&](bool exact) { return GetReplyBytes(read_, exact); }, read_.rows.size()));
  FinishOk(b, id, EncodeGetReply(b, read_));
  return Status::Ok();
}

Status NativeHandler::HandleHistory(const fb::History& req, Builder& b, uint64_t id) {
  rcu::ReadLock lock;  // the schemas the answer refers to stay alive
  DecodeKeysAndFields(req.key_parts(), req.fields());
  const auto agg = static_cast<uint8_t>(req.agg());
  if (agg > static_cast<uint8_t>(Aggregation::kCount)) {
    return Status::InvalidArgument("unknown aggregation " + std::to_string(agg));
  }
  HistoryRequest r{StringOf(req.view()), fields_,     key_parts_,
                   req.from_ms(),        req.to_ms(), static_cast<Aggregation>(agg),
                   req.limit()};
  HistoryResult result;
  QUIVER_RETURN_IF_ERROR(store_.History(r, &result));
  QUIVER_RETURN_IF_ERROR(CheckReply([&](bool exact) { return GetReplyBytes(result.read, exact); },
                                    result.read.rows.size()));
  FinishOk(b, id, EncodeGetReply(b, result.read));
  return Status::Ok();
}

Status NativeHandler::HandleTraining(const fb::TrainingBatch& req, Builder& b, uint64_t id) {
  rcu::ReadLock lock;  // the schemas the answer refers to stay alive
  fields_.clear();
  DecodeStrings(req.features(), &fields_);
  std::vector<std::string_view> names;
  std::vector<std::vector<std::string_view>> values;
  if (req.keys() != nullptr) {
    for (const fb::KeyColumn* k : *req.keys()) {
      names.push_back(StringOf(k->name()));
      values.emplace_back();
      DecodeStrings(k->values(), &values.back());
    }
  }
  std::vector<std::span<const std::string_view>> columns(values.begin(), values.end());
  TrainingRequest r{fields_, names, columns, {}};
  QUIVER_ASSIGN_OR_RETURN(r.event_time_ms, AlignedInt64s(req.event_time_ms(), "event_time_ms"));
  TrainingResult result;
  QUIVER_RETURN_IF_ERROR(store_.Training(r, &result));
  QUIVER_RETURN_IF_ERROR(CheckReply([&](bool exact) { return TrainingReplyBytes(result, exact); },
                                    r.event_time_ms.size()));
  FinishOk(b, id, EncodeTrainingReply(b, result));
  return Status::Ok();
}

}  // namespace quiver
