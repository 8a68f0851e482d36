#include "server/resp/features.h"

#include <utility>

#include "service/value_text.h"
#include "storage/online/entity_key.h"
#include "storage/online/row.h"

namespace quiver::resp {

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
  const Catalog& catalog = store.registry().current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* resolved, catalog.ResolveName(view_name));
  const size_t join_keys = catalog.JoinKeyCount(*resolved);
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
    AppendFieldValue(view->fields[fi], &row, fi, ValueFormat::kText, text);
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
