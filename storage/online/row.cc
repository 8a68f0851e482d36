#include "storage/online/row.h"

#include <type_traits>
#include <variant>

namespace quiver {

namespace {
uint32_t LoadU32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
}  // namespace

std::string_view RowReader::Var(size_t field) const {
  const int32_t vi = layout_->var_index(field);
  const uint8_t* table = row_.data() + layout_->var_table_offset();
  const uint8_t* data = table + 4 * layout_->var_count();
  const uint32_t begin = vi == 0 ? 0 : LoadU32(table + 4 * (vi - 1));
  const uint32_t end = LoadU32(table + 4 * vi);
  return {reinterpret_cast<const char*>(data + begin), end - begin};
}

RowBuilder::RowBuilder(const ViewSchema& view, std::span<const uint8_t> base)
    : view_(&view), fixed_(view.layout.var_table_offset(), 0), vars_(view.layout.var_count()) {
  if (base.empty()) return;
  std::memcpy(fixed_.data(), base.data(), fixed_.size());
  RowReader reader(view.layout, base);
  for (size_t f = 0; f < view.fields.size(); ++f) {
    const int32_t vi = view.layout.var_index(f);
    if (vi >= 0) vars_[vi] = reader.Var(f);
  }
}

void RowBuilder::SetFixed(size_t field, const void* bytes, size_t width) {
  std::memcpy(fixed_.data() + view_->layout.offset(field), bytes, width);
  MarkPresent(field);
}

void RowBuilder::SetVar(size_t field, std::string_view bytes) {
  vars_[view_->layout.var_index(field)] = bytes;
  MarkPresent(field);
}

void RowBuilder::SetValue(size_t field, const Value& v) {
  std::visit(
      [&](const auto& x) {
        using T = std::decay_t<decltype(x)>;
        if constexpr (std::is_same_v<T, std::monostate>) {
          return;
        } else if constexpr (std::is_same_v<T, std::string>) {
          SetVar(field, x);
        } else if constexpr (std::is_same_v<T, std::vector<float>>) {
          SetFixed(field, x.data(), x.size() * sizeof(float));
        } else {
          SetFixed(field, &x, sizeof(T));
        }
      },
      v);
}

size_t RowBuilder::Size() const {
  size_t n = view_->layout.base_size();
  for (std::string_view v : vars_)
    n += v.size();
  return n;
}

void RowBuilder::WriteTo(uint8_t* out) const {
  std::memcpy(out, fixed_.data(), fixed_.size());
  uint8_t* table = out + fixed_.size();
  uint8_t* data = table + 4 * vars_.size();
  uint32_t end = 0;
  for (size_t i = 0; i < vars_.size(); ++i) {
    if (!vars_[i].empty()) std::memcpy(data + end, vars_[i].data(), vars_[i].size());
    end += static_cast<uint32_t>(vars_[i].size());
    std::memcpy(table + 4 * i, &end, 4);
  }
}

}  // namespace quiver
