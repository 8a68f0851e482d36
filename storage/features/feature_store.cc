#include "storage/features/feature_store.h"

#include <chrono>
#include <cstring>
#include <set>

#include "storage/history/history_key.h"
#include "storage/online/entity_key.h"
#include "storage/online/record.h"
#include "storage/online/row.h"
#include "util/clock.h"
#include "util/rcu.h"

namespace quiver {

namespace {

Status CheckColumnShape(const ColumnInput& c, const Field& f, size_t rows,
                        const std::string& where) {
  if (c.type != f.type) {
    return Status::InvalidArgument(where + " is " + TypeName(f.type) + ", got " + TypeName(c.type));
  }
  if (!c.nulls.empty() && c.nulls.size() != rows) {
    return Status::InvalidArgument(where + ": " + std::to_string(c.nulls.size()) +
                                   " null flags for " + std::to_string(rows) + " rows");
  }
  if (!IsVariableWidth(f.type.type)) {
    if (c.fixed.size() != rows * FixedWidth(f.type)) {
      return Status::InvalidArgument(where + ": expected " + std::to_string(rows) + " values of " +
                                     TypeName(f.type) + " (" +
                                     std::to_string(rows * FixedWidth(f.type)) + " bytes), got " +
                                     std::to_string(c.fixed.size()) + " bytes");
    }
    return Status::Ok();
  }
  if (c.offsets.size() != rows + 1) {
    return Status::InvalidArgument(where + ": expected " + std::to_string(rows + 1) +
                                   " offsets, got " + std::to_string(c.offsets.size()));
  }
  for (size_t i = 0; i < rows; ++i) {
    if (c.offsets[i] > c.offsets[i + 1]) {
      return Status::InvalidArgument(where + ": offsets must not decrease");
    }
  }
  if (c.offsets[rows] > c.data.size()) {
    return Status::InvalidArgument(where + ": offsets run past the data");
  }
  return Status::Ok();
}

}  // namespace

// A validated write: the schema, the column of each field set and the keys.
struct FeatureStore::ResolvedWrite {
  const ViewSchema* view = nullptr;
  std::vector<std::pair<int, const ColumnInput*>> columns;  // field index, its column
  EncodedKeys keys;
  size_t var_bytes = 0;
};

FeatureStore::FeatureStore(Registry& registry, OnlineTable& table, HistoryStore* history,
                           Options options)
    : registry_(registry),
      table_(table),
      history_(history),
      options_(std::move(options)),
      baselines_(history) {
  if (!options_.now_ms) options_.now_ms = SystemNowMs;
  if (options_.statistics) {
    options_.stats.started_ms = NowMs();
    stats_ = std::make_unique<FeatureStats>(options_.stats);
  }
}

Result<ApplyReport> FeatureStore::Apply(std::string_view yaml_text) {
  QUIVER_ASSIGN_OR_RETURN(Definitions defs, ParseDefinitions(yaml_text));
  if (history_ == nullptr) return registry_.Apply(defs);
  QUIVER_ASSIGN_OR_RETURN(ApplyReport report, registry_.Apply(defs, [&] {
    return history_->AppendDefinitions(yaml_text);
  }));
  for (const ViewSchema& v : defs.views) {
    rcu::ReadLock lock;
    Result<const ViewSchema*> stored = registry_.current().Resolve({v.name, v.version});
    if (stored.ok()) history_->SetRetention((*stored)->id, (*stored)->retention_ms);
  }
  return report;
}

Status FeatureStore::ResolveKeys(const ViewSchema& view, const Catalog& catalog,
                                 std::span<const std::string_view> key_parts,
                                 EncodedKeys* keys) const {
  const Entity* entity = catalog.FindEntity(view.entity);
  if (entity == nullptr) return Status::Internal("view without entity: " + view.QualifiedName());
  const size_t per_key = entity->join_keys.size();
  if (key_parts.size() % per_key != 0) {
    return Status::InvalidArgument("view " + view.QualifiedName() + " is keyed by entity " +
                                   entity->name + " (" + std::to_string(per_key) + " join key" +
                                   (per_key == 1 ? "" : "s") + " per entity): got " +
                                   std::to_string(key_parts.size()) + " key values");
  }
  const size_t rows = key_parts.size() / per_key;
  if (rows > options_.max_rows_per_request) {
    return Status::InvalidArgument("too many entities in one request: " + std::to_string(rows) +
                                   " (at most " + std::to_string(options_.max_rows_per_request) +
                                   ")");
  }
  return EncodeEntityKeys(key_parts, per_key, keys);
}

Status FeatureStore::CheckEventTime(int64_t t) const {
  if (t < 0) {
    return Status::InvalidArgument("event time " + std::to_string(t) +
                                   " is before 1970-01-01 (event times are Unix milliseconds)");
  }
  const int64_t now = NowMs();
  if (t > now && t - now > options_.max_future_skew_ms) {
    return Status::InvalidArgument(
        "event time " + std::to_string(t) + " is " + std::to_string((t - now) / 1000) +
        " s ahead of the server clock, more than --max-future-skew allows (" +
        std::to_string(options_.max_future_skew_ms / 1000) +
        " s): event times are Unix milliseconds, not microseconds or nanoseconds");
  }
  return Status::Ok();
}

ServedValue ServedValueOf(const ReadResult& read, size_t i, int fi) {
  const ViewSchema& view = *read.view;
  const Field& f = view.fields[fi];
  if (read.states[i] != RowState::kFound) return {true, f.default_raw};
  RowReader row(view.layout, read.rows[i]);
  if (!row.present(fi)) return {true, f.default_raw};
  if (IsVariableWidth(f.type.type)) return {false, row.Var(fi)};
  return {false, {reinterpret_cast<const char*>(row.FixedPtr(fi)), FixedWidth(f.type)}};
}

uint64_t ServedBytes(const ReadResult& read, int fi, bool exact) {
  const Field& f = read.view->fields[fi];
  const size_t rows = read.rows.size();
  if (!IsVariableWidth(f.type.type)) return uint64_t{rows} * FixedWidth(f.type);
  uint64_t bytes = 0;
  for (size_t i = 0; i < rows; ++i) {
    const bool found = read.states[i] == RowState::kFound;
    bytes += exact   ? ServedValueOf(read, i, fi).raw.size()
             : found ? read.rows[i].size()
                     : f.default_raw.size();
  }
  return bytes;
}

Status FeatureStore::ResolveFields(std::string_view view_name,
                                   std::span<const std::string_view> fields,
                                   ReadResult* out) const {
  QUIVER_ASSIGN_OR_RETURN(out->view, registry_.current().ResolveName(view_name));
  const ViewSchema& view = *out->view;
  out->fields.clear();
  if (fields.empty()) {
    for (size_t i = 0; i < view.fields.size(); ++i)
      out->fields.push_back(static_cast<int>(i));
  }
  thread_local std::vector<uint8_t> named;
  named.assign(view.fields.size(), 0);
  for (std::string_view name : fields) {
    const int index = view.FieldIndex(name);
    if (index < 0) {
      return Status::NotFound("view " + view.QualifiedName() + " has no field '" +
                              std::string(name) + "'");
    }
    if (named[index]++ != 0) {
      return Status::InvalidArgument("field '" + std::string(name) +
                                     "' is named twice in one request");
    }
    out->fields.push_back(index);
  }
  return Status::Ok();
}

Status FeatureStore::PrepareRead(std::string_view view, std::span<const std::string_view> fields,
                                 std::span<const std::string_view> key_parts,
                                 ReadResult* out) const {
  QUIVER_RETURN_IF_ERROR(ResolveFields(view, fields, out));
  QUIVER_RETURN_IF_ERROR(ResolveKeys(*out->view, registry_.current(), key_parts, &out->keys));
  const size_t rows = out->keys.size();
  out->now_ms = NowMs();
  out->states.assign(rows, RowState::kMissing);
  out->rows.assign(rows, {});
  out->event_time_ms.assign(rows, 0);
  return Status::Ok();
}

Status FeatureStore::Read(const ReadRequest& request, ReadResult* out) const {
  QUIVER_RETURN_IF_ERROR(PrepareRead(request.view, request.fields, request.key_parts, out));
  const ViewSchema& view = *out->view;
  const size_t rows = out->keys.size();
  thread_local std::vector<const Record*> records;
  records.assign(rows, nullptr);
  table_.FindMany(view.id, out->keys.views, records);
  for (size_t i = 0; i < rows; ++i) {
    const Record* r = records[i];
    if (r == nullptr) continue;
    if (r->ExpiredAt(out->now_ms)) {
      out->states[i] = RowState::kExpired;
      continue;
    }
    out->rows[i] = r->value();
    // The encoder reads the value later; start fetching it now so the miss
    // overlaps the other rows' instead of stalling the encoder.
    __builtin_prefetch(out->rows[i].data());
    out->event_time_ms[i] = r->event_time_ms;
    out->states[i] = RowState::kFound;
  }
  return Status::Ok();
}

Record* FeatureStore::NewRecord(const ViewSchema& view, std::string_view key, size_t value_size,
                                int64_t event_time, int64_t write_time) {
  Record* r = Record::Allocate(view.id, key, value_size);
  if (r == nullptr) return nullptr;
  r->event_time_ms = event_time;
  r->write_time_ms = write_time;
  r->expire_at_ms = view.ttl_ms > 0 ? event_time + view.ttl_ms : kNeverExpires;
  return r;
}

Record* FeatureStore::CopyRecord(const ViewSchema& view, std::string_view key,
                                 std::span<const uint8_t> row, int64_t event_time,
                                 int64_t write_time) {
  Record* r = NewRecord(view, key, row.size(), event_time, write_time);
  if (r != nullptr && !row.empty()) std::memcpy(r->mutable_value(), row.data(), row.size());
  return r;
}

Status FeatureStore::Validate(const WriteRequest& request, const Catalog& catalog,
                              ResolvedWrite* out) const {
  QUIVER_ASSIGN_OR_RETURN(out->view, catalog.ResolveName(request.view));
  const ViewSchema& view = *out->view;
  if (!view.source.empty()) {
    return Status::FailedPrecondition("view " + view.QualifiedName() +
                                      " is computed from source '" + view.source +
                                      "'; it is written by ingestion and backfill only");
  }
  QUIVER_RETURN_IF_ERROR(ResolveKeys(view, catalog, request.key_parts, &out->keys));
  const size_t rows = out->keys.size();
  if (rows == 0) return Status::InvalidArgument("a write needs at least one row");
  const size_t times = request.event_time_ms.size();
  if (times != 0 && times != 1 && times != rows) {
    return Status::InvalidArgument("expected 0, 1 or " + std::to_string(rows) +
                                   " event times, got " + std::to_string(times));
  }
  for (int64_t t : request.event_time_ms)
    QUIVER_RETURN_IF_ERROR(CheckEventTime(t));
  if (request.columns.empty()) return Status::InvalidArgument("a write needs at least one field");
  std::set<int> seen;
  for (const ColumnInput& c : request.columns) {
    const int index = view.FieldIndex(c.field);
    const std::string where = "field " + std::string(c.field) + " of " + view.QualifiedName();
    if (index < 0)
      return Status::NotFound("view " + view.QualifiedName() + " has no field '" +
                              std::string(c.field) + "'");
    if (!seen.insert(index).second) return Status::InvalidArgument(where + " is given twice");
    QUIVER_RETURN_IF_ERROR(CheckColumnShape(c, view.fields[index], rows, where));
    if (IsVariableWidth(c.type.type)) out->var_bytes += c.offsets[rows] - c.offsets[0];
    out->columns.emplace_back(index, &c);
  }
  return Status::Ok();
}

namespace {
thread_local const FeatureStore* replay_owner = nullptr;
thread_local int64_t replay_now_ms = 0;
}  // namespace

int64_t FeatureStore::NowMs() const {
  return replay_owner == this ? replay_now_ms : options_.now_ms();
}

FeatureStore::ReplayScope::ReplayScope(const FeatureStore& store, int64_t now_ms)
    : saved_owner_(replay_owner), saved_now_(replay_now_ms) {
  replay_owner = &store;
  replay_now_ms = now_ms;
}

FeatureStore::ReplayScope::~ReplayScope() {
  replay_owner = saved_owner_;
  replay_now_ms = saved_now_;
}

Status FeatureStore::CheckMemory(const ResolvedWrite& w) const {
  // Refuse a batch that cannot fit before touching anything; per-row checks
  // in the table remain the exact guard.
  const MemoryBudget& budget = table_.budget();
  if (budget.limit() <= 0) return Status::Ok();
  size_t estimate = w.var_bytes;
  for (std::string_view k : w.keys.views)
    estimate += Record::AllocationSize(k.size(), w.view->layout.base_size());
  return budget.Check(static_cast<int64_t>(estimate),
                      "write of " + std::to_string(w.keys.size()) + " rows refused",
                      "reads continue");
}

void FeatureStore::RecordVersion(const ViewSchema& view, std::string_view key, int64_t event_time,
                                 uint64_t seq, int64_t write_time, std::span<const uint8_t> row,
                                 bool latest, HistoryBatch* batch) {
  thread_local std::string k, v;
  k.clear();
  history::AppendPrefix(view.id, key, &k);
  if (latest) {
    v.clear();
    history::AppendLatestValue({event_time, seq, write_time, row}, &v);
    batch->Merge(HistoryStore::kLatest, k, v);
  }
  history::AppendTimeSeq(event_time, seq, &k);
  v.clear();
  history::AppendHistoryValue({history::ValueKind::kRow, write_time, row}, &v);
  batch->Put(HistoryStore::kHistory, k, v);
}

std::string FeatureStore::RowAsOf(const ViewSchema& view, std::string_view key,
                                  int64_t event_time) const {
  VersionRows found;
  const int64_t t[] = {event_time};
  if (!history_->AsOf(view.id, {&key, 1}, t, 0, &found).ok() || !found.found[0]) return {};
  return std::string(reinterpret_cast<const char*>(found.rows[0].data()), found.rows[0].size());
}

void FeatureStore::CountRow(const ResolvedWrite& w, size_t i, FeatureStats::Writer& stats) {
  stats.Row();
  for (const auto& [index, c] : w.columns) {
    if (!c->nulls.empty() && c->nulls[i] != 0) {
      stats.Null(index);
    } else if (IsVariableWidth(c->type.type)) {
      const auto* base = reinterpret_cast<const char*>(c->data.data());
      stats.Var(index, std::string_view(base + c->offsets[i], c->offsets[i + 1] - c->offsets[i]));
    } else {
      stats.Fixed(index, c->fixed.data() + i * FixedWidth(c->type));
    }
  }
}

Result<WriteResult> FeatureStore::Write(const WriteRequest& request, HistoryBatch* batch) {
  rcu::ReadLock lock;
  ResolvedWrite w;
  QUIVER_RETURN_IF_ERROR(Validate(request, registry_.current(), &w));
  if (history_ != nullptr) QUIVER_RETURN_IF_ERROR(history_->health());
  QUIVER_RETURN_IF_ERROR(CheckMemory(w));
  const ViewSchema& view = *w.view;
  if (history_ == nullptr) batch = nullptr;
  const bool sets_every_field = w.columns.size() == view.fields.size();
  const int64_t now = NowMs();
  std::optional<FeatureStats::Writer> stats;
  if (stats_) stats.emplace(stats_->Begin(view, now));
  RowEvents* const events = Listening(view);
  const size_t key_values = w.keys.size() == 0 ? 1 : request.key_parts.size() / w.keys.size();
  WriteResult result;
  for (size_t i = 0; i < w.keys.size(); ++i) {
    const size_t times = request.event_time_ms.size();
    const int64_t event_time = times == 0 ? now : request.event_time_ms[times == 1 ? 0 : i];
    auto fill = [&](RowBuilder& builder) {
      for (const auto& [index, c] : w.columns) {
        if (!c->nulls.empty() && c->nulls[i] != 0) continue;
        if (IsVariableWidth(c->type.type)) {
          const auto* base = reinterpret_cast<const char*>(c->data.data());
          builder.SetVar(index,
                         std::string_view(base + c->offsets[i], c->offsets[i + 1] - c->offsets[i]));
        } else {
          const size_t width = FixedWidth(c->type);
          builder.SetFixed(index, c->fixed.data() + i * width, width);
        }
      }
    };
    uint64_t seq = 0;
    const Record* built = nullptr;
    auto build = [&](const Record* current) -> Record* {
      RowBuilder builder(view, current ? current->value() : std::span<const uint8_t>());
      fill(builder);
      Record* r = NewRecord(view, w.keys.views[i], builder.Size(), event_time, now);
      if (r == nullptr) return nullptr;
      builder.WriteTo(r->mutable_value());
      // Taken after `current` was read, so the winner of a race for this
      // key always carries a greater sequence than the value it replaced.
      if (batch != nullptr) seq = history_->NextSeq();
      built = r;
      return r;
    };
    QUIVER_ASSIGN_OR_RETURN(OnlineTable::Outcome outcome,
                            table_.Upsert(view.id, w.keys.views[i], event_time, build));
    if (stats) CountRow(w, i, *stats);
    if (outcome != OnlineTable::Outcome::kStale) {
      ++result.applied;
      // `built` is published and, inside our read lock, not yet freed.
      if (batch)
        RecordVersion(view, w.keys.views[i], event_time, seq, now, built->value(), true, batch);
      if (events)
        events->Written(view, w.keys.views[i], key_values, event_time, built->value(), true);
      continue;
    }
    ++result.stale;
    if (batch == nullptr && events == nullptr) continue;
    // A late row enters the history merged into the version it follows.
    const std::string base = sets_every_field || history_ == nullptr
                                 ? std::string()
                                 : RowAsOf(view, w.keys.views[i], event_time);
    RowBuilder builder(view, {reinterpret_cast<const uint8_t*>(base.data()), base.size()});
    fill(builder);
    std::vector<uint8_t> row(builder.Size());
    builder.WriteTo(row.data());
    if (batch)
      RecordVersion(view, w.keys.views[i], event_time, history_->NextSeq(), now, row, false, batch);
    if (events) events->Written(view, w.keys.views[i], key_values, event_time, row, false);
  }
  return result;
}

Result<WriteResult> FeatureStore::WriteComputed(const ViewSchema& view,
                                                std::span<const ComputedRow> rows,
                                                HistoryBatch* batch) {
  if (history_ != nullptr) QUIVER_RETURN_IF_ERROR(history_->health());
  // A restart rebuilding rows (no batch, with a history) writes nothing new.
  const bool count = stats_ != nullptr && (batch != nullptr || history_ == nullptr);
  if (history_ == nullptr) batch = nullptr;
  const int64_t now = NowMs();
  std::optional<FeatureStats::Writer> stats;
  if (count) stats.emplace(stats_->Begin(view, now));
  RowEvents* const events = batch != nullptr || history_ == nullptr ? Listening(view) : nullptr;
  WriteResult result;
  for (const ComputedRow& row : rows) {
    uint64_t seq = 0;
    auto build = [&](const Record*) -> Record* {
      Record* r = CopyRecord(view, row.key, row.row, row.event_time_ms, now);
      if (r != nullptr && batch != nullptr) seq = history_->NextSeq();
      return r;
    };
    QUIVER_ASSIGN_OR_RETURN(
        OnlineTable::Outcome outcome,
        table_.Upsert(view.id, row.key, row.event_time_ms, build, OnlineTable::Limit::kIgnore));
    if (stats) stats->Packed(row.row);
    const bool applied = outcome != OnlineTable::Outcome::kStale;
    ++(applied ? result.applied : result.stale);
    if (events)
      events->Written(view, row.key, view.key_paths.size(), row.event_time_ms, row.row, applied);
    if (batch == nullptr) continue;
    if (!applied) seq = history_->NextSeq();
    // No latest value: a restart rebuilds computed rows from the window
    // states (Ingestor::Recover), one write fewer per version.
    RecordVersion(view, row.key, row.event_time_ms, seq, now, row.row, false, batch);
  }
  return result;
}

Status FeatureStore::IngestRefusal() const {
  if (history_ != nullptr) QUIVER_RETURN_IF_ERROR(history_->health());
  // Ingestion stops a little short of the limit (1/32 of it), which leaves
  // room for its batch in progress and for the writes of clients.
  const MemoryBudget& budget = table_.budget();
  if (!budget.Near(32)) return Status::Ok();
  return budget.Refusal("ingestion paused", "ingestion waits until memory frees");
}

Result<FeatureStore::Checked> FeatureStore::CheckWrite(const WriteRequest& request) const {
  rcu::ReadLock lock;
  ResolvedWrite w;
  QUIVER_RETURN_IF_ERROR(Validate(request, registry_.current(), &w));
  QUIVER_RETURN_IF_ERROR(CheckMemory(w));
  return Checked{w.view->QualifiedName(), request.key_parts.size() / w.keys.size()};
}

Result<FeatureStore::Checked> FeatureStore::CheckDelete(
    std::string_view view_name, std::span<const std::string_view> key_parts) const {
  rcu::ReadLock lock;
  const Catalog& catalog = registry_.current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* view, CheckDeletable(catalog, view_name));
  EncodedKeys keys;
  QUIVER_RETURN_IF_ERROR(ResolveKeys(*view, catalog, key_parts, &keys));
  if (keys.size() == 0) return Status::InvalidArgument("a delete needs at least one entity");
  return Checked{view->QualifiedName(), key_parts.size() / keys.size()};
}

