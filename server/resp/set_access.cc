#include "server/resp/set_access.h"

#include <algorithm>
#include <unordered_set>
#include <utility>

#include "server/resp/hash_access.h"
#include "server/resp/helpers.h"
#include "server/resp/packed_update.h"
#include "storage/keyspace/box.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;

bool HasInt(const std::vector<int64_t>& ints, std::string_view member) {
  int64_t v = 0;
  return SetInteger(member, &v) && std::binary_search(ints.begin(), ints.end(), v);
}

// A packed (or absent) set, edited as an intset while every member is an
// integer, as a listpack while it is small, and as a hash set once it
// outgrows both (it is then built into a box).
class PackedEditor final : public SetEditor {
 public:
  explicit PackedEditor(Context& /*ctx*/) {}
  static Status Corrupt() { return Status::Internal("a set's stored value is malformed"); }
  // cur: the set's packed record, or nullptr; false if it is malformed.
  bool Load(const Record* cur) {
    if (cur == nullptr) return true;
    if (!DecodeSet(cur->value(), &set_)) return false;
    mode_ = set_.encoding == SetEncoding::kIntSet ? kInts : kStrs;
    return true;
  }
  bool changed() const { return changed_; }

  bool Contains(std::string_view m) const override {
    if (mode_ == kInts) return HasInt(set_.ints, m);
    if (mode_ == kBig) return big_.contains(m);
    return std::find(set_.strs.begin(), set_.strs.end(), m) != set_.strs.end();
  }
  bool Add(std::string_view m) override {
    if (mode_ == kInts) {
      int64_t v = 0;
      if (SetInteger(m, &v)) return AddInt(v);
      ToStrs();
    }
    if (Contains(m)) return false;
    changed_ = true;
    if (mode_ == kBig) return big_.insert(m).second;
    set_.strs.push_back(m);
    if (set_.strs.size() > kMaxListpackEntries || m.size() > kMaxListpackValue) ToBig();
    return true;
  }
  bool Remove(std::string_view m) override {
    if (mode_ == kBig) return Removed(big_.erase(m) > 0);
    if (mode_ == kStrs) {
      auto it = std::find(set_.strs.begin(), set_.strs.end(), m);
      if (it == set_.strs.end()) return false;
      set_.strs.erase(it);
      return Removed(true);
    }
    int64_t v = 0;
    if (!SetInteger(m, &v)) return false;
    auto it = std::lower_bound(set_.ints.begin(), set_.ints.end(), v);
    if (it == set_.ints.end() || *it != v) return false;
    set_.ints.erase(it);
    return Removed(true);
  }
  size_t size() const override {
    return mode_ == kBig ? big_.size() : mode_ == kInts ? set_.ints.size() : set_.strs.size();
  }
  std::string Pick(uint64_t r) const override {
    const size_t at = r % size();
    if (mode_ == kInts) return std::to_string(set_.ints[at]);
    if (mode_ == kStrs) return std::string(set_.strs[at]);
    return std::string(*std::next(big_.begin(), static_cast<ptrdiff_t>(at)));
  }
  void ForEach(FunctionRef<void(std::string_view)> fn) const override {
    if (mode_ == kInts) {
      for (int64_t v : set_.ints)
        fn(std::to_string(v));
    } else if (mode_ == kStrs) {
      for (std::string_view m : set_.strs)
        fn(m);
    } else {
      for (std::string_view m : big_)
        fn(m);
    }
  }

  // The record of the set as edited: packed, or boxed if it outgrew the
  // packed forms; nullptr if memory ran out.
  Record* Build(Context& ctx, std::string_view key, int64_t expire_at_ms) {
    if (mode_ != kBig) {
      set_.encoding = mode_ == kInts ? SetEncoding::kIntSet : SetEncoding::kListpack;
      Record* r =
          ctx.ks.NewRecord(ctx.db(), key, RecordKind::kSet, PackedSetSize(set_), expire_at_ms);
      if (r != nullptr) PackSet(set_, r->mutable_value());
      return r;
    }
    HashBox* box = HashBox::New(ctx.ks.table(), ctx.ks.BoxPersistence(ctx.db()));
    if (box == nullptr) return nullptr;
    // Filled unlocked: no other thread can reach it yet, and its lock
    // taken under the shard's (Build runs in a Mutate) would order the two
    // locks against every writer that erases a set under its box's lock.
    for (std::string_view m : big_)
      box->Set(m, {});
    Record* r = ctx.ks.NewBoxed(ctx.db(), key, RecordKind::kSet, *box, expire_at_ms);
    box->Unref();  // the record holds it now (or nobody does: it is freed)
    return r;
  }

 private:
  enum Mode { kInts, kStrs, kBig };

