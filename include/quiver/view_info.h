// ViewInfo: what a feature view is, as the server describes it to clients:
// `Client::ListViews`/`Describe` on the native port, and `GET /v1/views` on
// the HTTP port, which both print it in one JSON shape (protocol/view_json.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "quiver/types.h"

namespace quiver {

struct FieldInfo {
  std::string name;
  TypeSpec type;
  std::string default_json;  // the default value as JSON
  std::string description;
  // Set when the view computes the field from its source.
  std::string agg;  // count, sum, mean, min, max or last; empty: written by clients
  std::string of;   // JSON path of the value
  int64_t window_ms = 0, hop_ms = 0;
};

struct ViewInfo {
  std::string name;
  uint32_t version = 0;
  std::string entity;
  std::vector<std::string> join_keys;
  std::vector<FieldInfo> fields;
  int64_t ttl_ms = 0;
  int64_t freshness_ms = 0;
  std::string description;
  std::string owner;
  std::vector<std::string> tags;
  std::vector<std::string> depends_on;
  int64_t retention_ms = 0;
  std::string source;                  // empty: written by clients
  std::vector<std::string> key_paths;  // with a source: per join key, its JSON path
};

}  // namespace quiver
