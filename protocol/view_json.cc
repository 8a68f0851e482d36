#include "protocol/view_json.h"

#include <string>
#include <vector>

#include "protocol/json_text.h"

namespace quiver {

namespace {

void AppendStringList(const std::vector<std::string>& items, std::string* out) {
  out->push_back('[');
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out->push_back(',');
    AppendJsonString(items[i], out);
  }
  out->push_back(']');
}

}  // namespace

std::string ViewJson(const ViewInfo& v) {
  std::string out = "{\"name\":";
  AppendJsonString(v.name, &out);
  out += ",\"version\":" + std::to_string(v.version) + ",\"entity\":";
  AppendJsonString(v.entity, &out);
  out += ",\"join_keys\":";
  AppendStringList(v.join_keys, &out);
  out += ",\"ttl_ms\":" + std::to_string(v.ttl_ms) +
         ",\"freshness_ms\":" + std::to_string(v.freshness_ms) +
         ",\"retention_ms\":" + std::to_string(v.retention_ms) + ",\"owner\":";
  AppendJsonString(v.owner, &out);
  out += ",\"description\":";
  AppendJsonString(v.description, &out);
  out += ",\"tags\":";
  AppendStringList(v.tags, &out);
  out += ",\"depends_on\":";
  AppendStringList(v.depends_on, &out);
  if (!v.source.empty()) {
    out += ",\"source\":";
    AppendJsonString(v.source, &out);
    out += ",\"key_paths\":";
    AppendStringList(v.key_paths, &out);
  }
  out += ",\"fields\":[";
  for (size_t i = 0; i < v.fields.size(); ++i) {
    const FieldInfo& f = v.fields[i];
    out += i > 0 ? ",{\"name\":" : "{\"name\":";
    AppendJsonString(f.name, &out);
    out += ",\"type\":";
    AppendJsonString(TypeName(f.type), &out);
    out += ",\"default\":" + (f.default_json.empty() ? std::string("null") : f.default_json);
    out += ",\"description\":";
    AppendJsonString(f.description, &out);
    if (!f.agg.empty()) {
      out += ",\"agg\":";
      AppendJsonString(f.agg, &out);
      out += ",\"of\":";
      AppendJsonString(f.of, &out);
      out += ",\"window_ms\":" + std::to_string(f.window_ms) +
             ",\"hop_ms\":" + std::to_string(f.hop_ms);
    }
    out += "}";
  }
  return out + "]}";
}

}  // namespace quiver
