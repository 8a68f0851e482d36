#include "service/event_mapper.h"

#include <cmath>
#include <limits>

#include <simdjson.h>

#include "protocol/timestamp.h"
#include "storage/online/entity_key.h"
#include "util/json_path.h"
#include "util/rcu.h"

namespace quiver {

namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

struct CompiledField {
  std::string pointer;  // empty: the field takes no value (count)
  std::string path;
  TypeSpec type;
};

struct CompiledView {
  uint32_t id = 0;
  std::string name;
  std::vector<std::string> key_pointers;
  std::vector<std::string> key_paths;
  std::vector<CompiledField> fields;
};

bool Integer(const element& v, int64_t* out) {
  if (v.type() == element_type::INT64) return v.get_int64().get(*out) == simdjson::SUCCESS;
  if (v.type() == element_type::UINT64) {
    uint64_t u = 0;
    if (v.get_uint64().get(u) != simdjson::SUCCESS || u > INT64_MAX) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.type() == element_type::DOUBLE) {
    const double d = v.get_double().value_unsafe();
    if (d != std::trunc(d) || std::fabs(d) > 9.2e18) return false;
    *out = static_cast<int64_t>(d);
    return true;
  }
  return false;
}

bool Number(const element& v, double* out) {
  switch (v.type()) {
    case element_type::INT64:
      *out = static_cast<double>(v.get_int64().value_unsafe());
      return true;
    case element_type::UINT64:
      *out = static_cast<double>(v.get_uint64().value_unsafe());
      return true;
    case element_type::DOUBLE:
      *out = v.get_double().value_unsafe();
      return true;
    default:
      return false;
  }
}

// The field's value from its JSON element; false if it does not fit.
bool ToValue(const element& v, TypeSpec type, Value* out) {
  int64_t i = 0;
  double d = 0;
  switch (type.type) {
    case FieldType::kBool:
      if (v.type() != element_type::BOOL) return false;
      *out = v.get_bool().value_unsafe();
      return true;
    case FieldType::kInt32:
      if (!Integer(v, &i) || i < INT32_MIN || i > INT32_MAX) return false;
      *out = static_cast<int32_t>(i);
      return true;
    case FieldType::kInt64:
      if (!Integer(v, &i)) return false;
      *out = i;
      return true;
    case FieldType::kFloat32:
      if (!Number(v, &d)) return false;
      *out = static_cast<float>(d);
      return true;
    case FieldType::kFloat64:
      if (!Number(v, &d)) return false;
      *out = d;
      return true;
    case FieldType::kString:
      if (Integer(v, &i) && v.type() != element_type::DOUBLE) {
        *out = std::to_string(i);
        return true;
      }
      [[fallthrough]];
    case FieldType::kBytes:
      if (v.type() != element_type::STRING) return false;
      *out = std::string(v.get_string().value_unsafe());
      return true;
    case FieldType::kFloat32Vector: {
      simdjson::dom::array a;
      if (v.get_array().get(a) != simdjson::SUCCESS || a.size() != type.dim) return false;
      std::vector<float> vec;
      vec.reserve(type.dim);
      for (element x : a) {
        if (!Number(x, &d)) return false;
        vec.push_back(static_cast<float>(d));
      }
      *out = std::move(vec);
      return true;
    }
  }
  return false;
}

// A join key's text: a string as it is, an integer in decimal.
bool KeyText(const element& v, std::string* out) {
  int64_t i = 0;
  if (v.type() == element_type::STRING) {
    *out = std::string(v.get_string().value_unsafe());
    return !out->empty();
  }
  if (v.type() != element_type::DOUBLE && Integer(v, &i)) {
    *out = std::to_string(i);
    return true;
  }
  return false;
}

// Event times beyond ±2^50 ms (35,000 years) are refused, so that window
// arithmetic never overflows.
constexpr int64_t kMaxEventTime = int64_t{1} << 50;

bool EventTimeValue(const element& v, int64_t* out) {
  if (Integer(v, out)) return true;
  double d = 0;
  if (Number(v, &d)) {
    if (!std::isfinite(d) || std::fabs(d) > 9.2e18) return false;
    *out = static_cast<int64_t>(std::floor(d));
    return true;
  }
  if (v.type() != element_type::STRING) return false;
  Result<int64_t> t = ParseTimestampMs(v.get_string().value_unsafe());
  if (!t.ok()) return false;
  *out = *t;
  return true;
}

bool EventTime(const element& v, int64_t* out) {
  return EventTimeValue(v, out) && *out >= -kMaxEventTime && *out <= kMaxEventTime;
}

}  // namespace

std::string_view EventErrorName(EventError e) {
  static constexpr std::string_view kNames[] = {"none",        "bad_json", "bad_event_time",
                                                "missing_key", "bad_key",  "wrong_type"};
  return kNames[static_cast<size_t>(e)];
}

