#include "server/native/codec.h"

#include <bit>
#include <cstring>

#include "storage/online/row.h"

namespace quiver {

static_assert(std::endian::native == std::endian::little,
              "the wire format is little-endian and values are copied as bytes");

namespace {

template <typename T>
std::span<const uint8_t> AsBytes(const flatbuffers::Vector<T>* v) {
  if (v == nullptr) return {};
  return {reinterpret_cast<const uint8_t*>(v->data()), v->size() * sizeof(T)};
}

template <typename T>
flatbuffers::Offset<flatbuffers::Vector<T>> VectorAt(flatbuffers::uoffset_t o) {
  return flatbuffers::Offset<flatbuffers::Vector<T>>(o);
}

// One row's value of a field: raw bytes as packed in a row, or the default.
struct Cell {
  bool null;
  std::string_view raw;
};

// Copies one fixed-width value; constant sizes let the compiler inline the
// common widths instead of calling memcpy per cell.
inline void CopyValue(uint8_t* dst, const char* src, size_t width) {
  switch (width) {
    case 1:
      *dst = static_cast<uint8_t>(*src);
      break;
    case 4:
      std::memcpy(dst, src, 4);
      break;
    case 8:
      std::memcpy(dst, src, 8);
      break;
    default:
      std::memcpy(dst, src, width);
  }
}

// Encodes `rows` cells of field `f` as a Column, in one pass over the rows.
// cell(i) returns row i's value (or default) and whether it is null.
template <typename CellFn>
flatbuffers::Offset<fb::Column> EncodeColumn(flatbuffers::FlatBufferBuilder& b, const Field& f,
                                             std::string_view name, size_t rows, CellFn cell) {
  thread_local std::vector<uint8_t> nulls_scratch;
  thread_local std::vector<std::string_view> var_scratch;
  nulls_scratch.assign(rows, 0);
  bool any_null = false;
  flatbuffers::Offset<flatbuffers::Vector<uint32_t>> offsets;
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> data;
  flatbuffers::uoffset_t values = 0;  // offset of the typed vector, whatever its type
  if (IsVariableWidth(f.type.type)) {
    var_scratch.resize(rows);
    size_t total = 0;
    for (size_t i = 0; i < rows; ++i) {
      const Cell c = cell(i);
      var_scratch[i] = c.raw;
      nulls_scratch[i] = c.null;
      any_null |= c.null;
      total += c.raw.size();
    }
    uint8_t* dst = nullptr;
    data = b.CreateUninitializedVector(total, 1, &dst);
    for (std::string_view v : var_scratch) {
      if (!v.empty()) std::memcpy(dst, v.data(), v.size());
      dst += v.size();
    }
    uint32_t* offs = nullptr;
    offsets = b.CreateUninitializedVector(rows + 1, 4, reinterpret_cast<uint8_t**>(&offs));
    offs[0] = 0;
    for (size_t i = 0; i < rows; ++i)
      offs[i + 1] = offs[i] + uint32_t(var_scratch[i].size());
  } else {
    const size_t width = FixedWidth(f.type);
    const size_t elem = f.type.type == FieldType::kFloat32Vector ? 4 : width;
    uint8_t* dst = nullptr;
    values = b.CreateUninitializedVector(rows * width / elem, elem, &dst);
    for (size_t i = 0; i < rows; ++i) {
      const Cell c = cell(i);
      nulls_scratch[i] = c.null;
      any_null |= c.null;
      CopyValue(dst + i * width, c.raw.data(), width);
    }
  }
  flatbuffers::Offset<flatbuffers::Vector<uint8_t>> nulls;
  if (any_null) nulls = b.CreateVector(nulls_scratch);
  auto name_offset = b.CreateString(name.data(), name.size());
  fb::ColumnBuilder col(b);
  col.add_name(name_offset);
  col.add_type(static_cast<fb::FieldType>(f.type.type));
  col.add_dim(f.type.dim);
  if (any_null) col.add_nulls(nulls);
  switch (f.type.type) {
    case FieldType::kBool:
      col.add_bools(VectorAt<uint8_t>(values));
      break;
    case FieldType::kInt32:
      col.add_i32(VectorAt<int32_t>(values));
      break;
    case FieldType::kInt64:
      col.add_i64(VectorAt<int64_t>(values));
      break;
    case FieldType::kFloat32:
    case FieldType::kFloat32Vector:
      col.add_f32(VectorAt<float>(values));
      break;
    case FieldType::kFloat64:
      col.add_f64(VectorAt<double>(values));
      break;
    case FieldType::kString:
    case FieldType::kBytes:
      col.add_offsets(offsets);
      col.add_data(data);
      break;
  }
  return col.Finish();
}

flatbuffers::Offset<fb::ExpectedStats> EncodeExpected(flatbuffers::FlatBufferBuilder& b,
                                                      const ExpectedStats& e) {
  fb::ExpectedStatsBuilder x(b);
  if (e.mean) x.add_has_mean(true), x.add_mean(*e.mean);
  if (e.stddev) x.add_has_stddev(true), x.add_stddev(*e.stddev);
  if (e.min) x.add_has_min(true), x.add_min(*e.min);
  if (e.max) x.add_has_max(true), x.add_max(*e.max);
  return x.Finish();
}

flatbuffers::Offset<fb::FieldInfo> EncodeFieldInfo(flatbuffers::FlatBufferBuilder& b,
                                                   const Field& f) {
  auto default_value = EncodeColumn(b, f, f.name, 1, [&](size_t) {
    return Cell{false, f.default_raw};
  });
  auto name = b.CreateString(f.name);
  auto description = b.CreateString(f.description);
  auto expected = EncodeExpected(b, f.expected);
  const FieldMapping& m = f.mapping;
  auto agg = b.CreateString(m.agg == FieldAgg::kNone ? "" : FieldAggName(m.agg));
  auto of = b.CreateString(m.of);
  return fb::CreateFieldInfo(b, name, static_cast<fb::FieldType>(f.type.type), f.type.dim,
                             default_value, description, expected, agg, of, m.window_ms, m.hop_ms);
}

}  // namespace

void DecodeStrings(const FbStrings* v, std::vector<std::string_view>* out) {
  if (v == nullptr) return;
  out->reserve(out->size() + v->size());
  for (const flatbuffers::String* s : *v)
    out->emplace_back(s->data(), s->size());
}

Result<std::span<const int64_t>> AlignedInt64s(const flatbuffers::Vector<int64_t>* v,
                                               std::string_view what) {
  if (v == nullptr) return std::span<const int64_t>();
  if (reinterpret_cast<uintptr_t>(v->data()) % alignof(int64_t) != 0) {
    return Status::InvalidArgument(
        std::string(what) + " is not 8-byte aligned (build frames with a FlatBuffers builder)");
  }
  return std::span<const int64_t>(v->data(), v->size());
}

Result<ColumnInput> DecodeColumn(const fb::Column& column) {
  ColumnInput in;
  in.field = column.name() ? column.name()->string_view() : std::string_view();
  const auto type = static_cast<uint8_t>(column.type());
  if (type > static_cast<uint8_t>(FieldType::kFloat32Vector)) {
    return Status::InvalidArgument("column '" + std::string(in.field) + "' has unknown type " +
                                   std::to_string(type));
  }
  in.type.type = static_cast<FieldType>(type);
  in.type.dim = in.type.type == FieldType::kFloat32Vector ? column.dim() : 0;
  in.nulls = AsBytes(column.nulls());
  switch (in.type.type) {
    case FieldType::kBool:
      in.fixed = AsBytes(column.bools());
      break;
    case FieldType::kInt32:
      in.fixed = AsBytes(column.i32());
      break;
    case FieldType::kInt64:
      in.fixed = AsBytes(column.i64());
      break;
    case FieldType::kFloat32:
    case FieldType::kFloat32Vector:
      in.fixed = AsBytes(column.f32());
      break;
    case FieldType::kFloat64:
      in.fixed = AsBytes(column.f64());
      break;
    case FieldType::kString:
    case FieldType::kBytes:
      if (column.offsets() != nullptr)
        in.offsets = {column.offsets()->data(), column.offsets()->size()};
      in.data = AsBytes(column.data());
      break;
  }
  return in;
}

// Field fi of every entity of a read, as a column named `name` (default:
// the field's name).
static flatbuffers::Offset<fb::Column> EncodeField(flatbuffers::FlatBufferBuilder& b,
                                                   const ReadResult& result, int fi,
                                                   std::string_view name = {}) {
  const Field& f = result.view->fields[fi];
  return EncodeColumn(b, f, name.empty() ? f.name : name, result.rows.size(), [&](size_t i) {
    const ServedValue v = ServedValueOf(result, i, fi);
    return Cell{v.null, v.raw};
  });
}

// A column's bytes on the wire, alignment and table included.
static uint64_t ColumnBytes(const ReadResult& result, int fi, size_t name_bytes, bool exact) {
  const size_t rows = result.rows.size();
  const bool variable = IsVariableWidth(result.view->fields[fi].type.type);
  return ServedBytes(result, fi, exact) + rows /* nulls */ + (variable ? 4 * (rows + 1) : 0) +
         name_bytes + 96;
}

uint64_t GetReplyBytes(const ReadResult& result, bool exact) {
  const size_t rows = result.rows.size();
  uint64_t bytes = 17 * uint64_t{rows} + result.view->QualifiedName().size() + 128;
  for (int fi : result.fields)
    bytes += ColumnBytes(result, fi, result.view->fields[fi].name.size(), exact);
  return bytes;
}

uint64_t TrainingReplyBytes(const TrainingResult& result, bool exact) {
  uint64_t bytes = 128;
  for (const TrainingResult::Feature& f : result.features)
    bytes += ColumnBytes(result.views[f.source], f.field, f.name.size(), exact) + 8;
  return bytes;
}

flatbuffers::Offset<fb::GetReply> EncodeGetReply(flatbuffers::FlatBufferBuilder& b,
                                                 const ReadResult& result) {
  const size_t rows = result.rows.size();
  std::vector<flatbuffers::Offset<fb::Column>> columns;
  columns.reserve(result.fields.size());
  for (int fi : result.fields)
    columns.push_back(EncodeField(b, result, fi));
  auto cols = b.CreateVector(columns);
  // Each vector is filled before the next is created: creating one may
  // move the builder's buffer and with it the previous vector.
  auto found = [&](size_t i) { return result.states[i] == RowState::kFound; };
  int64_t* ages = nullptr;
  auto age_vec = b.CreateUninitializedVector(rows, &ages);
  for (size_t i = 0; i < rows; ++i)
    ages[i] = found(i) ? result.now_ms - result.event_time_ms[i] : -1;
  int64_t* times = nullptr;
  auto time_vec = b.CreateUninitializedVector(rows, &times);
  for (size_t i = 0; i < rows; ++i)
    times[i] = found(i) ? result.event_time_ms[i] : 0;
  uint8_t* states = nullptr;
  auto state_vec = b.CreateUninitializedVector(rows, 1, &states);
  for (size_t i = 0; i < rows; ++i)
    states[i] = static_cast<uint8_t>(result.states[i]);
  auto name = b.CreateString(result.view->QualifiedName());
  fb::GetReplyBuilder reply(b);
  reply.add_view(name);
  reply.add_server_time_ms(result.now_ms);
  reply.add_states(VectorAt<fb::RowState>(state_vec));
  reply.add_event_time_ms(time_vec);
  reply.add_age_ms(age_vec);
  reply.add_columns(cols);
  return reply.Finish();
}

flatbuffers::Offset<fb::TrainingReply> EncodeTrainingReply(flatbuffers::FlatBufferBuilder& b,
                                                           const TrainingResult& result) {
  std::vector<flatbuffers::Offset<fb::Column>> columns;
  std::vector<uint64_t> missing;
  for (const TrainingResult::Feature& f : result.features) {
    columns.push_back(EncodeField(b, result.views[f.source], f.field, f.name));
    missing.push_back(f.missing);
  }
  auto cols = b.CreateVector(columns);
  auto miss = b.CreateVector(missing);
  const size_t rows = result.views.empty() ? 0 : result.views[0].rows.size();
  return fb::CreateTrainingReply(b, static_cast<uint32_t>(rows), cols, miss);
}

flatbuffers::Offset<fb::ViewInfo> EncodeViewInfo(flatbuffers::FlatBufferBuilder& b,
                                                 const ViewSchema& view, const Catalog& catalog) {
  std::vector<flatbuffers::Offset<fb::FieldInfo>> fields;
  for (const Field& f : view.fields)
    fields.push_back(EncodeFieldInfo(b, f));
  const Entity* entity = catalog.FindEntity(view.entity);
  auto name = b.CreateString(view.name);
  auto entity_name = b.CreateString(view.entity);
  auto join_keys = b.CreateVectorOfStrings(entity ? entity->join_keys : std::vector<std::string>{});
  auto field_vec = b.CreateVector(fields);
  auto description = b.CreateString(view.description);
  auto owner = b.CreateString(view.owner);
  auto tags = b.CreateVectorOfStrings(view.tags);
  auto depends = b.CreateVectorOfStrings(view.depends_on);
  auto source = b.CreateString(view.source);
  std::vector<std::string> paths;
  for (const auto& [key, path] : view.key_paths)
    paths.push_back(path);
  auto key_paths = b.CreateVectorOfStrings(paths);
  return fb::CreateViewInfo(b, name, view.version, entity_name, join_keys, field_vec, view.ttl_ms,
                            view.freshness_ms, description, owner, tags, depends, view.retention_ms,
                            source, key_paths);
}

}  // namespace quiver
