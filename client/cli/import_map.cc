// `quiver import-redis --map PATTERN=VIEW`: feature values kept one per
// Redis key, in JSON (fs:user:{user_id}:{feature}:v{version}), loaded into
// typed rows. Each row is written whole, with the event time its keys'
// remaining TTLs tell: now - (the view's ttl - the longest remaining
// TTL), so the row expires in quiverd when its keys would have in Redis.
#include <simdjson.h>

#include <algorithm>
#include <charconv>

#include "client/cli/import_redis.h"
#include "client/cli/values.h"

namespace quiver::cli {

Result<KeyPattern> KeyPattern::Parse(std::string_view text) {
  KeyPattern p;
  size_t at = 0;
  while (at < text.size()) {
    const size_t open = text.find('{', at);
    if (open != at) {
      p.parts_.push_back({false, std::string(text.substr(at, open - at))});
      if (open == std::string_view::npos) break;
    }
    const size_t close = text.find('}', open);
    if (close == std::string_view::npos || close == open + 1) {
      return Status::InvalidArgument("a placeholder of '" + std::string(text) +
                                     "' is not closed or has no name");
    }
    if (!p.parts_.empty() && p.parts_.back().placeholder) {
      return Status::InvalidArgument("two placeholders of '" + std::string(text) +
                                     "' follow each other: separate them");
    }
    p.parts_.push_back({true, std::string(text.substr(open + 1, close - open - 1))});
    at = close + 1;
  }
  return p;
}

bool KeyPattern::MatchFrom(size_t part, std::string_view rest, Values* values, int* steps) const {
  if (part == parts_.size()) return rest.empty();
  if (--*steps < 0) return false;
  const Part& p = parts_[part];
  if (!p.placeholder) {
    return rest.substr(0, p.text.size()) == p.text &&
           MatchFrom(part + 1, rest.substr(p.text.size()), values, steps);
  }
  if (part + 1 == parts_.size()) {  // the last part: the rest
    if (rest.empty()) return false;
    (*values)[p.text] = std::string(rest);
    return true;
  }
  // The shortest value after which the rest matches: it ends where the
  // next part, a literal (placeholders never follow each other), starts.
  const std::string& next = parts_[part + 1].text;
  for (size_t n = rest.find(next, 1); n != std::string_view::npos; n = rest.find(next, n + 1)) {
    if (MatchFrom(part + 1, rest.substr(n), values, steps)) {
      (*values)[p.text] = std::string(rest.substr(0, n));
      return true;
    }
  }
  return false;
}

bool KeyPattern::Match(std::string_view key, Values* values) const {
  values->clear();
  int steps = kMaxMatchSteps;
  return MatchFrom(0, key, values, &steps);
}

std::string KeyPattern::Format(const Values& values) const {
  std::string out;
  for (const Part& p : parts_) {
    if (!p.placeholder) {
      out += p.text;
    } else if (auto it = values.find(p.text); it != values.end()) {
      out += it->second;
    }
  }
  return out;
}

bool KeyPattern::Has(std::string_view name) const {
  return std::any_of(parts_.begin(), parts_.end(),
                     [&](const Part& p) { return p.placeholder && p.text == name; });
}

Result<FeatureMap> ParseFeatureMap(std::string_view text) {
  const size_t eq = text.rfind('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    return Status::InvalidArgument("--map takes PATTERN=VIEW, not '" + std::string(text) + "'");
  }
  QUIVER_ASSIGN_OR_RETURN(KeyPattern pattern, KeyPattern::Parse(text.substr(0, eq)));
  if (!pattern.Has("feature")) {
    return Status::InvalidArgument("the --map pattern '" + std::string(text.substr(0, eq)) +
                                   "' has no {feature}");
  }
  return FeatureMap{std::move(pattern), std::string(text.substr(eq + 1))};
}

namespace {

std::string Name(const ViewInfo& v) {
  return v.name + "@v" + std::to_string(v.version);
}

// A JSON value as the text `quiver put` takes: numbers as written, strings
// unquoted, arrays as comma-separated items; nothing for null.
Result<std::optional<std::string>> JsonText(simdjson::dom::element e) {
  using T = simdjson::dom::element_type;
  switch (e.type()) {
    case T::INT64:
      return std::optional(std::to_string(int64_t(e)));
    case T::UINT64:
      return std::optional(std::to_string(uint64_t(e)));
    case T::DOUBLE: {
      char buf[32];
      const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, double(e));
      return std::optional(std::string(buf, end));
    }
    case T::STRING:
      return std::optional(std::string(std::string_view(e)));
    case T::BOOL:
      return std::optional(std::string(bool(e) ? "true" : "false"));
    case T::NULL_VALUE:
      return std::optional<std::string>();
    case T::ARRAY: {
      std::string out;
      for (simdjson::dom::element item : simdjson::dom::array(e)) {
        QUIVER_ASSIGN_OR_RETURN(std::optional<std::string> t, JsonText(item));
        if (!t) return Status::InvalidArgument("a null inside an array");
        out += (out.empty() ? "" : ",") + *t;
      }
      return std::optional(out);
    }
    default:
      return Status::InvalidArgument("an object, where a value was expected");
  }
}

}  // namespace