struct EventMapper::Compiled {
  std::string event_time_pointer;
  std::string event_time_path;
  std::vector<CompiledView> views;
};

EventMapper::EventMapper(std::string source, const FeatureStore* store)
    : source_(std::move(source)),
      store_(store),
      compiled_(std::make_unique<Compiled>()),
      parser_(std::make_unique<simdjson::dom::parser>()) {}
EventMapper::~EventMapper() = default;
EventMapper::EventMapper(EventMapper&&) noexcept = default;

size_t EventMapper::views() const {
  return compiled_->views.size();
}

void EventMapper::Refresh(Registry& registry) {
  rcu::ReadLock lock;
  const Catalog& catalog = registry.current();
  if (generation_ == catalog.generation() + 1) return;
  generation_ = catalog.generation() + 1;
  auto next = std::make_unique<Compiled>();
  const Source* source = catalog.FindSource(source_);
  topic_ = source ? source->topic : "";
  dead_letter_topic_ = source ? source->dead_letter_topic : "";
  if (source != nullptr) {
    next->event_time_path = source->event_time;
    next->event_time_pointer = *JsonPathToPointer(source->event_time);
  }
  for (const auto& view : catalog.views()) {
    if (view->source != source_ || source == nullptr) continue;
    CompiledView v{view->id, view->QualifiedName(), {}, {}, {}};
    for (const auto& [key, path] : view->key_paths) {
      v.key_pointers.push_back(*JsonPathToPointer(path));
      v.key_paths.push_back(path);
    }
    for (const Field& f : view->fields) {
      const std::string& of = f.mapping.of;
      v.fields.push_back({of.empty() ? "" : *JsonPathToPointer(of), of, f.type});
    }
    next->views.push_back(std::move(v));
  }
  compiled_ = std::move(next);
}

void EventMapper::Map(std::string_view json, MappedEvent* out) {
  out->events.clear();
  out->error = EventError::kNone;
  out->message.clear();
  auto refuse = [&](EventError e, std::string message) {
    if (out->error != EventError::kNone) return;
    out->error = e;
    out->message = std::move(message);
  };
  element doc;
  if (auto err = parser_->parse(json.data(), json.size()).get(doc); err != simdjson::SUCCESS) {
    return refuse(EventError::kBadJson, std::string("not JSON: ") + simdjson::error_message(err));
  }
  int64_t time = 0;
  element t;
  if (doc.at_pointer(compiled_->event_time_pointer).get(t) != simdjson::SUCCESS ||
      !EventTime(t, &time)) {
    return refuse(EventError::kBadEventTime, "event time " + compiled_->event_time_path +
                                                 " is missing or not Unix milliseconds / RFC 3339");
  }
  if (store_ != nullptr) {
    if (Status s = store_->CheckEventTime(time); !s.ok()) {
      return refuse(EventError::kBadEventTime, s.message());
    }
  }
  std::vector<std::string> parts;
  for (const CompiledView& v : compiled_->views) {
    parts.assign(v.key_pointers.size(), {});
    bool ok = true;
    for (size_t k = 0; k < v.key_pointers.size() && ok; ++k) {
      element e;
      if (doc.at_pointer(v.key_pointers[k]).get(e) != simdjson::SUCCESS || e.is_null()) {
        refuse(EventError::kMissingKey, v.name + ": join key " + v.key_paths[k] + " is missing");
        ok = false;
      } else if (!KeyText(e, &parts[k])) {
        refuse(EventError::kBadKey,
               v.name + ": join key " + v.key_paths[k] + " is not a non-empty string or integer");
        ok = false;
      }
    }
    SourceEvent ev{v.id, {}, time, std::vector<Value>(v.fields.size())};
    for (size_t f = 0; f < v.fields.size() && ok; ++f) {
      const CompiledField& field = v.fields[f];
      element e;
      if (field.pointer.empty() || doc.at_pointer(field.pointer).get(e) != simdjson::SUCCESS ||
          e.is_null()) {
        continue;  // no value: the field's aggregation skips this event
      }
      if (!ToValue(e, field.type, &ev.values[f])) {
        refuse(EventError::kWrongType,
               v.name + ": " + field.path + " is not a " + TypeName(field.type));
        ok = false;
      }
    }
    if (!ok) continue;
    std::vector<std::string_view> views(parts.begin(), parts.end());
    EncodedKeys keys;
    if (!EncodeEntityKeys(views, views.size(), &keys).ok()) {
      refuse(EventError::kBadKey, v.name + ": a join key is longer than 65,535 bytes");
      continue;
    }
    ev.key = std::string(keys.views[0]);
    out->events.push_back(std::move(ev));
  }
}

}  // namespace quiver
