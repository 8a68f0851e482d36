#include "storage/keyspace/box.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <new>

#include "storage/keyspace/key_log.h"
#include "storage/online/online_table.h"
#include "storage/online/record.h"

namespace quiver {

Box& Box::Of(const Record& r) {
  return static_cast<Box&>(*r.box());
}

Box::Box(OnlineTable& table, Persistence p) : table_(table), log_(std::move(p.log)), db_(p.db) {
  if (log_ == nullptr) return;
  id_ = p.id != 0 ? p.id : log_->NewBoxId();
  prefix_ = KeyLog::ItemPrefix(db_, id_);
}

Box::~Box() {
  table_.AddMemory(-charged_);
  if (log_ != nullptr && persisted_) log_->BoxFreed(db_, id_);
}

void Box::Persist(HistoryBatch* out) {
  if (log_ == nullptr || persisted_) return;
  WriteAll();
  persisted_ = true;
  TakeJournal(out);
}

void Box::Loaded(HistoryBatch* out) {
  persisted_ = log_ != nullptr;
  if (persisted_ && NeedsRepair()) {
    JournalRewrite();
    TakeJournal(out);
  }
}

void Box::Journal(HistoryBatch::Op op, std::string_view suffix, std::string_view value) {
  scratch_.assign(prefix_).append(suffix);
  if (op != HistoryBatch::Op::kDeleteRange) {
    journal_.Add(op, log_->items(), scratch_, value);
    return;
  }
  std::string end = prefix_;
  end.append(value);
  journal_.DeleteRange(log_->items(), scratch_, end);
}

void Box::JournalRewrite() {
  std::string end = KeyLog::ItemPrefix(db_, id_ + 1);
  journal_.DeleteRange(log_->items(), prefix_, end);
  WriteAll();
}

void Box::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void Box::Changed(int64_t bytes) {
  charged_ += bytes;
  table_.AddMemory(bytes);
  version_.fetch_add(1, std::memory_order_relaxed);
}

ListBox* ListBox::New(OnlineTable& table, Persistence p) {
  return new (std::nothrow) ListBox(table, std::move(p));
}

std::string ListBox::Suffix(size_t index) const {
  return KeyLog::ListSuffix(head_ + static_cast<int64_t>(index));
}

void ListBox::Push(bool front, std::string_view item) {
  const size_t before = items_.bytes();
  if (front) {
    items_.PushFront(item);
    --head_;
  } else {
    items_.PushBack(item);
  }
  if (journaling()) JournalItem(front ? 0 : items_.size() - 1);
  ChangedFrom(before);
}

std::string ListBox::Pop(bool front) {
  if (journaling()) Journal(HistoryBatch::Op::kDelete, Suffix(front ? 0 : size() - 1), {});
  const size_t before = items_.bytes();
  std::string item(front ? items_.front() : items_.back());
  if (front) {
    items_.PopFront();
    ++head_;
  } else {
    items_.PopBack();
  }
  ChangedFrom(before);
  return item;
}

void ListBox::Set(size_t index, std::string_view item) {
  const size_t before = items_.bytes();
  items_.Set(index, item);
  if (journaling()) JournalItem(index);
  ChangedFrom(before);
}

void ListBox::Insert(size_t index, std::string_view item) {
  const size_t before = items_.bytes();
  items_.Insert(index, item);
  if (journaling()) JournalRewrite();  // every later position moves
  ChangedFrom(before);
}

void ListBox::Keep(size_t start, size_t stop) {
  stop = std::min(stop, items_.size());
  start = std::min(start, stop);
  if (journaling()) {
    if (stop < size()) Journal(HistoryBatch::Op::kDeleteRange, Suffix(stop), Suffix(size()));
    if (start > 0) Journal(HistoryBatch::Op::kDeleteRange, Suffix(0), Suffix(start));
  }
  const size_t before = items_.bytes();
  while (items_.size() > stop)
    items_.PopBack();
  for (size_t i = 0; i < start; ++i)
    items_.PopFront();
  head_ += static_cast<int64_t>(start);
  ChangedFrom(before);
}

void ListBox::Load(int64_t position, std::string_view item) {
  if (items_.empty()) {
    head_ = position;
  } else if (position != head_ + static_cast<int64_t>(items_.size())) {
    gaps_ = true;
  }
  const size_t before = items_.bytes();
  items_.PushBack(item);
  ChangedFrom(before);
}

void ListBox::WriteAll() {
  items_.ForEach(0, items_.size(), false, [&](size_t i, std::string_view item) {
    Journal(HistoryBatch::Op::kPut, Suffix(i), item);
    return true;
  });
}

size_t ListBox::Remove(std::string_view item, size_t limit, bool from_tail) {
  const size_t before = items_.bytes();
  const size_t removed = items_.Remove(item, limit, from_tail);
  if (removed > 0 && journaling()) JournalRewrite();
  if (removed > 0) ChangedFrom(before);
  return removed;
}

HashBox* HashBox::New(OnlineTable& table, Persistence p) {
  return new (std::nothrow) HashBox(table, std::move(p));
}

void HashBox::WriteAll() {
  fields_.ForEach([&](std::string_view field, std::string_view value) {
    Journal(HistoryBatch::Op::kPut, field, value);
  });
}

bool HashBox::Set(std::string_view field, std::string_view value) {
  if (journaling()) Journal(HistoryBatch::Op::kPut, field, value);
  size_t old = 0;
  const bool added = fields_.Set(field, value, &old);
  Changed(Cost(field, value.size()) - (added ? 0 : Cost(field, old)));
  return added;
}

bool HashBox::Erase(std::string_view field) {
  size_t old = 0;
  if (!fields_.Erase(field, &old)) return false;
  if (journaling()) Journal(HistoryBatch::Op::kDelete, field, {});
  Changed(-Cost(field, old));
  return true;
}

Box* ListBox::Clone(Persistence p) const {
  ListBox* copy = New(table(), std::move(p));
  if (copy == nullptr) return nullptr;
  // Not yet reachable by another thread: filled without its lock.
  items_.ForEach(0, items_.size(), false, [&](size_t, std::string_view item) {
    copy->Push(false, item);
    return true;
  });
  return copy;
}

Box* HashBox::Clone(Persistence p) const {
  HashBox* copy = New(table(), std::move(p));
  if (copy == nullptr) return nullptr;
  // Not yet reachable by another thread: filled without its lock.
  fields_.ForEach([&](std::string_view field, std::string_view value) { copy->Set(field, value); });
  return copy;
}

ZSetBox* ZSetBox::New(OnlineTable& table, Persistence p) {
  return new (std::nothrow) ZSetBox(table, std::move(p));
}

void ZSetBox::JournalSet(std::string_view member, double score) {
  Journal(HistoryBatch::Op::kPut, member, {reinterpret_cast<const char*>(&score), sizeof(score)});
}

void ZSetBox::WriteAll() {
  index_.ForRange(0, index_.size(), false, [&](const ZItem& item) {
    JournalSet(item.member, item.score);
    return true;
  });
}

bool ZSetBox::Set(std::string_view member, double score) {
  if (journaling()) JournalSet(member, score);
  const bool added = index_.Set(member, score);
  if (added) Changed(static_cast<int64_t>(ZIndex::Cost(member.size())));
  return added;
}

bool ZSetBox::Erase(std::string_view member) {
  if (!index_.Erase(member)) return false;
  if (journaling()) Journal(HistoryBatch::Op::kDelete, member, {});
  Changed(-static_cast<int64_t>(ZIndex::Cost(member.size())));
  return true;
}

bool ZSetBox::Load(std::string_view member, std::string_view value) {
  double score = 0;
  if (value.size() != sizeof(score)) return false;
  std::memcpy(&score, value.data(), sizeof(score));
  if (std::isnan(score)) return false;
  Set(member, score);
  return true;
}

Box* ZSetBox::Clone(Persistence p) const {
  ZSetBox* copy = New(table(), std::move(p));
  if (copy == nullptr) return nullptr;
  // Not yet reachable by another thread: filled without its lock.
  index_.ForRange(0, index_.size(), false, [&](const ZItem& item) {
    copy->Set(item.member, item.score);
    return true;
  });
  return copy;
}

}  // namespace quiver
