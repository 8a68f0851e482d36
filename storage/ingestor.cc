#include "storage/ingestor.h"

#include "storage/history_key.h"
#include "storage/rcu.h"

namespace quiver {

namespace {

std::string StateKey(uint32_t view_id, std::string_view key) {
  std::string out;
  history::AppendPrefix(view_id, key, &out);
  return out;
}

}  // namespace

Ingestor::Ingestor(FeatureStore& store) : store_(store) {}

size_t Ingestor::entities() const {
  std::lock_guard<std::mutex> lock(mu_);
  return states_.size();
}

Status Ingestor::Recover() {
  HistoryStore* history = store_.history();
  if (history == nullptr) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  return history->ScanState([&](const history::DecodedKey& key, std::string_view bytes) -> Status {
    const ViewSchema* view = catalog.ById(key.view_id);
    if (view == nullptr || view->source.empty()) return Status::Ok();
    WindowedView w(*view);
    QUIVER_ASSIGN_OR_RETURN(EntityState state, w.Decode(bytes));
    // The online row is the newest version written, which the state
    // alone determines.
    const int64_t t = w.LastChange(state);
    const std::string row = w.Row(state, t);
    const ComputedRow online{
        key.entity_key, t, {reinterpret_cast<const uint8_t*>(row.data()), row.size()}};
    QUIVER_RETURN_IF_ERROR(store_.WriteComputed(*view, {&online, 1}, nullptr).status());
    const std::string state_key = StateKey(key.view_id, key.entity_key);
    Entry& entry = states_[state_key];
    entry.state = std::move(state);
    entry.scheduled = w.NextChange(entry.state);
    if (entry.scheduled != INT64_MAX) due_.emplace(entry.scheduled, state_key);
    return Status::Ok();
  });
}

Status Ingestor::Write(const WindowedView& w, std::string_view key, const std::string& state_key,
                       Entry& entry, std::vector<ComputedVersion>& versions, HistoryBatch* batch,
                       IngestCounts* counts) {
  rows_.clear();
  for (const ComputedVersion& v : versions) {
    rows_.push_back(
        {key, v.event_time, {reinterpret_cast<const uint8_t*>(v.row.data()), v.row.size()}});
  }
  QUIVER_RETURN_IF_ERROR(store_.WriteComputed(w.view(), rows_, batch).status());
  counts->versions += versions.size();
  versions.clear();
  if (batch != nullptr && store_.history() != nullptr && !entry.dirty) {
    entry.dirty = true;
    dirty_.emplace_back(&state_key, &entry);
  }
  const int64_t next = w.NextChange(entry.state);
  if (next < entry.scheduled) {
    entry.scheduled = next;
    due_.emplace(next, state_key);
  }
  return Status::Ok();
}

void Ingestor::SaveDirty(const Catalog& catalog, HistoryBatch* batch) {
  for (auto [state_key, entry] : dirty_) {
    entry->dirty = false;
    const auto key = history::DecodeKey(*state_key, false);
    const ViewSchema* view = key ? catalog.ById(key->view_id) : nullptr;
    if (view != nullptr) {
      batch->Add(HistoryBatch::Op::kPutState, *state_key, WindowedView(*view).Encode(entry->state));
    }
  }
  dirty_.clear();
}

Status Ingestor::Apply(std::span<const SourceEvent> events, HistoryBatch* batch,
                       IngestCounts* counts) {
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  std::vector<ComputedVersion> versions;
  for (const SourceEvent& e : events) {
    const ViewSchema* view = catalog.ById(e.view_id);
    if (view == nullptr || view->source.empty()) continue;
    WindowedView w(*view);
    key_scratch_.clear();
    history::AppendPrefix(e.view_id, e.key, &key_scratch_);
    auto [it, fresh] = states_.try_emplace(key_scratch_);
    if (fresh) it->second.state = w.NewState();
    if (!w.Apply(it->second.state, e.event_time_ms, e.values, &versions)) {
      ++counts->too_late;
      continue;
    }
    ++counts->events;
    QUIVER_RETURN_IF_ERROR(Write(w, e.key, it->first, it->second, versions, batch, counts));
  }
  SaveDirty(catalog, batch);
  return Status::Ok();
}

Status Ingestor::Advance(int64_t until, HistoryBatch* batch, IngestCounts* counts) {
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  std::vector<ComputedVersion> versions;
  while (!due_.empty() && due_.top().first <= until) {
    const auto [time, state_key] = due_.top();
    due_.pop();
    auto it = states_.find(state_key);
    if (it == states_.end() || it->second.scheduled != time) continue;  // rescheduled since
    it->second.scheduled = INT64_MAX;
    const auto key = history::DecodeKey(state_key, false);
    const ViewSchema* view = key ? catalog.ById(key->view_id) : nullptr;
    if (view == nullptr) continue;
    WindowedView w(*view);
    w.Advance(it->second.state, until, &versions);
    QUIVER_RETURN_IF_ERROR(
        Write(w, key->entity_key, it->first, it->second, versions, batch, counts));
  }
  SaveDirty(catalog, batch);
  return Status::Ok();
}

}  // namespace quiver
