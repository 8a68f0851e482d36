// FeatureStore's reads of the past: as-of reads, version ranges with
// aggregates, and point-in-time joins of label rows.
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>

#include "storage/features/feature_store.h"
#include "storage/online/row.h"
#include "util/clock.h"
#include "util/rcu.h"

namespace quiver {

namespace {

constexpr uint32_t kDefaultHistoryLimit = 100'000;

Status NeedsHistory(const HistoryStore* history) {
  if (history != nullptr) return Status::Ok();
  return Status::FailedPrecondition(
      "this server keeps no history (started with --durability memory)");
}

bool IsNumeric(FieldType t) {
  switch (t) {
    case FieldType::kBool:
    case FieldType::kInt32:
    case FieldType::kInt64:
    case FieldType::kFloat32:
    case FieldType::kFloat64:
      return true;
    default:
      return false;
  }
}

double NumericValue(const RowReader& row, size_t field, FieldType t) {
  switch (t) {
    case FieldType::kBool:
      return row.Fixed<uint8_t>(field) != 0 ? 1.0 : 0.0;
    case FieldType::kInt32:
      return row.Fixed<int32_t>(field);
    case FieldType::kInt64:
      return static_cast<double>(row.Fixed<int64_t>(field));
    case FieldType::kFloat32:
      return row.Fixed<float>(field);
    default:
      return row.Fixed<double>(field);
  }
}

// Running aggregate of one field over versions.
struct Accumulator {
  int64_t count = 0;
  double sum = 0, min = std::numeric_limits<double>::infinity(),
         max = -std::numeric_limits<double>::infinity();
  int latest = -1;  // index of the newest version carrying the field