Result<const ViewSchema*> FeatureStore::CheckDeletable(const Catalog& catalog,
                                                       std::string_view view_name) const {
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* view, catalog.ResolveName(view_name));
  if (!view->source.empty()) {
    return Status::FailedPrecondition("view " + view->QualifiedName() +
                                      " is computed from source '" + view->source +
                                      "'; its rows cannot be deleted one by one");
  }
  return view;
}

Result<uint32_t> FeatureStore::Delete(std::string_view view_name,
                                      std::span<const std::string_view> key_parts,
                                      HistoryBatch* batch) {
  rcu::ReadLock lock;
  const Catalog& catalog = registry_.current();
  QUIVER_ASSIGN_OR_RETURN(const ViewSchema* view, CheckDeletable(catalog, view_name));
  EncodedKeys keys;
  QUIVER_RETURN_IF_ERROR(ResolveKeys(*view, catalog, key_parts, &keys));
  if (history_ != nullptr) QUIVER_RETURN_IF_ERROR(history_->health());
  uint32_t deleted = 0;
  std::string latest_key;
  RowEvents* const events = Listening(*view);
  for (std::string_view key : keys.views) {
    const bool erased = table_.Erase(view->id, key);
    deleted += erased ? 1 : 0;
    if (erased && events) events->Deleted(*view, key, key_parts.size() / keys.size());
    if (history_ == nullptr || batch == nullptr) continue;
    latest_key.clear();
    history::AppendPrefix(view->id, key, &latest_key);
    batch->Delete(HistoryStore::kLatest, latest_key);
  }
  return deleted;
}

bool FeatureStore::Commit(HistoryBatch batch, CommitQueue::Done done) {
  if (history_ == nullptr || batch.empty()) return false;
  if (history_->durability() == Durability::kNone) {
    history_->Submit(std::move(batch), nullptr);
    return false;
  }
  history_->Submit(std::move(batch), std::move(done));
  return true;
}

}  // namespace quiver
