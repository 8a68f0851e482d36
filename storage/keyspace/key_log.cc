#include "storage/keyspace/key_log.h"

#include "storage/history/history_key.h"

namespace quiver {

namespace {

constexpr uint64_t kSignBit = uint64_t{1} << 63;
constexpr size_t kDbBytes = 4;
constexpr size_t kKvHeader = 2 + 8;  // kind, flags, expire_at_ms

void AppendBig32(uint32_t v, std::string* out) {
  for (int shift = 24; shift >= 0; shift -= 8)
    out->push_back(static_cast<char>((v >> shift) & 0xff));
}

uint32_t ReadBig32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i)
    v = (v << 8) | static_cast<uint8_t>(p[i]);
  return v;
}

}  // namespace

Result<std::shared_ptr<KeyLog>> KeyLog::Open(HistoryStore& store) {
  QUIVER_ASSIGN_OR_RETURN(ColumnFamily kv, store.OpenColumn(kKvColumn));
  QUIVER_ASSIGN_OR_RETURN(ColumnFamily items, store.OpenColumn(kItemsColumn));
  return std::shared_ptr<KeyLog>(new KeyLog(store, kv, items));
}

void KeyLog::BoxFreed(int db, uint64_t box_id) {
  std::lock_guard<std::mutex> lock(detach_mu_);
  if (detached_) return;
  HistoryBatch batch;
  batch.DeleteRange(items_, ItemPrefix(db, box_id), ItemPrefix(db, box_id + 1));
  store_->Submit(std::move(batch), nullptr);
}

void KeyLog::Detach() {
  std::lock_guard<std::mutex> lock(detach_mu_);
  detached_ = true;
}

void KeyLog::SawBoxId(uint64_t id) {
  uint64_t next = next_box_id_.load(std::memory_order_relaxed);
  while (next <= id && !next_box_id_.compare_exchange_weak(next, id + 1)) {
  }
}

std::string KeyLog::KvKey(int db, std::string_view key) {
  std::string out;
  out.reserve(kDbBytes + key.size());
  AppendBig32(static_cast<uint32_t>(db), &out);
  out.append(key);
  return out;
}

std::string KeyLog::KvValue(const Record& r, uint64_t box_id) {
  std::string out;
  const auto value = r.value();
  out.reserve(kKvHeader + (r.boxed() ? 8 : value.size()));
  out.push_back(static_cast<char>(r.kind));
  out.push_back(static_cast<char>(r.boxed() ? kBoxedValue : 0));
  history::AppendBig64(static_cast<uint64_t>(r.expire_at_ms), &out);
  if (r.boxed()) {
    history::AppendBig64(box_id, &out);
  } else {
    out.append(reinterpret_cast<const char*>(value.data()), value.size());
  }
  return out;
}

std::string KeyLog::DbBegin(int db) {
  std::string out;
  AppendBig32(static_cast<uint32_t>(db), &out);
  return out;
}

std::string KeyLog::ItemPrefix(int db, uint64_t box_id) {
  std::string out = DbBegin(db);
  history::AppendBig64(box_id, &out);
  return out;
}

std::string KeyLog::ListSuffix(int64_t position) {
  std::string out;
  history::AppendBig64(static_cast<uint64_t>(position) ^ kSignBit, &out);
  return out;
}

std::optional<KeyLog::DecodedKv> KeyLog::DecodeKv(std::string_view key, std::string_view value) {
  if (key.size() < kDbBytes || value.size() < kKvHeader) return std::nullopt;
  DecodedKv d{};
  d.db = static_cast<int>(ReadBig32(key.data()));
  d.key = key.substr(kDbBytes);
  const auto kind = static_cast<uint8_t>(value[0]);
  if (kind < static_cast<uint8_t>(RecordKind::kString) ||
      kind > static_cast<uint8_t>(RecordKind::kZSet)) {
    return std::nullopt;
  }
  d.kind = static_cast<RecordKind>(kind);
  d.boxed = (static_cast<uint8_t>(value[1]) & kBoxedValue) != 0;
  d.expire_at_ms = static_cast<int64_t>(history::ReadBig64(value.data() + 2));
  d.value = value.substr(kKvHeader);
  if (d.boxed) {
    if (d.value.size() != 8) return std::nullopt;
    d.box_id = history::ReadBig64(d.value.data());
  } else if (d.kind == RecordKind::kList) {
    return std::nullopt;  // lists are always boxed
  }
  return d;
}

std::optional<KeyLog::DecodedItem> KeyLog::DecodeItem(std::string_view key) {
  if (key.size() < kDbBytes + 8) return std::nullopt;
  return DecodedItem{static_cast<int>(ReadBig32(key.data())),
                     history::ReadBig64(key.data() + kDbBytes), key.substr(kDbBytes + 8)};
}

std::optional<int64_t> KeyLog::DecodeListSuffix(std::string_view suffix) {
  if (suffix.size() != 8) return std::nullopt;
  return static_cast<int64_t>(history::ReadBig64(suffix.data()) ^ kSignBit);
}

}  // namespace quiver