  void Add(double v) {
    ++count;
    sum += v;
    min = std::min(min, v);
    max = std::max(max, v);
  }
};

}  // namespace

Result<Aggregation> ParseAggregation(std::string_view text) {
  static const std::map<std::string_view, Aggregation> kNames = {
      {"none", Aggregation::kNone},  {"latest", Aggregation::kLatest}, {"avg", Aggregation::kAvg},
      {"sum", Aggregation::kSum},    {"min", Aggregation::kMin},       {"max", Aggregation::kMax},
      {"count", Aggregation::kCount}};
  auto it = kNames.find(text);
  if (it != kNames.end()) return it->second;
  return Status::InvalidArgument("unknown aggregation '" + std::string(text) +
                                 "' (expected latest, avg, sum, min, max or count)");
}

Status FeatureStore::ReadAsOf(const AsOfRequest& request, ReadResult* out) const {
  QUIVER_RETURN_IF_ERROR(NeedsHistory(history_));
  QUIVER_RETURN_IF_ERROR(PrepareRead(request.view, request.fields, request.key_parts, out));
  const ViewSchema& view = *out->view;
  const size_t rows = out->keys.size();
  const auto& times = request.as_of_ms;
  if (times.size() != 1 && times.size() != rows) {
    return Status::InvalidArgument("expected 1 or " + std::to_string(rows) + " as-of times, got " +
                                   std::to_string(times.size()));
  }
  // The online value is the newest version: where it is not after the
  // as-of time, it is the answer, and the history need not be read.
  thread_local std::vector<const Record*> records;
  records.assign(rows, nullptr);
  table_.FindMany(view.id, out->keys.views, records);
  std::vector<uint32_t> past;  // entities the history must answer
  std::vector<std::string_view> past_keys;
  std::vector<int64_t> past_times;
  for (uint32_t i = 0; i < rows; ++i) {
    const int64_t t = times.size() == 1 ? times[0] : times[i];
    const Record* r = records[i];
    if (r == nullptr || r->event_time_ms > t) {
      past.push_back(i);
      past_keys.push_back(out->keys.views[i]);
      past_times.push_back(t);
    } else if (view.ttl_ms > 0 && r->event_time_ms <= SaturatingSub(t, view.ttl_ms)) {
      out->states[i] = RowState::kExpired;
    } else {
      out->states[i] = RowState::kFound;
      out->rows[i] = r->value();
      out->event_time_ms[i] = r->event_time_ms;
    }
  }
  if (past.empty()) return Status::Ok();
  VersionRows& v = out->versions;
  QUIVER_RETURN_IF_ERROR(history_->AsOf(view.id, past_keys, past_times, view.ttl_ms, &v));
  for (size_t j = 0; j < past.size(); ++j) {
    const uint32_t i = past[j];
    if (v.found[j] == VersionRows::kFound) {
      out->states[i] = RowState::kFound;
      out->rows[i] = v.rows[j];
      out->event_time_ms[i] = v.event_time_ms[j];
    } else if (v.found[j] == VersionRows::kTooOld) {
      out->states[i] = RowState::kExpired;
    }
  }
  return Status::Ok();
}

Status FeatureStore::History(const HistoryRequest& request, HistoryResult* out) const {
  QUIVER_RETURN_IF_ERROR(NeedsHistory(history_));
  if (request.from_ms > request.to_ms) {
    return Status::InvalidArgument("the range starts (" + std::to_string(request.from_ms) +
                                   ") after it ends (" + std::to_string(request.to_ms) + ")");
  }
  ReadResult& read = out->read;
  rcu::ReadLock lock;
  QUIVER_RETURN_IF_ERROR(ResolveFields(request.view, request.fields, &read));
  const ViewSchema& view = *read.view;
  EncodedKeys keys;
  QUIVER_RETURN_IF_ERROR(ResolveKeys(view, registry_.current(), request.key_parts, &keys));
  if (keys.size() != 1) {
    return Status::InvalidArgument("a history read names one entity, got " +
                                   std::to_string(keys.size()));
  }
  const uint32_t limit = request.limit == 0 ? kDefaultHistoryLimit : request.limit;
  std::vector<std::pair<size_t, size_t>> where;
  read.versions.arena.clear();
  read.event_time_ms.clear();
  QUIVER_RETURN_IF_ERROR(history_->Range(
      view.id, keys.views[0], request.from_ms, request.to_ms,
      [&](const history::DecodedKey& k, const history::HistoryValue& v) {
        read.event_time_ms.push_back(k.event_time_ms);
        where.emplace_back(read.versions.arena.size(), v.row.size());
        read.versions.arena.append(reinterpret_cast<const char*>(v.row.data()), v.row.size());
        return where.size() < limit;
      }));
  // Oldest first.
  std::reverse(where.begin(), where.end());
  std::reverse(read.event_time_ms.begin(), read.event_time_ms.end());
  const auto* base = reinterpret_cast<const uint8_t*>(read.versions.arena.data());
  read.rows.clear();
  for (const auto& [offset, size] : where)
    read.rows.emplace_back(base + offset, size);
  read.states.assign(where.size(), RowState::kFound);
  read.now_ms = options_.now_ms();
  if (request.agg == Aggregation::kNone) return Status::Ok();
  return Aggregate(request, out);
}

Status FeatureStore::Aggregate(const HistoryRequest& request, HistoryResult* out) const {
  ReadResult& read = out->read;
  const ViewSchema& view = *read.view;
  const bool numeric_only =
      request.agg != Aggregation::kLatest && request.agg != Aggregation::kCount;
  std::vector<int> fields;
  for (int fi : read.fields) {
    const Field& f = view.fields[fi];
    if (!numeric_only || IsNumeric(f.type.type)) {
      fields.push_back(fi);
    } else if (!request.fields.empty()) {
      return Status::InvalidArgument("field " + f.name + " of " + view.QualifiedName() + " is " +
                                     TypeName(f.type) +
                                     ": avg, sum, min and max apply to numeric fields only");
    }
  }
  std::vector<Accumulator> acc(fields.size());
  for (size_t r = 0; r < read.rows.size(); ++r) {
    RowReader row(view.layout, read.rows[r]);
    for (size_t j = 0; j < fields.size(); ++j) {
      const int fi = fields[j];
      if (!row.present(fi)) continue;
      acc[j].latest = static_cast<int>(r);
      if (numeric_only) {
        acc[j].Add(NumericValue(row, fi, view.fields[fi].type.type));
      } else {
        ++acc[j].count;
      }
    }
  }
  // The derived view: one field per aggregate.
  ViewSchema& d = out->derived;
  d = ViewSchema();
  d.name = view.name;
  d.version = view.version;
  d.entity = view.entity;
  for (int fi : fields) {
    Field f;
    f.name = view.fields[fi].name;
    f.type = request.agg == Aggregation::kLatest  ? view.fields[fi].type
             : request.agg == Aggregation::kCount ? TypeSpec{FieldType::kInt64, 0}
                                                  : TypeSpec{FieldType::kFloat64, 0};
    f.default_value =
        request.agg == Aggregation::kLatest ? view.fields[fi].default_value : ZeroValue(f.type);
    d.fields.push_back(std::move(f));
  }
  FinalizeView(d);
  RowBuilder builder(d, {});
  for (size_t j = 0; j < fields.size(); ++j) {
    const Accumulator& a = acc[j];
    if (request.agg == Aggregation::kCount) {
      builder.SetFixed(j, &a.count, 8);
      continue;
    }
    if (a.latest < 0) continue;  // no version carries it: missing
    if (request.agg == Aggregation::kLatest) {
      RowReader row(view.layout, read.rows[a.latest]);
      const Field& f = view.fields[fields[j]];
      if (IsVariableWidth(f.type.type)) {
        builder.SetVar(j, row.Var(fields[j]));
      } else {
        builder.SetFixed(j, row.FixedPtr(fields[j]), FixedWidth(f.type));
      }
      continue;
    }
    const double v = request.agg == Aggregation::kAvg   ? a.sum / static_cast<double>(a.count)
                     : request.agg == Aggregation::kSum ? a.sum
                     : request.agg == Aggregation::kMin ? a.min
                                                        : a.max;
    builder.SetFixed(j, &v, 8);
  }
  out->derived_row.resize(builder.Size());
  builder.WriteTo(reinterpret_cast<uint8_t*>(out->derived_row.data()));
  const bool any = !read.rows.empty();
  const int64_t newest = any ? read.event_time_ms.back() : 0;
  read.view = &d;
  read.fields.clear();
  for (size_t j = 0; j < fields.size(); ++j)
    read.fields.push_back(static_cast<int>(j));
  read.rows.assign(
      1, {reinterpret_cast<const uint8_t*>(out->derived_row.data()), out->derived_row.size()});
  read.event_time_ms.assign(1, newest);
  read.states.assign(1, any ? RowState::kFound : RowState::kMissing);
  return Status::Ok();
}

Status FeatureStore::Training(const TrainingRequest& request, TrainingResult* out) const {
  QUIVER_RETURN_IF_ERROR(NeedsHistory(history_));
  const size_t rows = request.event_time_ms.size();
  if (request.key_names.size() != request.key_columns.size()) {
    return Status::InvalidArgument("key names and key columns differ in number");
  }
  for (size_t j = 0; j < request.key_columns.size(); ++j) {
    if (request.key_columns[j].size() != rows) {
      return Status::InvalidArgument("key column " + std::string(request.key_names[j]) + " has " +
                                     std::to_string(request.key_columns[j].size()) +
                                     " values for " + std::to_string(rows) + " label rows");
    }
  }
  if (request.features.empty()) return Status::InvalidArgument("no features requested");
  rcu::ReadLock lock;
  const Catalog& catalog = registry_.current();
  out->features.clear();
  std::vector<const ViewSchema*> views;
  std::set<std::pair<const ViewSchema*, int>> named;
  for (std::string_view name : request.features) {
    const size_t colon = name.rfind(':');
    if (colon == std::string_view::npos) {
      return Status::InvalidArgument("feature '" + std::string(name) +
                                     "' must be written view:field or view@vN:field");
    }
    QUIVER_ASSIGN_OR_RETURN(const ViewSchema* view, catalog.ResolveName(name.substr(0, colon)));
    TrainingResult::Feature f{std::string(name), view, view->FieldIndex(name.substr(colon + 1))};
    if (f.field < 0) {
      return Status::NotFound("feature " + f.name + ": view " + view->QualifiedName() +
                              " has no field '" + std::string(name.substr(colon + 1)) + "'");
    }
    if (!named.emplace(view, f.field).second) {
      return Status::InvalidArgument("feature " + f.name + " is named twice in one request");
    }
    auto it = std::find(views.begin(), views.end(), view);
    f.source = static_cast<size_t>(it - views.begin());
    if (it == views.end()) views.push_back(view);
    out->features.push_back(std::move(f));
  }
  out->views.resize(views.size());
  std::vector<std::string_view> parts;
  for (size_t v = 0; v < views.size(); ++v) {
    const Entity* entity = catalog.FindEntity(views[v]->entity);
    if (entity == nullptr) return Status::Internal("view without entity");
    std::vector<size_t> columns;
    for (const std::string& key : entity->join_keys) {
      auto it = std::find(request.key_names.begin(), request.key_names.end(), key);
      if (it == request.key_names.end()) {
        return Status::InvalidArgument("the labels have no column '" + key + "', a key of view " +
                                       views[v]->QualifiedName());
      }
      columns.push_back(static_cast<size_t>(it - request.key_names.begin()));
    }
    parts.clear();
    for (size_t r = 0; r < rows; ++r) {
      for (size_t c : columns)
        parts.push_back(request.key_columns[c][r]);
    }
    const std::string qualified = views[v]->QualifiedName();
    AsOfRequest as_of{qualified, {}, parts, request.event_time_ms};
    QUIVER_RETURN_IF_ERROR(ReadAsOf(as_of, &out->views[v]));
  }
  for (auto& f : out->features) {
    for (size_t r = 0; r < rows; ++r) {
      const ReadResult& read = out->views[f.source];
      if (read.states[r] != RowState::kFound ||
          !RowReader(f.view->layout, read.rows[r]).present(f.field))
        ++f.missing;
    }
  }
  return Status::Ok();
}

}  // namespace quiver