Result<std::unique_ptr<MappedImport>> MappedImport::Make(std::vector<FeatureMap> maps,
                                                         std::vector<ViewInfo> views,
                                                         int64_t now_ms) {
  for (const FeatureMap& m : maps) {
    const auto view = std::find_if(views.begin(), views.end(),
                                   [&](const ViewInfo& v) { return v.name == m.view; });
    if (view == views.end()) return Status::NotFound("--map: quiverd has no view " + m.view);
    for (const std::string& key : view->join_keys) {
      if (!m.pattern.Has(key)) {
        return Status::InvalidArgument("--map: the pattern for " + m.view + " has no {" + key +
                                       "}, a join key of its entity");
      }
    }
  }
  return std::unique_ptr<MappedImport>(new MappedImport(std::move(maps), std::move(views), now_ms));
}

const ViewInfo* MappedImport::FindView(const std::string& name,
                                       const KeyPattern::Values& values) const {
  const auto version = values.find("version");
  const ViewInfo* found = nullptr;
  for (const ViewInfo& v : views_) {
    if (v.name != name) continue;
    if (version != values.end() ? std::to_string(v.version) == version->second
                                : found == nullptr || v.version > found->version) {
      found = &v;
    }
  }
  return found;
}

bool MappedImport::Take(int db, std::string_view key, Tally* t) {
  for (size_t m = 0; m < maps_.size(); ++m) {
    KeyPattern::Values values;
    if (!maps_[m].pattern.Match(key, &values)) continue;
    const ViewInfo* view = FindView(maps_[m].view, values);
    const auto version = values.find("version");
    if (view == nullptr) {
      t->Skip("no view " + maps_[m].view + "@v" + version->second + " in quiverd", db, key);
      return true;
    }
    const std::string& feature = values["feature"];
    if (std::none_of(view->fields.begin(), view->fields.end(),
                     [&](const FieldInfo& f) { return f.name == feature; })) {
      t->Skip("'" + feature + "' is not a field of " + Name(*view), db, key);
      return true;
    }
    std::string id = Name(*view);
    for (const std::string& k : view->join_keys)
      id.append(1, '\0').append(values[k]);
    if (done_.insert(std::move(id)).second) queued_.push_back({m, view, std::move(values), db});
    return true;
  }
  return false;
}

Status MappedImport::Flush(redis::RespClient& src, Client& client, Tally* t) {
  for (Entity& e : queued_) {
    for (const FieldInfo& f : e.view->fields) {
      e.values["feature"] = f.name;
      const std::string key = maps_[e.map].pattern.Format(e.values);
      src.Append({"GET", key});
      src.Append({"PTTL", key});
    }
  }
  QUIVER_RETURN_IF_ERROR(src.Flush());
  std::map<std::string, WriteBatch> batches;
  simdjson::dom::parser parser;
  for (Entity& e : queued_) {
    std::vector<std::pair<const FieldInfo*, redis::Reply>> found;
    int64_t remaining = -1;
    for (const FieldInfo& f : e.view->fields) {
      QUIVER_ASSIGN_OR_RETURN(redis::Reply value, src.Read());
      QUIVER_ASSIGN_OR_RETURN(redis::Reply ttl, src.Read());
      if (value.kind != redis::Reply::Kind::kBulk) continue;
      remaining = std::max(remaining, ttl.integer);
      found.emplace_back(&f, std::move(value));
    }
    if (found.empty()) {
      ++t->vanished;
      continue;
    }
    const ViewInfo& view = *e.view;
    int64_t event_time = now_ms_;
    if (view.ttl_ms > 0 && remaining >= 0)
      event_time -= std::max<int64_t>(view.ttl_ms - remaining, 0);
    std::vector<std::string> key;
    for (const std::string& k : view.join_keys)
      key.push_back(e.values[k]);
    // Each value is tried on a probe first: a row starts with its first
    // value that fits (a write needs one).
    WriteBatch probe(Name(view));
    probe.Row(key, event_time);
    WriteBatch* batch = nullptr;
    for (auto& [field, value] : found) {
      e.values["feature"] = field->name;
      simdjson::dom::element json;
      Result<std::optional<std::string>> text =
          parser.parse(value.text).get(json) == simdjson::SUCCESS
              ? JsonText(json)
              : Status::InvalidArgument("not JSON");
      if (!text.ok() || (*text && !SetFromText(probe, *field, **text).ok())) {
        t->Skip("values that are not JSON of their field's type", e.db,
                maps_[e.map].pattern.Format(e.values));
        continue;
      }
      ++t->feature_keys;
      if (!*text) continue;  // null: the field is not set
      if (batch == nullptr) {
        batch = &batches.try_emplace(Name(view), Name(view)).first->second;
        batch->Row(key, event_time);
      }
      QUIVER_RETURN_IF_ERROR(SetFromText(*batch, *field, **text));
    }
  }
  queued_.clear();
  for (auto& [name, batch] : batches) {
    QUIVER_ASSIGN_OR_RETURN(PutResult put, client.Put(batch));
    t->rows += put.applied + put.stale;
  }
  return Status::Ok();
}

}  // namespace quiver::cli
