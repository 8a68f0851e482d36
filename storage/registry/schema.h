// Entities, feature views and the packed row layout derived from a view's
// fields. A ViewSchema is immutable once the registry publishes it, so any
// thread may read it while it holds the catalog that owns it.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver {

// A typed value: a field default, or a value a text front end parsed.
// std::string holds both `string` and `bytes`.
using Value = std::variant<std::monostate, bool, int32_t, int64_t, float, double, std::string,
                           std::vector<float>>;

// The zero value of a type: 0, false, "" or N zeros.
Value ZeroValue(TypeSpec spec);

struct Entity {
  std::string name;
  std::vector<std::string> join_keys;

  bool operator==(const Entity&) const = default;
};

struct ExpectedStats {
  std::optional<double> mean, stddev, min, max;
  bool operator==(const ExpectedStats&) const = default;
};

// Quality checks declared on a field (docs/features.md#quality-checks):
// every written value outside [min, max] or not among `allowed` counts as a
// violation; a window whose share of nulls exceeds max_null_rate fails.
struct QualityChecks {
  std::optional<double> max_null_rate, min, max;
  std::vector<std::string> allowed;  // sorted; empty: any value
  bool operator==(const QualityChecks&) const = default;
  bool empty() const { return !max_null_rate && !min && !max && allowed.empty(); }
};

// When a field counts as drifting from its baseline (docs/monitoring.md#drift).
struct DriftThresholds {
  double psi = 0.2;          // population stability index
  double ks = 0.1;           // Kolmogorov-Smirnov statistic
  double mean_shift = 0.5;   // |mean - baseline mean| / baseline stddev
  uint64_t min_count = 100;  // fewer values in the window: not judged
  bool operator==(const DriftThresholds&) const = default;
};

// How ingestion computes a field from its view's source events
// (docs/features.md#sources-and-windowed-features).
enum class FieldAgg : uint8_t { kNone = 0, kLast, kCount, kSum, kMean, kMin, kMax };
std::string_view FieldAggName(FieldAgg agg);

struct FieldMapping {
  FieldAgg agg = FieldAgg::kNone;  // kNone: the field is not computed from a source
  std::string of;                  // JSON path of the event's value; empty for count
  int64_t window_ms = 0;           // 0: every event since the first
  int64_t hop_ms = 0;              // tile length of a window; 0 without a window
  bool operator==(const FieldMapping&) const = default;
};

// A stream of events that views compute their fields from.
struct Source {
  std::string name;
  std::string topic;              // Kafka topic
  std::string dead_letter_topic;  // where malformed events are copied; empty: none
  std::string event_time;         // JSON path of the event time (Unix ms or RFC 3339)
  bool operator==(const Source&) const = default;
};

struct Field {
  std::string name;
  TypeSpec type;
  Value default_value;  // always holds the field type's alternative
  std::string description;
  ExpectedStats expected;
  QualityChecks checks;
  DriftThresholds drift;
  // default_value as it is packed in a row (set by FinalizeView), so that
  // serving a default is the same copy as serving a value.
  std::string default_raw;
  FieldMapping mapping;
};

// Where each field lives in a packed row. The row block is:
//   [present bitmap: 1 bit per field, set = the row carries a value]
//   [fixed-width values at fixed offsets, 8-byte ones first]
//   [u32 end offset of each variable-width value][variable-width bytes]
// so reading a fixed field is a load at a known offset and serving a row is
// a copy of the block.
class RowLayout {
 public:
  RowLayout() = default;
  explicit RowLayout(const std::vector<Field>& fields);

  size_t field_count() const { return offsets_.size(); }
  size_t bitmap_bytes() const { return (offsets_.size() + 7) / 8; }
  // Byte offset of a fixed-width field; unused for variable-width ones.
  uint32_t offset(size_t field) const { return offsets_[field]; }
  // Index among the variable-width fields, or -1.
  int32_t var_index(size_t field) const { return var_index_[field]; }
  size_t var_count() const { return var_count_; }
  uint32_t var_table_offset() const { return var_table_; }
  // Size of a row whose variable-width values are all empty.
  size_t base_size() const { return var_table_ + 4 * var_count_; }

 private:
  std::vector<uint32_t> offsets_;
  std::vector<int32_t> var_index_;
  size_t var_count_ = 0;
  uint32_t var_table_ = 0;
};

struct ViewSchema {
  std::string name;
  uint32_t version = 1;
  std::string entity;
  std::vector<Field> fields;
  int64_t ttl_ms = 0;        // 0: values never expire
  int64_t freshness_ms = 0;  // SLA; 0: none
  int64_t retention_ms = 0;  // history older than this is dropped (never the newest); 0: keep all
  std::string description;
  std::string owner;
  std::vector<std::string> tags;
  std::vector<std::string> depends_on;
  // Set for a view computed from a source: the source's name and, per join
  // key, the JSON path of its value in an event (in the entity's key order
  // once the registry has accepted the view).
  std::string source;
  std::vector<std::pair<std::string, std::string>> key_paths;

  // Assigned by the registry; stable for the life of the data directory.
  uint32_t id = 0;
  RowLayout layout;

  // Index of the named field, or -1.
  int FieldIndex(std::string_view field_name) const;
  // "user_profile@v2".
  std::string QualifiedName() const;
  // True if rows written under `other` read the same under this schema
  // (entity, ttl, field names, types, defaults and how a source computes
  // them); metadata may differ.
  bool SameRowSchema(const ViewSchema& other) const;
};

// Computes what the registry derives from a view's definition: its row
// layout and every field's default_raw.
void FinalizeView(ViewSchema& view);

// A reader's reference to a view: "name" (latest version) or "name@vN".
struct ViewRef {
  std::string name;
  uint32_t version = 0;  // 0: the latest
};
Result<ViewRef> ParseViewRef(std::string_view text);

}  // namespace quiver
