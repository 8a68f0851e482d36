#include "server/resp/hash_access.h"

#include "server/resp/features.h"
#include "server/resp/helpers.h"
#include "storage/keyspace/box.h"
#include "storage/keyspace/packed_items.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;
constexpr size_t kNone = static_cast<size_t>(-1);

// The index of a field's item, or kNone.
size_t FieldIndex(const Items& items, std::string_view field) {
  for (size_t i = 0; i < items.size(); i += 2) {
    if (items[i] == field) return i;
  }
  return kNone;
}

// A packed hash's items, edited as a vector.
class PackedEditor final : public HashEditor {
 public:
  explicit PackedEditor(Items& items) : items_(items) {}
  bool changed() const { return changed_; }

  std::optional<std::string_view> Get(std::string_view field) const override {
    const size_t at = FieldIndex(items_, field);
    return at == kNone ? std::nullopt : std::optional(items_[at + 1]);
  }
  bool Set(std::string_view field, std::string_view value) override {
    changed_ = true;
    const size_t at = FieldIndex(items_, field);
    if (at != kNone) {
      items_[at + 1] = value;
      return false;
    }
    items_.push_back(field);
    items_.push_back(value);
    return true;
  }
  bool Erase(std::string_view field) override {
    const size_t at = FieldIndex(items_, field);
    if (at == kNone) return false;
    items_.erase(items_.begin() + static_cast<ptrdiff_t>(at),
                 items_.begin() + static_cast<ptrdiff_t>(at) + 2);
    changed_ = true;
    return true;
  }

 private:
  Items& items_;
  bool changed_ = false;
};

// A boxed hash, edited in place (its lock held).
class BoxEditor final : public HashEditor {
 public:
  using Boxed = HashBox;
  explicit BoxEditor(HashBox& box) : box_(box) {}
  std::optional<std::string_view> Get(std::string_view field) const override {
    return box_.Find(field);
  }
  bool Set(std::string_view field, std::string_view value) override {
    return box_.Set(field, value);
  }
  bool Erase(std::string_view field) override { return box_.Erase(field); }

 private:
  HashBox& box_;
};

void ItemsOf(const Record* r, Items* items) {
  items->clear();
  if (r != nullptr) DecodeItems(r->value(), items);
}

// A record for the hash `items` make: packed, or boxed if it is too big.
Record* BuildHash(Context& ctx, std::string_view key, const Items& items, int64_t expire_at_ms) {
  const size_t size = PackedSize(items);
  if (items.size() / 2 <= kMaxPackedFields && size <= kMaxPackedBytes) {
    Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kHash, size, expire_at_ms);
    if (r != nullptr) PackItems(items, r->mutable_value());
    return r;
  }
  HashBox* box = HashBox::New(ctx.ks.table(), ctx.ks.BoxPersistence(ctx.db()));
  if (box == nullptr) return nullptr;
  // Filled unlocked: no other thread can reach it yet, and its lock taken
  // under the shard's (this runs in a Mutate) would order the two locks
  // against every writer that erases a hash under its box's lock.
  for (size_t i = 0; i < items.size(); i += 2)
    box->Set(items[i], items[i + 1]);
  Record* r = ctx.ks.NewBoxed(ctx.db(), key, RecordKind::kHash, *box, expire_at_ms);
  box->Unref();  // the record holds it now (or nobody does: it is freed)
  return r;
}

// UpdateHash of a packed (or absent) hash: one compare-and-swap. Sets
// *boxed if another writer boxed the hash meanwhile (nothing is done).
Status UpdatePacked(Context& ctx, std::string_view key, FunctionRef<Status(HashEditor&)> edit,
                    const Record* /*seen*/, bool* boxed) {
  Items items;
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur != nullptr && cur->kind != RecordKind::kHash) return WrongType();
        *boxed = cur != nullptr && cur->boxed();
        if (*boxed) return Change{};
        ItemsOf(cur, &items);
        PackedEditor editor(items);
        QUIVER_RETURN_IF_ERROR(edit(editor));
        if (!editor.changed()) return Change{};
        if (items.empty()) return Change{Change::kErase};
        Record* r = BuildHash(ctx, key, items, cur != nullptr ? cur->expire_at_ms : kNeverExpires);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  return done.status();
}

}  // namespace

std::optional<std::string_view> HashRead::Get(std::string_view field) const {
  if (box_ != nullptr) return box_->Find(field);
  const size_t at = FieldIndex(items_, field);
  return at == kNone ? std::nullopt : std::optional(items_[at + 1]);
}

size_t HashRead::size() const {
  return box_ != nullptr ? box_->fields().size() : items_.size() / 2;
}

const Items& HashRead::items() {
  if (!flat_) {
    items_.reserve(2 * box_->fields().size());
    box_->fields().ForEach([&](std::string_view field, std::string_view value) {
      items_.push_back(field);
      items_.push_back(value);
    });
    flat_ = true;
  }
  return items_;
}

Status FindHash(Context& ctx, std::string_view key, HashRead* read) {
  if (IsFeatureKey(key)) {
    QUIVER_RETURN_IF_ERROR(ReadFeatureRow(ctx.store, key, &read->items_, &read->text_));
    ctx.Looked(!read->items_.empty(), key);
    return Status::Ok();
  }
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kHash);
  if (!r.ok()) return r.status();
  ctx.Looked(*r != nullptr, key);
  if (*r != nullptr && (*r)->boxed()) {
    HashBox& box = HashBox::Of(**r);
    read->lock_ = std::unique_lock(box.mu());
    read->box_ = &box;
    read->flat_ = false;
    return Status::Ok();
  }
  ItemsOf(*r, &read->items_);
  return Status::Ok();
}

Status UpdateBoxedOrPacked(Context& ctx, std::string_view key, RecordKind kind,
                           FunctionRef<Status(Box&)> on_box,
                           FunctionRef<Status(const Record* seen, bool* boxed)> on_packed) {
  for (;;) {
    Result<const Record*> r = ctx.ks.Find(ctx.db(), key, kind);
    if (!r.ok()) return r.status();
    if (*r != nullptr && (*r)->boxed()) {
      Box& box = Box::Of(**r);
      std::lock_guard lock(box.mu());
      if (!ctx.ks.HoldsBox(ctx.db(), key, box)) continue;  // removed meanwhile
      const Status edited = on_box(box);
      ctx.LogBox(box);
      QUIVER_RETURN_IF_ERROR(edited);
      if (box.empty()) return ctx.ks.EraseIfHolds(ctx.db(), key, box);
      return Status::Ok();
    }
    bool boxed = false;  // by another writer, since the Find
    Status st = on_packed(*r, &boxed);
    if (!boxed) return st;
  }
}

Status StoreHash(Context& ctx, std::string_view key, const Items& items, int64_t expire_at_ms) {
  return StoreRecord(ctx, key, items.empty(),
                     [&] { return BuildHash(ctx, key, items, expire_at_ms); });
}

Status UpdateHash(Context& ctx, std::string_view key, FunctionRef<Status(HashEditor&)> edit) {
  return UpdateEdited<BoxEditor, HashEditor>(ctx, key, RecordKind::kHash, edit, UpdatePacked);
}

}  // namespace quiver::resp
