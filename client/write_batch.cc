#include <cstring>

#include "client/write_batch_impl.h"

namespace quiver {

namespace {
void PadColumn(WriteBatch::Impl::ColumnData& c, size_t rows) {
  while (c.rows() < rows) {
    if (IsVariableWidth(c.type.type)) {
      c.offsets.push_back(static_cast<uint32_t>(c.data.size()));
    } else {
      c.fixed.resize(c.fixed.size() + FixedWidth(c.type), 0);
    }
    c.nulls.push_back(1);
  }
}
}  // namespace

WriteBatch::Impl::ColumnData* WriteBatch::Impl::ColumnFor(std::string_view field, TypeSpec type) {
  write_id.clear();
  const size_t rows = event_times.size();
  if (rows == 0) {
    if (error.ok()) error = Status::InvalidArgument("WriteBatch: Set before the first Row");
    return nullptr;
  }
  ColumnData* column = nullptr;
  for (ColumnData& c : columns)
    column = c.name == field ? &c : column;
  if (column == nullptr) {
    columns.push_back(ColumnData{std::string(field), type, {}, {0}, {}, {}});
    column = &columns.back();
  }
  if (column->type != type) {
    if (error.ok()) {
      error = Status::InvalidArgument("WriteBatch: field '" + std::string(field) + "' set as " +
                                      TypeName(column->type) + " and as " + TypeName(type));
    }
    return nullptr;
  }
  if (column->rows() == rows) {
    if (error.ok()) {
      error = Status::InvalidArgument("WriteBatch: field '" + std::string(field) +
                                      "' set twice in row " + std::to_string(rows - 1));
    }
    return nullptr;
  }
  PadColumn(*column, rows - 1);
  return column;
}

void WriteBatch::Impl::SetFixed(std::string_view field, TypeSpec type, const void* bytes,
                                size_t width) {
  ColumnData* c = ColumnFor(field, type);
  if (c == nullptr) return;
  const auto* p = static_cast<const uint8_t*>(bytes);
  c->fixed.insert(c->fixed.end(), p, p + width);
  c->nulls.push_back(0);
}

void WriteBatch::Impl::SetVar(std::string_view field, TypeSpec type, std::string_view bytes) {
  ColumnData* c = ColumnFor(field, type);
  if (c == nullptr) return;
  c->data.append(bytes);
  c->offsets.push_back(static_cast<uint32_t>(c->data.size()));
  c->nulls.push_back(0);
}

void WriteBatch::Impl::PadAll(size_t rows) {
  for (ColumnData& c : columns)
    PadColumn(c, rows);
}

WriteBatch::WriteBatch(std::string view) : impl_(std::make_unique<Impl>()) {
  impl_->view = std::move(view);
}
WriteBatch::~WriteBatch() = default;
WriteBatch::WriteBatch(WriteBatch&&) noexcept = default;
WriteBatch& WriteBatch::operator=(WriteBatch&&) noexcept = default;

WriteBatch& WriteBatch::Row(std::vector<std::string> key, int64_t event_time_ms) {
  for (std::string& part : key)
    impl_->key_parts.push_back(std::move(part));
  impl_->event_times.push_back(event_time_ms);
  impl_->write_id.clear();
  return *this;
}

template <typename T>
static void SetScalar(WriteBatch::Impl& impl, std::string_view field, FieldType type, T v) {
  impl.SetFixed(field, TypeSpec{type, 0}, &v, sizeof v);
}

WriteBatch& WriteBatch::Set(std::string_view f, bool v) {
  const uint8_t byte = v ? 1 : 0;
  impl_->SetFixed(f, TypeSpec{FieldType::kBool, 0}, &byte, 1);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, int32_t v) {
  SetScalar(*impl_, f, FieldType::kInt32, v);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, int64_t v) {
  SetScalar(*impl_, f, FieldType::kInt64, v);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, float v) {
  SetScalar(*impl_, f, FieldType::kFloat32, v);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, double v) {
  SetScalar(*impl_, f, FieldType::kFloat64, v);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, std::string_view v) {
  impl_->SetVar(f, TypeSpec{FieldType::kString, 0}, v);
  return *this;
}
WriteBatch& WriteBatch::SetBytes(std::string_view f, std::string_view v) {
  impl_->SetVar(f, TypeSpec{FieldType::kBytes, 0}, v);
  return *this;
}
WriteBatch& WriteBatch::Set(std::string_view f, std::span<const float> v) {
  impl_->SetFixed(f, TypeSpec{FieldType::kFloat32Vector, static_cast<uint32_t>(v.size())}, v.data(),
                  v.size_bytes());
  return *this;
}

size_t WriteBatch::rows() const {
  return impl_->event_times.size();
}
const std::string& WriteBatch::view() const {
  return impl_->view;
}

}  // namespace quiver
