#include "server/cluster/feature_write.h"

#include <cstring>

#include "server/cluster/slots.h"
#include "util/byte_codec.h"

namespace quiver::cluster {

namespace {

void AppendSized(std::string_view bytes, std::string* out) {
  AppendVarint(bytes.size(), out);
  out->append(bytes);
}

Status Corrupt(std::string_view what) {
  return Status::InvalidArgument("corrupt changelog record: " + std::string(what));
}

// Row i's value of a column, as bytes.
std::string_view ValueOf(const ColumnInput& c, uint32_t i) {
  const size_t width = FixedWidth(c.type);
  if (width > 0) {
    return {reinterpret_cast<const char*>(c.fixed.data()) + i * width, width};
  }
  return {reinterpret_cast<const char*>(c.data.data()) + c.offsets[i],
          c.offsets[i + 1] - c.offsets[i]};
}

void EncodeKeys(std::string_view view, std::span<const std::string_view> key_parts, size_t keys,
                std::span<const uint32_t> rows, std::string* out) {
  AppendSized(view, out);
  AppendVarint(keys, out);
  AppendVarint(rows.size(), out);
  for (uint32_t r : rows) {
    for (size_t k = 0; k < keys; ++k)
      AppendSized(key_parts[r * keys + k], out);
  }
}

// The view, key count and rows' key parts; *rows their number.
Status DecodeKeys(ByteReader& in, std::string_view* view, std::vector<std::string_view>* parts,
                  uint64_t* rows) {
  uint64_t keys = 0;
  if (!in.Sized(view) || !in.Varint(&keys) || !in.Varint(rows)) return Corrupt("short keys");
  // Every key part takes at least a byte: counts beyond the bytes left lie.
  if (keys == 0 || keys > 64 || *rows > in.remaining() || *rows * keys > in.remaining()) {
    return Corrupt("key counts");
  }
  parts->resize(static_cast<size_t>(*rows * keys));
  for (std::string_view& p : *parts) {
    if (!in.Sized(&p)) return Corrupt("key part past the record's end");
  }
  return Status::Ok();
}

Status DecodeColumn(ByteReader& in, uint64_t rows, DecodedPut* out, size_t c) {
  ColumnInput& col = out->columns[c];
  uint8_t type = 0, has_nulls = 0;
  uint32_t dim = 0;
  if (!in.Sized(&col.field) || !in.Get(&type) || !in.Get(&dim) || !in.Get(&has_nulls) ||
      type > static_cast<uint8_t>(FieldType::kFloat32Vector) || has_nulls > 1) {
    return Corrupt("column header");
  }
  col.type = {static_cast<FieldType>(type), dim};
  const size_t width = FixedWidth(col.type);
  if (col.type.type == FieldType::kFloat32Vector && (dim == 0 || dim > 65536)) {
    return Corrupt("vector dimension");
  }
  std::vector<uint32_t>& offsets = out->offsets[c];
  std::string& bytes = width > 0 ? out->fixed[c] : out->data[c];
  if (width == 0) offsets.push_back(0);
  for (uint64_t r = 0; r < rows; ++r) {
    std::string_view v;
    if (!in.Sized(&v) || (width > 0 && v.size() != width)) return Corrupt("column value");
    bytes.append(v);
    if (width == 0) {
      if (bytes.size() > UINT32_MAX) return Corrupt("column too large");
      offsets.push_back(static_cast<uint32_t>(bytes.size()));
    }
  }
  if (has_nulls) {
    std::string_view nulls;
    if (!in.View(static_cast<size_t>(rows), &nulls)) return Corrupt("nulls");
    out->nulls[c].assign(nulls.begin(), nulls.end());
  }
  const auto* base = reinterpret_cast<const uint8_t*>(bytes.data());
  if (width > 0) {
    col.fixed = {base, bytes.size()};
  } else {
    col.offsets = offsets;
    col.data = {base, bytes.size()};
  }
  col.nulls = out->nulls[c];
  return Status::Ok();
}

}  // namespace

std::vector<PartitionRows> SplitRows(std::span<const std::string_view> key_parts, size_t keys,
                                     int partitions) {
  std::vector<int> index(static_cast<size_t>(partitions), -1);
  std::vector<PartitionRows> out;
  const size_t rows = keys == 0 ? 0 : key_parts.size() / keys;
  std::string entity;
  for (size_t r = 0; r < rows; ++r) {
    entity.assign(key_parts[r * keys]);
    for (size_t k = 1; k < keys; ++k)
      entity.append(":").append(key_parts[r * keys + k]);
    const int p = PartitionOf(entity, partitions);
    if (index[static_cast<size_t>(p)] < 0) {
      index[static_cast<size_t>(p)] = static_cast<int>(out.size());
      out.push_back({p, {}});
    }
    out[static_cast<size_t>(index[static_cast<size_t>(p)])].rows.push_back(
        static_cast<uint32_t>(r));
  }
  return out;
}

void EncodePut(const WriteRequest& w, std::string_view view, size_t keys,
               std::span<const uint32_t> rows, std::string* out) {
  EncodeKeys(view, w.key_parts, keys, rows, out);
  const uint8_t times = w.event_time_ms.empty() ? 0 : w.event_time_ms.size() == 1 ? 1 : 2;
  Put<uint8_t>(out, times);
  if (times == 1) Put<int64_t>(out, w.event_time_ms[0]);
  for (size_t i = 0; times == 2 && i < rows.size(); ++i)
    Put<int64_t>(out, w.event_time_ms[rows[i]]);
  AppendVarint(w.columns.size(), out);
  for (const ColumnInput& c : w.columns) {
    AppendSized(c.field, out);
    Put<uint8_t>(out, static_cast<uint8_t>(c.type.type));
    Put<uint32_t>(out, c.type.dim);
    Put<uint8_t>(out, c.nulls.empty() ? 0 : 1);
    for (uint32_t r : rows)
      AppendSized(ValueOf(c, r), out);
    for (size_t i = 0; !c.nulls.empty() && i < rows.size(); ++i)
      Put<uint8_t>(out, c.nulls[rows[i]]);
  }
}

void EncodeDelete(std::string_view view, std::span<const std::string_view> key_parts, size_t keys,
                  std::span<const uint32_t> rows, std::string* out) {
  EncodeKeys(view, key_parts, keys, rows, out);
}

Status DecodePut(std::string_view body, DecodedPut* out) {
  ByteReader in(body);
  uint64_t rows = 0, columns = 0;
  QUIVER_RETURN_IF_ERROR(DecodeKeys(in, &out->request.view, &out->key_parts, &rows));
  uint8_t times = 0;
  if (!in.Get(&times) || times > 2) return Corrupt("event times");
  out->times.resize(times == 0 ? 0 : times == 1 ? 1 : static_cast<size_t>(rows));
  if (out->times.size() * 8 > in.remaining()) return Corrupt("event times");
  for (int64_t& t : out->times)
    in.Get(&t);
  if (!in.Varint(&columns) || columns > in.remaining()) return Corrupt("column count");
  const auto n = static_cast<size_t>(columns);
  out->columns.assign(n, ColumnInput{});
  out->fixed.assign(n, {});
  out->offsets.assign(n, {});
  out->data.assign(n, {});
  out->nulls.assign(n, {});
  for (size_t c = 0; c < n; ++c)
    QUIVER_RETURN_IF_ERROR(DecodeColumn(in, rows, out, c));
  if (!in.done()) return Corrupt("bytes after the last column");
  out->request.key_parts = out->key_parts;
  out->request.event_time_ms = out->times;
  out->request.columns = out->columns;
  return Status::Ok();
}

Status DecodeDelete(std::string_view body, DecodedDelete* out) {
  ByteReader in(body);
  uint64_t rows = 0;
  QUIVER_RETURN_IF_ERROR(DecodeKeys(in, &out->view, &out->key_parts, &rows));
  if (!in.done()) return Corrupt("bytes after the last key");
  return Status::Ok();
}

}  // namespace quiver::cluster
