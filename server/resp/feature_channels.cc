#include "server/resp/feature_channels.h"

#include "protocol/json_text.h"
#include "service/value_text.h"
#include "storage/online/entity_key.h"
#include "storage/online/row.h"

namespace quiver::resp {

namespace {

std::string Channel(std::string_view name) {
  return std::string(kFeatureChannelPrefix).append(name);
}

// {"view":…,"version":…,"key":…, without its closing brace.
std::string MessageHead(const ViewSchema& view, std::string_view key, size_t key_values) {
  std::string out = "{\"view\":";
  AppendJsonString(view.name, &out);
  out.append(",\"version\":").append(std::to_string(view.version)).append(",\"key\":");
  AppendJsonString(JoinedKey(key, key_values), &out);
  return out;
}

}  // namespace

bool FeatureChannels::Wants(const ViewSchema& view) const {
  if (!pubsub_.AnyForFeatures()) return false;
  return pubsub_.Reaches(Channel(view.name)) || pubsub_.Reaches(Channel(view.QualifiedName()));
}

std::string FeatureChannels::RowMessage(const ViewSchema& view, std::string_view key,
                                        size_t key_values, int64_t event_time_ms,
                                        std::span<const uint8_t> row, bool online) {
  std::string out = MessageHead(view, key, key_values);
  out.append(",\"event_time_ms\":").append(std::to_string(event_time_ms));
  out.append(",\"online\":").append(online ? "true" : "false").append(",\"row\":{");
  const RowReader reader(view.layout, row);
  bool first = true;
  for (size_t fi = 0; fi < view.fields.size(); ++fi) {
    if (!reader.present(fi)) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(view.fields[fi].name, &out);
    out += ':';
    AppendFieldValue(view.fields[fi], &reader, fi, ValueFormat::kJson, &out);
  }
  out += "}}";
  return out;
}

void FeatureChannels::Written(const ViewSchema& view, std::string_view key, size_t key_values,
                              int64_t event_time_ms, std::span<const uint8_t> row, bool online) {
  Publish(view, RowMessage(view, key, key_values, event_time_ms, row, online));
}

void FeatureChannels::Deleted(const ViewSchema& view, std::string_view key, size_t key_values) {
  Publish(view, MessageHead(view, key, key_values) + ",\"deleted\":true}");
}

void FeatureChannels::Publish(const ViewSchema& view, const std::string& message) {
  pubsub_.Publish(Channel(view.name), message);
  pubsub_.Publish(Channel(view.QualifiedName()), message);
}

}  // namespace quiver::resp
