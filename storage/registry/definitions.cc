#include "storage/registry/definitions.h"

#include <charconv>
#include <set>
#include <string>

#include <yaml-cpp/yaml.h>

#include "util/json_path.h"

namespace quiver {

namespace {

// Thrown only inside this file and turned into a Status at its one exit.
struct DefinitionError {
  std::string message;
};

[[noreturn]] void Fail(const std::string& where, const std::string& what) {
  throw DefinitionError{where + ": " + what};
}

void CheckKeys(const YAML::Node& node, const std::string& where,
               std::initializer_list<std::string_view> allowed) {
  if (!node.IsMap()) Fail(where, "expected a mapping");
  for (const auto& kv : node) {
    const std::string key = kv.first.as<std::string>();
    bool known = false;
    for (std::string_view a : allowed)
      known = known || key == a;
    if (!known) Fail(where, "unknown key '" + key + "'");
  }
}

std::string RequiredString(const YAML::Node& node, const char* key, const std::string& where) {
  const YAML::Node v = node[key];
  if (!v || !v.IsScalar() || v.Scalar().empty()) Fail(where, std::string("missing '") + key + "'");
  return v.Scalar();
}

std::string OptionalString(const YAML::Node& node, const char* key, const std::string& where) {
  const YAML::Node v = node[key];
  if (!v) return {};
  if (!v.IsScalar()) Fail(where, std::string("'") + key + "' must be a string");
  return v.Scalar();
}

std::vector<std::string> StringList(const YAML::Node& node, const char* key,
                                    const std::string& where) {
  std::vector<std::string> out;
  const YAML::Node v = node[key];
  if (!v) return out;
  if (!v.IsSequence()) Fail(where, std::string("'") + key + "' must be a list");
  for (const auto& item : v) {
    if (!item.IsScalar()) Fail(where, std::string("'") + key + "' must be a list of strings");
    out.push_back(item.Scalar());
  }
  return out;
}

void CheckName(const std::string& name, const std::string& where) {
  if (!IsValidName(name)) {
    Fail(where, "invalid name '" + name + "' (use 1-128 characters of A-Z a-z 0-9 _ -)");
  }
}

int64_t DurationKey(const YAML::Node& node, const char* key, const std::string& where) {
  const YAML::Node v = node[key];
  if (!v) return 0;
  if (!v.IsScalar()) Fail(where, std::string("'") + key + "' must be a duration like 7d");
  Result<int64_t> ms = ParseDuration(v.Scalar());
  if (!ms.ok()) Fail(where, std::string("'") + key + "': " + ms.status().message());
  return *ms;
}

double Number(const YAML::Node& v, const std::string& where) {
  double d = 0;
  if (!v.IsScalar() || !YAML::convert<double>::decode(v, d)) {
    Fail(where, "expected a number, got '" + (v.IsScalar() ? v.Scalar() : "a collection") + "'");
  }
  return d;
}

template <typename Int>
Int Integer(const YAML::Node& v, const std::string& where) {
  Int i = 0;
  const std::string& s = v.IsScalar() ? v.Scalar() : std::string();
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), i);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) {
    Fail(where, "expected an integer in range, got '" + s + "'");
  }
  return i;
}

Value ParseValue(const YAML::Node& v, TypeSpec type, const std::string& where) {
  switch (type.type) {
    case FieldType::kBool: {
      bool b = false;
      if (!v.IsScalar() || !YAML::convert<bool>::decode(v, b))
        Fail(where, "expected true or false");
      return b;
    }
    case FieldType::kInt32:
      return Integer<int32_t>(v, where);
    case FieldType::kInt64:
      return Integer<int64_t>(v, where);
    case FieldType::kFloat32:
      return static_cast<float>(Number(v, where));
    case FieldType::kFloat64:
      return Number(v, where);
    case FieldType::kString:
    case FieldType::kBytes:
      if (!v.IsScalar()) Fail(where, "expected a string");
      return v.Scalar();
    case FieldType::kFloat32Vector: {
      if (v.IsScalar()) return std::vector<float>(type.dim, static_cast<float>(Number(v, where)));
      if (!v.IsSequence() || v.size() != type.dim) {
        Fail(where, "expected a number or a list of " + std::to_string(type.dim) + " numbers");
      }
      std::vector<float> out;
      for (const auto& x : v)
        out.push_back(static_cast<float>(Number(x, where)));
      return out;
    }
  }
  return std::monostate{};
}

