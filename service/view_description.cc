#include "service/view_description.h"

#include "service/value_text.h"

namespace quiver {

namespace {

FieldInfo DescribeField(const ViewSchema& view, size_t fi) {
  const Field& f = view.fields[fi];
  FieldInfo info{.name = f.name, .type = f.type, .description = f.description};
  AppendFieldValue(f, nullptr, fi, ValueFormat::kJson, &info.default_json);
  const FieldMapping& m = f.mapping;
  if (m.agg != FieldAgg::kNone) {
    info.agg = FieldAggName(m.agg);
    info.of = m.of;
    info.window_ms = m.window_ms;
    info.hop_ms = m.hop_ms;
  }
  return info;
}

}  // namespace

ViewInfo DescribeView(const ViewSchema& view, const Catalog& catalog) {
  ViewInfo info{.name = view.name,
                .version = view.version,
                .entity = view.entity,
                .ttl_ms = view.ttl_ms,
                .freshness_ms = view.freshness_ms,
                .description = view.description,
                .owner = view.owner,
                .tags = view.tags,
                .depends_on = view.depends_on,
                .retention_ms = view.retention_ms,
                .source = view.source};
  if (const Entity* entity = catalog.FindEntity(view.entity)) info.join_keys = entity->join_keys;
  for (size_t i = 0; i < view.fields.size(); ++i)
    info.fields.push_back(DescribeField(view, i));
  for (const auto& [key, path] : view.key_paths)
    info.key_paths.push_back(path);
  return info;
}

}  // namespace quiver