  bool AddInt(int64_t v) {
    auto it = std::lower_bound(set_.ints.begin(), set_.ints.end(), v);
    if (it != set_.ints.end() && *it == v) return false;
    set_.ints.insert(it, v);
    changed_ = true;
    if (set_.ints.size() > kMaxIntSetEntries) ToBig();
    return true;
  }
  bool Removed(bool removed) {
    changed_ = changed_ || removed;
    return removed;
  }
  // An intset meets a member that is not an integer.
  void ToStrs() {
    texts_.reserve(set_.ints.size());  // never reallocated: strs view them
    for (int64_t v : set_.ints)
      set_.strs.push_back(texts_.emplace_back(std::to_string(v)));
    set_.ints.clear();
    mode_ = kStrs;
    if (set_.strs.size() >= kMaxListpackEntries) ToBig();
  }
  void ToBig() {
    if (mode_ == kInts) ToStrs();
    big_.insert(set_.strs.begin(), set_.strs.end());
    set_.strs.clear();
    mode_ = kBig;
  }

  Mode mode_ = kInts;
  PackedSet set_;
  std::unordered_set<std::string_view> big_;
  std::vector<std::string> texts_;  // an intset's members as text
  bool changed_ = false;
};

// A boxed set, edited in place (its lock held).
class BoxEditor final : public SetEditor {
 public:
  using Boxed = HashBox;
  explicit BoxEditor(HashBox& box) : box_(box) {}
  bool Contains(std::string_view m) const override { return box_.Find(m).has_value(); }
  bool Add(std::string_view m) override { return box_.Set(m, {}); }
  bool Remove(std::string_view m) override { return box_.Erase(m); }
  size_t size() const override { return box_.fields().size(); }
  std::string Pick(uint64_t r) const override { return std::string(box_.fields().KeyNear(r)); }
  void ForEach(FunctionRef<void(std::string_view)> fn) const override {
    box_.fields().ForEach([&](std::string_view m, std::string_view) { fn(m); });
  }

 private:
  HashBox& box_;
};

Status UpdatePacked(Context& ctx, std::string_view key, FunctionRef<Status(SetEditor&)> edit,
                    const Record* seen, bool* boxed) {
  return UpdatePackedWith<PackedEditor, SetEditor>(ctx, key, RecordKind::kSet, edit, seen, boxed);
}

}  // namespace

bool SetRead::Contains(std::string_view member) const {
  if (box_ != nullptr) return box_->Find(member).has_value();
  if (packed_.encoding == SetEncoding::kIntSet) return HasInt(packed_.ints, member);
  return std::find(packed_.strs.begin(), packed_.strs.end(), member) != packed_.strs.end();
}

size_t SetRead::size() const {
  return box_ != nullptr ? box_->fields().size() : packed_.size();
}

const Members& SetRead::members() {
  if (flat_) return members_;
  flat_ = true;
  if (box_ != nullptr) {
    members_.reserve(box_->fields().size());
    box_->fields().ForEach([&](std::string_view m, std::string_view) { members_.push_back(m); });
  } else if (packed_.encoding == SetEncoding::kIntSet) {
    texts_.reserve(packed_.ints.size());  // never reallocated: members_ views them
    for (int64_t v : packed_.ints)
      members_.push_back(texts_.emplace_back(std::to_string(v)));
  } else {
    members_ = packed_.strs;
  }
  return members_;
}

std::string_view SetRead::Pick(uint64_t r) {
  if (box_ != nullptr) return box_->fields().KeyNear(r);
  if (packed_.encoding == SetEncoding::kListpack) return packed_.strs[r % packed_.strs.size()];
  scratch_ = std::to_string(packed_.ints[r % packed_.ints.size()]);
  return scratch_;
}

std::string_view SetRead::encoding() const {
  if (box_ != nullptr) return "hashtable";
  return packed_.encoding == SetEncoding::kIntSet ? "intset" : "listpack";
}

Status FindSet(Context& ctx, std::string_view key, SetRead* read) {
  Result<const Record*> r = ctx.ks.Find(ctx.db(), key, RecordKind::kSet);
  if (!r.ok()) return r.status();
  ctx.Looked(*r != nullptr, key);
  if (*r == nullptr) return Status::Ok();  // an empty intset
  if ((*r)->boxed()) {
    HashBox& box = HashBox::Of(**r);
    read->lock_ = std::unique_lock(box.mu());
    read->box_ = &box;
    return Status::Ok();
  }
  return DecodeSet((*r)->value(), &read->packed_) ? Status::Ok() : PackedEditor::Corrupt();
}

Status UpdateSet(Context& ctx, std::string_view key, FunctionRef<Status(SetEditor&)> edit) {
  return UpdateEdited<BoxEditor, SetEditor>(ctx, key, RecordKind::kSet, edit, UpdatePacked);
}

Status StoreSet(Context& ctx, std::string_view key, std::span<const std::string_view> members,
                int64_t expire_at_ms) {
  return StoreRecord(ctx, key, members.empty(), [&] {
    PackedEditor editor(ctx);
    for (std::string_view m : members)
      editor.Add(m);
    return editor.Build(ctx, key, expire_at_ms);
  });
}

}  // namespace quiver::resp