ExpectedStats ParseExpected(const YAML::Node& node, const std::string& where) {
  ExpectedStats e;
  if (!node) return e;
  CheckKeys(node, where + ", expected", {"mean", "stddev", "min", "max"});
  auto get = [&](const char* k, std::optional<double>& out) {
    if (node[k]) out = Number(node[k], where + ", expected." + k);
  };
  get("mean", e.mean);
  get("stddev", e.stddev);
  get("min", e.min);
  get("max", e.max);
  return e;
}

bool IsNumeric(FieldType t) {
  return t == FieldType::kInt32 || t == FieldType::kInt64 || t == FieldType::kFloat32 ||
         t == FieldType::kFloat64;
}

QualityChecks ParseChecks(const YAML::Node& node, TypeSpec type, const std::string& where) {
  QualityChecks c;
  if (!node) return c;
  const std::string at = where + ", checks";
  CheckKeys(node, at, {"max_null_rate", "min", "max", "allowed"});
  if (node["max_null_rate"]) {
    c.max_null_rate = Number(node["max_null_rate"], at + ".max_null_rate");
    if (*c.max_null_rate < 0 || *c.max_null_rate > 1) Fail(at, "max_null_rate must be in [0, 1]");
  }
  if (node["min"] || node["max"]) {
    if (!IsNumeric(type.type) && type.type != FieldType::kFloat32Vector) {
      Fail(at, "min and max need a numeric type, not " + TypeName(type));
    }
    if (node["min"]) c.min = Number(node["min"], at + ".min");
    if (node["max"]) c.max = Number(node["max"], at + ".max");
    if (c.min && c.max && *c.min > *c.max) Fail(at, "min is greater than max");
  }
  if (node["allowed"]) {
    if (type.type != FieldType::kString) Fail(at, "allowed needs a string field");
    c.allowed = StringList(node, "allowed", at);
    if (c.allowed.empty()) Fail(at, "allowed is empty (omit it to allow any value)");
    std::sort(c.allowed.begin(), c.allowed.end());
    c.allowed.erase(std::unique(c.allowed.begin(), c.allowed.end()), c.allowed.end());
  }
  return c;
}

DriftThresholds ParseDrift(const YAML::Node& node, const std::string& where) {
  DriftThresholds d;
  if (!node) return d;
  const std::string at = where + ", drift";
  CheckKeys(node, at, {"psi", "ks", "mean_shift", "min_count"});
  auto get = [&](const char* k, double& out) {
    if (!node[k]) return;
    out = Number(node[k], at + "." + k);
    if (!(out > 0)) Fail(at, std::string(k) + " must be positive");
  };
  get("psi", d.psi);
  get("ks", d.ks);
  get("mean_shift", d.mean_shift);
  if (node["min_count"]) d.min_count = Integer<uint64_t>(node["min_count"], at + ".min_count");
  return d;
}

std::string JsonPath(const YAML::Node& node, const char* key, const std::string& where) {
  std::string path = RequiredString(node, key, where);
  Result<std::string> pointer = JsonPathToPointer(path);
  if (!pointer.ok()) Fail(where, pointer.status().message());
  return path;
}

FieldAgg ParseAgg(const std::string& text, const std::string& where) {
  for (FieldAgg a : {FieldAgg::kLast, FieldAgg::kCount, FieldAgg::kSum, FieldAgg::kMean,
                     FieldAgg::kMin, FieldAgg::kMax}) {
    if (text == FieldAggName(a)) return a;
  }
  Fail(where, "unknown agg '" + text + "' (expected count, sum, mean, min, max or last)");
}

