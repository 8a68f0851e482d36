#include "client/wire.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>

#include "client/json.h"

namespace quiver::client_internal {

namespace {

// The vector's bytes, if it has `expected` elements at their natural
// alignment (the verifier guarantees only 4 bytes).
template <typename T>
const uint8_t* BytesOf(const flatbuffers::Vector<T>* v, size_t expected, bool* ok) {
  if (v == nullptr || v->size() != expected ||
      reinterpret_cast<uintptr_t>(v->data()) % alignof(T) != 0) {
    *ok = false;
    return nullptr;
  }
  return reinterpret_cast<const uint8_t*>(v->data());
}

template <typename T>
std::span<const T> SpanOf(const flatbuffers::Vector<T>* v) {
  return v == nullptr ? std::span<const T>() : std::span<const T>(v->data(), v->size());
}

}  // namespace

std::vector<Position> DecodePositions(const flatbuffers::Vector<const fb::Position*>* v) {
  std::vector<Position> out;
  if (v != nullptr) {
    for (const fb::Position* p : *v)
      out.push_back({p->partition(), p->offset()});
  }
  return out;
}

void MergePositions(std::span<const Position> from, std::vector<Position>* into) {
  for (const Position& p : from) {
    auto same = std::find_if(into->begin(), into->end(),
                             [&](const Position& q) { return q.partition == p.partition; });
    if (same == into->end()) {
      into->push_back(p);
    } else {
      same->offset = std::max(same->offset, p.offset);
    }
  }
}

WriteIdSource::WriteIdSource() {
  std::random_device rd;
  prefix_ = (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

std::string WriteIdSource::Next() {
  char id[33];
  std::snprintf(id, sizeof id, "%016llx%016llx", static_cast<unsigned long long>(prefix_),
                static_cast<unsigned long long>(next_++));
  return std::string(id, 32);
}

Result<const fb::Response*> CheckResponse(const Frame& frame, uint64_t id) {
  const fb::Response* response = protocol::VerifyResponse(frame.bytes());
  if (response == nullptr) return Status::ProtocolError("malformed response from quiverd");
  if (response->code() != fb::StatusCode::Ok) {
    return Status(static_cast<StatusCode>(response->code()),
                  response->message() ? response->message()->str() : "");
  }
  if (response->id() != id) {
    return Status::ProtocolError("response " + std::to_string(response->id()) +
                                 " does not answer request " + std::to_string(id));
  }
  return response;
}

const fb::Response* ResponseOf(const Frame& frame) {
  return flatbuffers::GetSizePrefixedRoot<fb::Response>(frame.bytes().data());
}

std::vector<std::string> Strings(const FbStrings* v) {
  std::vector<std::string> out;
  if (v != nullptr) {
    for (const flatbuffers::String* s : *v)
      out.push_back(s->str());
  }
  return out;
}

ViewInfo DecodeViewInfo(const fb::ViewInfo& v) {
  ViewInfo info;
  info.name = v.name() ? v.name()->str() : "";
  info.version = v.version();
  info.entity = v.entity() ? v.entity()->str() : "";
  info.join_keys = Strings(v.join_keys());
  info.ttl_ms = v.ttl_ms();
  info.freshness_ms = v.freshness_ms();
  info.retention_ms = v.retention_ms();
  info.description = v.description() ? v.description()->str() : "";
  info.owner = v.owner() ? v.owner()->str() : "";
  info.tags = Strings(v.tags());
  info.depends_on = Strings(v.depends_on());
  info.source = v.source() ? v.source()->str() : "";
  info.key_paths = Strings(v.key_paths());
  if (v.fields() == nullptr) return info;
  for (const fb::FieldInfo* f : *v.fields()) {
    FieldInfo field;
    field.name = f->name() ? f->name()->str() : "";
    field.type = TypeSpec{static_cast<FieldType>(f->type()), f->dim()};
    field.description = f->description() ? f->description()->str() : "";
    field.agg = f->agg() ? f->agg()->str() : "";
    field.of = f->of() ? f->of()->str() : "";
    field.window_ms = f->window_ms();
    field.hop_ms = f->hop_ms();
    if (f->default_value() != nullptr) {
      Result<Column> c = Access::MakeColumn(*f->default_value(), 1);
      if (c.ok()) AppendJsonValue(*c, 0, &field.default_json);
    }
    info.fields.push_back(std::move(field));
  }
  return info;
}

flatbuffers::Offset<fb::Put> EncodePut(flatbuffers::FlatBufferBuilder& b, WriteBatch::Impl& batch) {
  const size_t rows = batch.event_times.size();
  batch.PadAll(rows);
  std::vector<flatbuffers::Offset<fb::Column>> columns;
  for (const auto& c : batch.columns) {
    auto name = b.CreateString(c.name);
    auto nulls = b.CreateVector(c.nulls);
    flatbuffers::Offset<flatbuffers::Vector<uint32_t>> offsets;
    flatbuffers::Offset<flatbuffers::Vector<uint8_t>> data, bools;
    flatbuffers::Offset<flatbuffers::Vector<int32_t>> i32;
    flatbuffers::Offset<flatbuffers::Vector<int64_t>> i64;
    flatbuffers::Offset<flatbuffers::Vector<float>> f32;
    flatbuffers::Offset<flatbuffers::Vector<double>> f64;
    const auto* raw = c.fixed.data();
    switch (c.type.type) {
      case FieldType::kBool:
        bools = b.CreateVector(raw, c.fixed.size());
        break;
      case FieldType::kInt32:
        i32 = b.CreateVector(reinterpret_cast<const int32_t*>(raw), c.fixed.size() / 4);
        break;
      case FieldType::kInt64:
        i64 = b.CreateVector(reinterpret_cast<const int64_t*>(raw), c.fixed.size() / 8);
        break;
      case FieldType::kFloat32:
      case FieldType::kFloat32Vector:
        f32 = b.CreateVector(reinterpret_cast<const float*>(raw), c.fixed.size() / 4);
        break;
      case FieldType::kFloat64:
        f64 = b.CreateVector(reinterpret_cast<const double*>(raw), c.fixed.size() / 8);
        break;
      case FieldType::kString:
      case FieldType::kBytes:
        offsets = b.CreateVector(c.offsets);
        data = b.CreateVector(reinterpret_cast<const uint8_t*>(c.data.data()), c.data.size());
        break;
    }
    columns.push_back(fb::CreateColumn(b, name, static_cast<fb::FieldType>(c.type.type), c.type.dim,
                                       nulls, bools, i32, i64, f32, f64, offsets, data));
  }
  auto column_vec = b.CreateVector(columns);
  auto keys = b.CreateVectorOfStrings(batch.key_parts);
  flatbuffers::Offset<flatbuffers::Vector<int64_t>> times;
  bool all_now = true;
  for (int64_t t : batch.event_times)
    all_now = all_now && t == WriteBatch::kNow;
  if (!all_now) {
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    std::vector<int64_t> resolved(batch.event_times);
    for (int64_t& t : resolved)
      t = t == WriteBatch::kNow ? now : t;
    times = b.CreateVector(resolved);
  }
  return fb::CreatePut(b, b.CreateString(batch.view), keys, times, column_vec,
                       b.CreateString(batch.write_id));
}

flatbuffers::Offset<fb::Get> EncodeGet(flatbuffers::FlatBufferBuilder& b,
                                       const GetRequest& request) {
  auto view = b.CreateString(request.view);
  auto fields = b.CreateVectorOfStrings(request.fields);
  auto keys = b.CreateVectorOfStrings(request.key_parts);
  return fb::CreateGet(b, view, fields, keys);
}

flatbuffers::Offset<fb::GetAsOf> EncodeGetAsOf(flatbuffers::FlatBufferBuilder& b,
                                               const GetAsOfRequest& request) {
  auto view = b.CreateString(request.view);
  auto fields = b.CreateVectorOfStrings(request.fields);
  auto keys = b.CreateVectorOfStrings(request.key_parts);
  auto times = b.CreateVector(request.as_of_ms);
  return fb::CreateGetAsOf(b, view, fields, keys, times);
}

flatbuffers::Offset<fb::History> EncodeHistory(flatbuffers::FlatBufferBuilder& b,
                                               const HistoryRequest& request) {
  auto view = b.CreateString(request.view);
  auto fields = b.CreateVectorOfStrings(request.fields);
  auto keys = b.CreateVectorOfStrings(request.key);
  return fb::CreateHistory(b, view, fields, keys, request.from_ms, request.to_ms,
                           static_cast<fb::Aggregation>(request.agg), request.limit);
}

flatbuffers::Offset<fb::TrainingBatch> EncodeTrainingSet(flatbuffers::FlatBufferBuilder& b,
                                                         const TrainingSetBatch& batch) {
  std::vector<flatbuffers::Offset<fb::KeyColumn>> keys;
  for (size_t j = 0; j < batch.key_names.size(); ++j) {
    auto name = b.CreateString(batch.key_names[j]);
    auto values = b.CreateVectorOfStrings(
        j < batch.key_columns.size() ? batch.key_columns[j] : std::vector<std::string>{});
    keys.push_back(fb::CreateKeyColumn(b, name, values));
  }
  auto features = b.CreateVectorOfStrings(batch.features);
  auto key_vec = b.CreateVector(keys);
  auto times = b.CreateVector(batch.event_time_ms);
  return fb::CreateTrainingBatch(b, features, key_vec, times);
}

Result<TrainingSetResult> DecodeTrainingSet(const Frame& frame) {
  const auto* reply = ResponseOf(frame)->body_as_TrainingReply();
  if (reply == nullptr)
    return Status::ProtocolError("TrainingBatch answered without a TrainingReply");
  return Access::MakeTrainingSet(frame, *reply);
}

Result<PutResult> DecodePutReply(const Frame& frame) {
  const auto* reply = ResponseOf(frame)->body_as_PutReply();
  if (reply == nullptr) return Status::ProtocolError("Put answered without a PutReply");
  return PutResult{reply->applied(), reply->stale(), DecodePositions(reply->positions())};
}

Result<GetResult> DecodeGetResult(const Frame& frame) {
  const auto* reply = ResponseOf(frame)->body_as_GetReply();
  if (reply == nullptr) return Status::ProtocolError("Get answered without a GetReply");
  return Access::MakeGetResult(frame, *reply);
}

Result<Column> Access::MakeColumn(const fb::Column& c, size_t rows) {
  Column col;
  col.name_ = c.name() ? c.name()->string_view() : std::string_view();
  col.type_ = TypeSpec{static_cast<FieldType>(c.type()), c.dim()};
  bool ok = true;
  if (c.nulls() != nullptr) col.nulls_ = BytesOf(c.nulls(), rows, &ok);
  switch (col.type_.type) {
    case FieldType::kBool:
      col.values_ = BytesOf(c.bools(), rows, &ok);
      break;
    case FieldType::kInt32:
      col.values_ = BytesOf(c.i32(), rows, &ok);
      break;
    case FieldType::kInt64:
      col.values_ = BytesOf(c.i64(), rows, &ok);
      break;
    case FieldType::kFloat32:
      col.values_ = BytesOf(c.f32(), rows, &ok);
      break;
    case FieldType::kFloat32Vector:
      col.values_ = BytesOf(c.f32(), rows * c.dim(), &ok);
      break;
    case FieldType::kFloat64:
      col.values_ = BytesOf(c.f64(), rows, &ok);
      break;
    case FieldType::kString:
    case FieldType::kBytes: {
      col.offsets_ = reinterpret_cast<const uint32_t*>(BytesOf(c.offsets(), rows + 1, &ok));
      ok = ok && c.data() != nullptr && col.offsets_[rows] <= c.data()->size();
      for (size_t i = 0; ok && i < rows; ++i)
        ok = col.offsets_[i] <= col.offsets_[i + 1];
      col.data_ = ok ? c.data()->data() : nullptr;
      break;
    }
    default:
      ok = false;
  }
  if (!ok) return Status::ProtocolError("column '" + std::string(col.name_) + "' is malformed");
  return col;
}

Result<GetResult> Access::MakeGetResult(const Frame& frame, const fb::GetReply& reply) {
  GetResult result;
  result.buffer_ = frame.storage;
  result.view_ = reply.view() ? reply.view()->string_view() : std::string_view();
  result.server_time_ms_ = reply.server_time_ms();
  result.states_ = {reinterpret_cast<const uint8_t*>(SpanOf(reply.states()).data()),
                    reply.states() ? reply.states()->size() : 0};
  const size_t rows = result.states_.size();
  bool aligned = true;
  BytesOf(reply.event_time_ms(), rows, &aligned);
  BytesOf(reply.age_ms(), rows, &aligned);
  if (!aligned) return Status::ProtocolError("GetReply per-entity vectors are malformed");
  result.event_times_ = SpanOf(reply.event_time_ms());
  result.ages_ = SpanOf(reply.age_ms());
  if (result.event_times_.size() != rows || result.ages_.size() != rows) {
    return Status::ProtocolError("GetReply vectors disagree on the number of entities");
  }
  if (reply.columns() != nullptr) {
    for (const fb::Column* c : *reply.columns()) {
      QUIVER_ASSIGN_OR_RETURN(Column col, MakeColumn(*c, rows));
      result.columns_.push_back(col);
    }
  }
  return result;
}

Result<TrainingSetResult> Access::MakeTrainingSet(const Frame& frame,
                                                  const fb::TrainingReply& reply) {
  TrainingSetResult result;
  result.buffer_ = frame.storage;
  const size_t rows = reply.rows();
  const auto* columns = reply.columns();
  if (columns == nullptr) return result;
  result.rows_ = rows;
  for (const fb::Column* c : *columns) {
    QUIVER_ASSIGN_OR_RETURN(Column col, MakeColumn(*c, rows));
    result.columns_.push_back(col);
  }
  if (reply.missing() != nullptr)
    result.missing_.assign(reply.missing()->begin(), reply.missing()->end());
  return result;
}

}  // namespace quiver::client_internal
