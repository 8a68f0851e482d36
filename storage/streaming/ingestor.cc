#include "storage/streaming/ingestor.h"

#include <algorithm>
#include <cstring>
#include <new>

#include <xxhash.h>

#include "storage/history/history_key.h"
#include "util/rcu.h"

namespace quiver {

Ingestor::Ingestor(FeatureStore& store) : store_(store) {
  HistoryStore* history = store.history();
  if (history == nullptr) return;
  Result<ColumnFamily> column = history->OpenColumn(kStateColumn);
  if (column.ok()) {
    state_column_ = *column;
  } else {
    column_status_ = column.status();
  }
}

Ingestor::~Ingestor() {
  store_.table().budget().Add(MemoryPart::kWindows, -static_cast<int64_t>(bytes_.load()));
  states_.ForEach([](Entry& e) {
    e.~Entry();
    ::operator delete(&e);
  });
}

void Ingestor::Account(Entry& entry) {
  const auto bytes =
      static_cast<uint32_t>(sizeof(Entry) + entry.key_size + StateHeapBytes(entry.state));
  state_bytes_ += bytes;
  state_bytes_ -= entry.bytes;
  entry.bytes = bytes;
}

void Ingestor::Publish() {
  entities_.store(states_.size(), std::memory_order_relaxed);
  const size_t bytes = state_bytes_ + states_.slot_bytes();
  const size_t was = bytes_.exchange(bytes, std::memory_order_relaxed);
  // The window states count against --max-memory.
  store_.table().budget().Add(MemoryPart::kWindows,
                              static_cast<int64_t>(bytes) - static_cast<int64_t>(was));
}

uint64_t Ingestor::Hash(uint32_t view_id, std::string_view key) {
  return HashSlots<Entry>::Nonzero(XXH3_64bits_withSeed(key.data(), key.size(), view_id));
}

Ingestor::Entry& Ingestor::FindOrAdd(uint64_t hash, uint32_t view_id, std::string_view key,
                                     const WindowedView& w) {
  const auto same = [&](const Entry& e) { return e.view_id == view_id && e.key() == key; };
  // Room first, as FlatMap::Set does: then one probe finds the entry or
  // the slot for it (most keys of a large stream are new).
  states_.ReserveOne();
  auto* slot = states_.Locate(hash, same);
  if (slot->entry != nullptr) return *slot->entry;
  void* memory = ::operator new(sizeof(Entry) + key.size());
  auto* entry = new (memory)
      Entry{w.NewState(), INT64_MAX, view_id, static_cast<uint32_t>(key.size()), 0, false};
  if (!key.empty()) std::memcpy(reinterpret_cast<char*>(entry + 1), key.data(), key.size());
  states_.Fill(slot, hash, entry);
  Account(*entry);
  return *entry;
}

Status Ingestor::Recover() {
  HistoryStore* history = store_.history();
  QUIVER_RETURN_IF_ERROR(column_status_);
  if (history == nullptr) return Status::Ok();
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  const Status scanned =
      history->Scan(*state_column_, {}, [&](std::string_view k, std::string_view bytes) -> Status {
        const auto decoded = history::DecodeKey(k, false);
        if (!decoded) return Status::IoError("corrupt key in the state column family");
        const history::DecodedKey& key = *decoded;
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
        Entry& entry = FindOrAdd(Hash(key.view_id, key.entity_key), key.view_id, key.entity_key, w);
        entry.state = std::move(state);
        Account(entry);
        entry.scheduled = w.NextChange(entry.state);
        if (entry.scheduled != INT64_MAX) due_.emplace(entry.scheduled, &entry);
        return Status::Ok();
      });
  Publish();
  return scanned;
}

Status Ingestor::Write(const WindowedView& w, Entry& entry, HistoryBatch* batch,
                       IngestCounts* counts) {
  Account(entry);
  rows_.clear();
  for (const ComputedVersion& v : versions_) {
    rows_.push_back({entry.key(),
                     v.event_time,
                     {reinterpret_cast<const uint8_t*>(v.row.data()), v.row.size()}});
  }
  const Status written = store_.WriteComputed(w.view(), rows_, batch).status();
  if (written.ok()) counts->versions += versions_.size();
  versions_.clear();  // written or not, they are this entity's only
  QUIVER_RETURN_IF_ERROR(written);
  if (batch != nullptr && state_column_ && !entry.dirty) {
    entry.dirty = true;
    dirty_.push_back(&entry);
  }
  const int64_t next = w.NextChange(entry.state);
  if (next < entry.scheduled) {
    entry.scheduled = next;
    due_.emplace(next, &entry);
  }
  return Status::Ok();
}

void Ingestor::SaveDirty(const Catalog& catalog, HistoryBatch* batch) {
  for (Entry* entry : dirty_) {
    entry->dirty = false;
    const ViewSchema* view = catalog.ById(entry->view_id);
    if (view == nullptr) continue;
    key_scratch_.clear();
    history::AppendPrefix(entry->view_id, entry->key(), &key_scratch_);
    const size_t key_size = key_scratch_.size();
    WindowedView(*view).EncodeTo(entry->state, &key_scratch_);
    const std::string_view both = key_scratch_;
    batch->Put(*state_column_, both.substr(0, key_size), both.substr(key_size));
  }
  dirty_.clear();
}

void Ingestor::PrefetchChunk(std::span<const SourceEvent> chunk) {
  // The slots of both tables first, then what they point to: the misses
  // of a chunk overlap instead of following one another.
  hashes_.resize(chunk.size());
  for (size_t i = 0; i < chunk.size(); ++i) {
    hashes_[i] = Hash(chunk[i].view_id, chunk[i].key);
    states_.Prefetch(hashes_[i]);
  }
  // Online rows, grouped by view (a source's events feed few views).
  for (size_t i = 0; i < chunk.size(); ++i) {
    const uint32_t view_id = chunk[i].view_id;
    bool seen = false;
    for (size_t j = 0; j < i && !seen; ++j)
      seen = chunk[j].view_id == view_id;
    if (seen) continue;
    keys_.clear();
    for (size_t j = i; j < chunk.size(); ++j) {
      if (chunk[j].view_id == view_id) keys_.push_back(chunk[j].key);
    }
    store_.table().Prefetch(view_id, keys_);
  }
  for (size_t i = 0; i < chunk.size(); ++i)
    states_.PrefetchEntry(hashes_[i]);
}

Status Ingestor::Apply(std::span<const SourceEvent> events, HistoryBatch* batch,
                       IngestCounts* counts) {
  QUIVER_RETURN_IF_ERROR(column_status_);
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  for (size_t base = 0; base < events.size(); base += kChunk) {
    const auto chunk = events.subspan(base, std::min(kChunk, events.size() - base));
    PrefetchChunk(chunk);
    for (size_t i = 0; i < chunk.size(); ++i) {
      const SourceEvent& e = chunk[i];
      const ViewSchema* view = catalog.ById(e.view_id);
      if (view == nullptr || view->source.empty()) continue;
      WindowedView w(*view);
      Entry& entry = FindOrAdd(hashes_[i], e.view_id, e.key, w);
      if (!w.Apply(entry.state, e.event_time_ms, e.values, &versions_)) {
        ++counts->too_late;
        continue;
      }
      ++counts->events;
      QUIVER_RETURN_IF_ERROR(Write(w, entry, batch, counts));
    }
  }
  SaveDirty(catalog, batch);
  Publish();
  return Status::Ok();
}

Status Ingestor::Advance(int64_t until, HistoryBatch* batch, IngestCounts* counts) {
  QUIVER_RETURN_IF_ERROR(column_status_);
  std::lock_guard<std::mutex> lock(mu_);
  rcu::ReadLock read;
  const Catalog& catalog = store_.registry().current();
  while (!due_.empty() && due_.top().first <= until) {
    const auto [time, entry] = due_.top();
    due_.pop();
    if (entry->scheduled != time) continue;  // rescheduled since
    entry->scheduled = INT64_MAX;
    const ViewSchema* view = catalog.ById(entry->view_id);
    if (view == nullptr) continue;
    WindowedView w(*view);
    w.Advance(entry->state, until, &versions_);
    QUIVER_RETURN_IF_ERROR(Write(w, *entry, batch, counts));
  }
  SaveDirty(catalog, batch);
  Publish();
  return Status::Ok();
}

}  // namespace quiver
