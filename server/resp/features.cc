#include "server/resp/features.h"

#include <charconv>
#include <cstring>
#include <utility>

#include "storage/online/entity_key.h"
#include "storage/online/row.h"

namespace quiver::resp {

namespace {

// Appends a number in its shortest exact form (floats read back equal).
template <typename T>
void AppendNumber(std::string* text, T v) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  text->append(buf, ec == std::errc() ? end : buf);
}

// Appends a field's value as text: numbers in decimal, bools as 1 or 0,
// vectors as comma-separated numbers, strings and bytes as they are.
void AppendValue(const Field& f, const RowReader& row, size_t fi, std::string* text) {
  if (IsVariableWidth(f.type.type)) {
    text->append(row.Var(fi));
    return;
  }
  const uint8_t* p = row.FixedPtr(fi);
  switch (f.type.type) {
    case FieldType::kBool:
      text->push_back(*p != 0 ? '1' : '0');
      return;
    case FieldType::kInt32:
      return AppendNumber(text, LoadUnaligned<int32_t>(p));
    case FieldType::kInt64:
      return AppendNumber(text, LoadUnaligned<int64_t>(p));
    case FieldType::kFloat32:
      return AppendNumber(text, LoadUnaligned<float>(p));
    case FieldType::kFloat64:
      return AppendNumber(text, LoadUnaligned<double>(p));
    case FieldType::kFloat32Vector:
      for (uint32_t d = 0; d < f.type.dim; ++d) {
        if (d > 0) text->push_back(',');
        AppendNumber(text, LoadUnaligned<float>(p + 4 * d));
      }
      return;
    default:
      return;
  }
}

}  // namespace

Status ReadFeatureRow(FeatureStore& store, std::string_view key,
                      std::vector<std::string_view>* items, std::string* text) {
  items->clear();
  text->clear();
  const std::string_view rest = key.substr(kFeaturePrefix.size());
  const size_t colon = rest.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon + 1 == rest.size()) {
    return Status::InvalidArgument(
        "feature keys are quiver:{view}:{key}, e.g. "
        "quiver:user_profile:u1 or quiver:user_profile@v2:u1");
  }
  const std::string_view view_name = rest.substr(0, colon);
  QUIVER_ASSIGN_OR_RETURN(ViewRef ref, ParseViewRef(view_name));
  const Catalog& catalog = store.registry().current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* resolved, catalog.Resolve(ref));
  const Entity* entity = catalog.FindEntity(resolved->entity);
  const size_t join_keys = entity != nullptr ? entity->join_keys.size() : 1;
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string_view> parts,
                          SplitJoinedKey(rest.substr(colon + 1), join_keys));
  ReadResult result;
  QUIVER_RETURN_IF_ERROR(
      store.Read({.view = view_name, .fields = {}, .key_parts = parts}, &result));
  if (result.states[0] != RowState::kFound) return Status::Ok();
  const ViewSchema* view = result.view;  // the version the read resolved
  RowReader row(view->layout, result.rows[0]);
  std::vector<std::pair<size_t, size_t>> spans;  // of the values in *text
  std::vector<size_t> set_fields;
  for (size_t fi = 0; fi < view->fields.size(); ++fi) {
    if (!row.present(fi)) continue;
    const size_t begin = text->size();
    AppendValue(view->fields[fi], row, fi, text);
    spans.emplace_back(begin, text->size() - begin);
    set_fields.push_back(fi);
  }
  for (size_t i = 0; i < set_fields.size(); ++i) {
    items->push_back(view->fields[set_fields[i]].name);
    items->push_back(std::string_view(*text).substr(spans[i].first, spans[i].second));
  }
  return Status::Ok();
}

}  // namespace quiver::resp