// Chronon's defaults: a day for windows of 12 days or more, an hour for 12
// hours or more, five minutes below; never longer than the window.
int64_t DefaultHop(int64_t window_ms) {
  constexpr int64_t kHour = 3'600'000, kDay = 24 * kHour;
  const int64_t hop = window_ms >= 12 * kDay ? kDay : window_ms >= 12 * kHour ? kHour : 300'000;
  return std::min(hop, window_ms);
}

FieldMapping ParseMapping(const YAML::Node& node, const Field& f, const std::string& where) {
  FieldMapping m;
  if (!node["agg"] && !node["of"]) {
    if (node["window"] || node["hop"]) Fail(where, "'window' and 'hop' need an 'agg'");
    return m;
  }
  m.agg = node["agg"] ? ParseAgg(RequiredString(node, "agg", where), where) : FieldAgg::kLast;
  if (m.agg == FieldAgg::kCount) {
    if (node["of"]) Fail(where, "count takes no 'of' (it counts events)");
  } else {
    m.of = JsonPath(node, "of", where);
  }
  if (m.agg != FieldAgg::kLast && !IsNumeric(f.type.type)) {
    Fail(where,
         std::string(FieldAggName(m.agg)) + " needs a numeric type, not " + TypeName(f.type));
  }
  m.window_ms = DurationKey(node, "window", where);
  m.hop_ms = DurationKey(node, "hop", where);
  constexpr int64_t kTenYears = 3650 * int64_t{86'400'000};
  if (m.window_ms > kTenYears) Fail(where, "'window' is longer than 3650d");
  if (m.window_ms == 0) {
    if (m.hop_ms != 0) Fail(where, "'hop' needs a 'window'");
    return m;
  }
  if (m.hop_ms == 0) m.hop_ms = DefaultHop(m.window_ms);
  if (m.hop_ms > m.window_ms) Fail(where, "'hop' is longer than 'window'");
  if (m.window_ms / m.hop_ms > 10'000) {
    Fail(where, "a window of more than 10,000 hops (make 'hop' longer)");
  }
  return m;
}

Field ParseField(const YAML::Node& node, const std::string& view_where) {
  CheckKeys(node, view_where + ", field",
            {"name", "type", "default", "description", "expected", "checks", "drift", "agg", "of",
             "window", "hop"});
  Field f;
  f.name = RequiredString(node, "name", view_where + ", field");
  const std::string where = view_where + ", field " + f.name;
  CheckName(f.name, where);
  Result<TypeSpec> type = ParseTypeName(RequiredString(node, "type", where));
  if (!type.ok()) Fail(where, type.status().message());
  f.type = *type;
  f.default_value = node["default"] ? ParseValue(node["default"], f.type, where + ", default")
                                    : ZeroValue(f.type);
  f.description = OptionalString(node, "description", where);
  f.expected = ParseExpected(node["expected"], where);
  f.checks = ParseChecks(node["checks"], f.type, where);
  f.drift = ParseDrift(node["drift"], where);
  f.mapping = ParseMapping(node, f, where);
  return f;
}

void ParseViewSource(const YAML::Node& node, ViewSchema& v, const std::string& where) {
  v.source = OptionalString(node, "source", where);
  const YAML::Node keys = node["keys"];
  if (v.source.empty()) {
    if (keys) Fail(where, "'keys' maps a source's events; the view has no 'source'");
    for (const Field& f : v.fields) {
      if (f.mapping.agg != FieldAgg::kNone) {
        Fail(where + ", field " + f.name, "'agg' and 'of' need the view to have a 'source'");
      }
    }
    return;
  }
  if (!keys || !keys.IsMap() || keys.size() == 0) {
    Fail(where, "'keys' must map each join key to a JSON path, e.g. {user_id: \"$.userId\"}");
  }
  for (const auto& kv : keys) {
    const std::string key = kv.first.as<std::string>();
    v.key_paths.emplace_back(key, JsonPath(keys, key.c_str(), where + ", keys"));
  }
  for (const Field& f : v.fields) {
    if (f.mapping.agg == FieldAgg::kNone) {
      Fail(where + ", field " + f.name, "every field of a view with a source needs 'agg' or 'of'");
    }
  }
}

