#include "server/resp/zset_access.h"

#include <algorithm>

#include "server/resp/hash_access.h"
#include "server/resp/helpers.h"
#include "server/resp/packed_update.h"
#include "storage/keyspace/box.h"
#include "storage/keyspace/packed_zset.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;

// A packed (or absent) sorted set, edited as a sorted vector while it is
// small, and in a box of its own once it outgrows the packed limits.
class PackedEditor final : public ZSetEditor {
 public:
  explicit PackedEditor(Context& ctx) : ctx_(ctx) {}
  ~PackedEditor() {
    if (big_ != nullptr) big_->Unref();
  }
  PackedEditor(const PackedEditor&) = delete;
  PackedEditor& operator=(const PackedEditor&) = delete;
  static Status Corrupt() { return Status::Internal("a sorted set's stored value is malformed"); }

  // cur: the sorted set's packed record, or nullptr; false if it is malformed.
  bool Load(const Record* cur) { return cur == nullptr || DecodeZSet(cur->value(), &items_); }
  bool changed() const { return changed_; }

  ZItems items() const override { return big_ != nullptr ? ZItems(big_->index()) : ZItems(items_); }
  bool Set(std::string_view member, double score) override {
    if (big_ == nullptr && member.size() > kMaxZSetListpackValue) ToBig();
    if (big_ != nullptr) {
      changed_ = true;
      return big_->Set(member, score);
    }
    auto it = Find(member);
    const bool added = it == items_.end();
    if (!added) {
      if (it->score == score) return false;
      items_.erase(it);
    }
    changed_ = true;
    const ZItem item{member, score};
    items_.insert(std::lower_bound(items_.begin(), items_.end(), item, ZLess), item);
    if (items_.size() > kMaxZSetListpackEntries) ToBig();
    return added;
  }
  bool Erase(std::string_view member) override {
    if (big_ != nullptr) return Changed(big_->Erase(member));
    auto it = Find(member);
    if (it == items_.end()) return false;
    items_.erase(it);
    return Changed(true);
  }

  // The record of the sorted set as edited: packed, or boxed if it outgrew
  // the packed form; nullptr if memory ran out.
  Record* Build(Context& ctx, std::string_view key, int64_t expire_at_ms) {
    if (big_ != nullptr)
      return ctx.ks.NewBoxed(ctx.db(), key, RecordKind::kZSet, *big_, expire_at_ms);
    Record* r =
        ctx.ks.NewRecord(ctx.db(), key, RecordKind::kZSet, PackedZSetSize(items_), expire_at_ms);
    if (r != nullptr) PackZSet(items_, r->mutable_value());
    return r;
  }

 private:
  std::vector<ZItem>::iterator Find(std::string_view member) {
    return std::find_if(items_.begin(), items_.end(),
                        [member](const ZItem& item) { return item.member == member; });
  }
  bool Changed(bool changed) {
    changed_ = changed_ || changed;
    return changed;
  }
  // Moves the items into a box of their own: filled unlocked, since no
  // other thread can reach it yet (and its lock taken under a shard's,
  // in a Mutate, would order the two locks against every other writer).
  void ToBig() {
    big_ = ZSetBox::New(ctx_.ks.table(), ctx_.ks.BoxPersistence(ctx_.db()));
    if (big_ == nullptr) throw std::bad_alloc();
    for (const ZItem& item : items_)
      big_->Set(item.member, item.score);
    items_.clear();
  }

  Context& ctx_;
  std::vector<ZItem> items_;  // in order, while packed
  ZSetBox* big_ = nullptr;    // one reference, this editor's
  bool changed_ = false;
};

// A boxed sorted set, edited in place (its lock held).
class BoxEditor final : public ZSetEditor {
 public:
  using Boxed = ZSetBox;
  explicit BoxEditor(ZSetBox& box) : box_(box) {}
  ZItems items() const override { return ZItems(box_.index()); }
  bool Set(std::string_view member, double score) override { return box_.Set(member, score); }
  bool Erase(std::string_view member) override { return box_.Erase(member); }

 private:
  ZSetBox& box_;
};

Status UpdatePacked(Context& ctx, std::string_view key, FunctionRef<Status(ZSetEditor&)> edit,
                    const Record* seen, bool* boxed) {
  return UpdatePackedWith<PackedEditor, ZSetEditor>(ctx, key, RecordKind::kZSet, edit, seen, boxed);
}

}  // namespace

std::optional<double> ZItems::Score(std::string_view member) const {
  if (index_ != nullptr) return index_->Score(member);
  for (const ZItem& item : packed_) {
    if (item.member == member) return item.score;
  }
  return std::nullopt;
}

std::optional<size_t> ZItems::Rank(std::string_view member) const {
  const std::optional<double> score = Score(member);
  if (!score) return std::nullopt;
  const ZItem at{member, *score};
  return CountBefore([&](const ZItem& item) { return ZLess(item, at); });
}

size_t ZItems::CountBefore(FunctionRef<bool(const ZItem&)> before) const {
  if (index_ != nullptr) return index_->CountBefore(before);
  return static_cast<size_t>(std::partition_point(packed_.begin(), packed_.end(),
                                                  [&](const ZItem& item) { return before(item); }) -
                             packed_.begin());
}

void ZItems::ForRange(size_t from, size_t to, bool reverse,
                      FunctionRef<bool(const ZItem&)> fn) const {
  if (index_ != nullptr) return index_->ForRange(from, to, reverse, fn);
  for (size_t i = from; i < to; ++i) {
    if (!fn(packed_[reverse ? to - 1 - (i - from) : i])) return;
  }
}

Status FindZSet(Context& ctx, std::string_view key, ZSetRead* read) {
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kZSet);
  if (!r.ok()) return r.status();
  ctx.Looked(*r != nullptr, key);
  if (*r == nullptr) return Status::Ok();  // empty
  if ((*r)->boxed()) {
    ZSetBox& box = ZSetBox::Of(**r);
    read->lock_ = std::unique_lock(box.mu());
    read->items_ = ZItems(box.index());
    return Status::Ok();
  }
  if (!DecodeZSet((*r)->value(), &read->packed_)) return PackedEditor::Corrupt();
  read->items_ = ZItems(read->packed_);
  return Status::Ok();
}

Status UpdateZSet(Context& ctx, std::string_view key, FunctionRef<Status(ZSetEditor&)> edit) {
  return UpdateEdited<BoxEditor, ZSetEditor>(ctx, key, RecordKind::kZSet, edit, UpdatePacked);
}

Status StoreZSet(Context& ctx, std::string_view key, std::span<const ZItem> items,
                 int64_t expire_at_ms) {
  return StoreRecord(ctx, key, items.empty(), [&] {
    PackedEditor editor(ctx);
    for (const ZItem& item : items)
      editor.Set(item.member, item.score);
    return editor.Build(ctx, key, expire_at_ms);
  });
}

}  // namespace quiver::resp