ViewSchema ParseView(const YAML::Node& node) {
  CheckKeys(node, "view",
            {"name", "version", "entity", "ttl", "freshness", "retention", "owner", "tags",
             "description", "fields", "depends_on", "source", "keys"});
  ViewSchema v;
  v.name = RequiredString(node, "name", "view");
  CheckName(v.name, "view " + v.name);
  v.version =
      node["version"] ? Integer<uint32_t>(node["version"], "view " + v.name + ", version") : 1;
  const std::string where = "view " + v.QualifiedName();
  if (v.version == 0) Fail(where, "version must be >= 1");
  v.entity = RequiredString(node, "entity", where);
  v.ttl_ms = DurationKey(node, "ttl", where);
  v.freshness_ms = DurationKey(node, "freshness", where);
  v.retention_ms = DurationKey(node, "retention", where);
  v.owner = OptionalString(node, "owner", where);
  v.description = OptionalString(node, "description", where);
  v.tags = StringList(node, "tags", where);
  v.depends_on = StringList(node, "depends_on", where);
  const YAML::Node fields = node["fields"];
  if (!fields || !fields.IsSequence() || fields.size() == 0) Fail(where, "needs a list of fields");
  if (fields.size() > 4096) Fail(where, "more than 4096 fields");
  std::set<std::string> seen;
  for (const auto& f : fields) {
    v.fields.push_back(ParseField(f, where));
    if (!seen.insert(v.fields.back().name).second) {
      Fail(where, "field '" + v.fields.back().name + "' is defined twice");
    }
  }
  ParseViewSource(node, v, where);
  return v;
}

Source ParseSource(const YAML::Node& node) {
  CheckKeys(node, "source", {"name", "kafka", "format", "event_time", "description"});
  Source s;
  s.name = RequiredString(node, "name", "source");
  const std::string where = "source " + s.name;
  CheckName(s.name, where);
  const std::string format = OptionalString(node, "format", where);
  if (!format.empty() && format != "json") Fail(where, "format '" + format + "' (only json)");
  s.event_time = JsonPath(node, "event_time", where);
  const YAML::Node kafka = node["kafka"];
  if (!kafka) Fail(where, "missing 'kafka' (e.g. kafka: {topic: watch-events})");
  CheckKeys(kafka, where + ", kafka", {"topic", "dead_letter_topic"});
  s.topic = RequiredString(kafka, "topic", where + ", kafka");
  s.dead_letter_topic = OptionalString(kafka, "dead_letter_topic", where + ", kafka");
  return s;
}

Entity ParseEntity(const YAML::Node& node) {
  CheckKeys(node, "entity", {"name", "keys", "description"});
  Entity e;
  e.name = RequiredString(node, "name", "entity");
  const std::string where = "entity " + e.name;
  CheckName(e.name, where);
  e.join_keys = StringList(node, "keys", where);
  if (e.join_keys.empty()) Fail(where, "needs at least one key in 'keys'");
  if (e.join_keys.size() > 16) Fail(where, "more than 16 join keys");
  for (const auto& k : e.join_keys)
    CheckName(k, where + ", key");
  return e;
}

Definitions ParseDocument(const YAML::Node& root) {
  Definitions defs;
  if (root.IsNull()) return defs;
  CheckKeys(root, "definitions", {"sources", "entities", "views"});
  for (const char* section : {"sources", "entities", "views"}) {
    if (root[section] && !root[section].IsSequence()) {
      Fail("definitions", std::string("'") + section + "' must be a list");
    }
  }
  for (const auto& s : root["sources"])
    defs.sources.push_back(ParseSource(s));
  for (const auto& e : root["entities"])
    defs.entities.push_back(ParseEntity(e));
  for (const auto& v : root["views"])
    defs.views.push_back(ParseView(v));
  return defs;
}

}  // namespace

bool IsValidName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '-') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

Result<Definitions> ParseDefinitions(std::string_view yaml_text) {
  try {
    return ParseDocument(YAML::Load(std::string(yaml_text)));
  } catch (const DefinitionError& e) {
    return Status::InvalidArgument(e.message);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument(std::string("definitions are not valid YAML: ") + e.what());
  }
}

}  // namespace quiver
