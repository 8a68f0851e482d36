#include "storage/keyspace/zset_index.h"

#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <vector>

#include <xxhash.h>

namespace quiver {

namespace {

// Chosen once per process: no client can pick members, or learn
// addresses, that line the priorities up with the order.
const uint64_t kPrioritySeed = std::random_device{}() * 0x9E3779B97F4A7C15ull | 1;

}  // namespace

ZIndex::~ZIndex() {
  FreeAll(root_);
}

void ZIndex::FreeAll(Node* t) {
  // Iterative: a rotation to the right of every left child, freeing each
  // node once it has none, so that no depth of the tree uses the stack.
  while (t != nullptr) {
    if (Node* l = t->child[0]; l != nullptr) {
      t->child[0] = l->child[1];
      l->child[1] = t;
      t = l;
    } else {
      Node* next = t->child[1];
      std::free(t);
      t = next;
    }
  }
}

uint64_t ZIndex::Hash(std::string_view member) {
  return Slots::Nonzero(XXH3_64bits(member.data(), member.size()));
}

uint64_t ZIndex::Priority(const Node* n) {
  // splitmix64's finalizer of the node's address.
  uint64_t x = reinterpret_cast<uintptr_t>(n) ^ kPrioritySeed;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

size_t ZIndex::Cost(size_t member_size) {
  // The node, the allocator's header, and a slot at 3/4 load.
  return sizeof(Node) + member_size + 16 + sizeof(Slots::Slot) * 4 / 3;
}

ZIndex::Slots::Slot* ZIndex::Locate(std::string_view member, uint64_t hash) const {
  return slots_.Locate(hash, [member](const Node& n) { return n.member() == member; });
}

std::optional<double> ZIndex::Score(std::string_view member) const {
  const Slots::Slot* s = Locate(member, Hash(member));
  return s == nullptr || s->entry == nullptr ? std::nullopt : std::optional(s->entry->score);
}

ZIndex::Node* ZIndex::Join(Node* lo, Node* hi) {
  if (lo == nullptr) return hi;
  if (hi == nullptr) return lo;
  if (Priority(lo) > Priority(hi)) {
    lo->child[1] = Join(lo->child[1], hi);
    Recount(lo);
    return lo;
  }
  hi->child[0] = Join(lo, hi->child[0]);
  Recount(hi);
  return hi;
}

ZIndex::Node* ZIndex::Insert(Node* t, Node* n) {
  if (t == nullptr) return n;
  // Down the side n belongs to, then up by a rotation while n's priority
  // is above its parent's.
  const int side = ZLess(n->item(), t->item()) ? 0 : 1;
  Node* c = t->child[side] = Insert(t->child[side], n);
  if (c == n && Priority(n) > Priority(t)) {
    t->child[side] = n->child[1 - side];
    n->child[1 - side] = t;
    Recount(t);
    Recount(n);
    return n;
  }
  ++t->count;
  return t;
}

void ZIndex::Link(Node* n) {
  n->child[0] = n->child[1] = nullptr;
  n->count = 1;
  root_ = Insert(root_, n);
}

void ZIndex::Unlink(Node* n) {
  // Down to n, counting it out of every subtree on the way; then n's place
  // goes to its two subtrees joined.
  Node** at = &root_;
  while (*at != n) {
    --(*at)->count;
    at = &(*at)->child[ZLess(n->item(), (*at)->item()) ? 0 : 1];
  }
  *at = Join(n->child[0], n->child[1]);
}

bool ZIndex::Set(std::string_view member, double score) {
  slots_.ReserveOne();
  const uint64_t hash = Hash(member);
  Slots::Slot* s = Locate(member, hash);
  if (Node* n = s->entry; n != nullptr) {
    if (n->score == score) return false;
    Unlink(n);
    n->score = score;
    Link(n);
    return false;
  }
  auto* n = static_cast<Node*>(std::malloc(sizeof(Node) + member.size()));
  if (n == nullptr) throw std::bad_alloc();
  n->score = score;
  n->size = static_cast<uint32_t>(member.size());
  if (!member.empty()) std::memcpy(n + 1, member.data(), member.size());
  Link(n);
  slots_.Fill(s, hash, n);
  return true;
}

bool ZIndex::Erase(std::string_view member) {
  Slots::Slot* s = Locate(member, Hash(member));
  if (s == nullptr || s->entry == nullptr) return false;
  Node* n = s->entry;
  slots_.Erase(s);
  Unlink(n);
  std::free(n);
  return true;
}

size_t ZIndex::CountBefore(FunctionRef<bool(const ZItem&)> before) const {
  size_t count = 0;
  for (const Node* t = root_; t != nullptr;) {
    if (before(t->item())) {
      count += CountOf(t->child[0]) + 1;
      t = t->child[1];
    } else {
      t = t->child[0];
    }
  }
  return count;
}

ZItem ZIndex::At(size_t rank) const {
  const Node* t = root_;
  for (;;) {
    const size_t lower = CountOf(t->child[0]);
    if (rank == lower) return t->item();
    if (rank < lower) {
      t = t->child[0];
    } else {
      rank -= lower + 1;
      t = t->child[1];
    }
  }
}

void ZIndex::ForRange(size_t from, size_t to, bool reverse,
                      FunctionRef<bool(const ZItem&)> fn) const {
  if (from >= to) return;
  // In the direction of the walk: `next` children come after a node,
  // `back` ones before it; k is the first item's place in that order.
  const int next = reverse ? 0 : 1, back = 1 - next;
  size_t k = reverse ? size() - to : from;
  std::vector<const Node*> pending;  // ancestors still to visit, nearest last
  const Node* t = root_;
  for (;;) {
    const size_t before = CountOf(t->child[back]);
    if (k == before) break;
    if (k < before) {
      pending.push_back(t);
      t = t->child[back];
    } else {
      k -= before + 1;
      t = t->child[next];
    }
  }
  for (size_t left = to - from;;) {
    if (!fn(t->item()) || --left == 0) return;
    if (t->child[next] != nullptr) {
      for (t = t->child[next]; t->child[back] != nullptr; t = t->child[back])
        pending.push_back(t);
    } else {
      t = pending.back();
      pending.pop_back();
    }
  }
}

}  // namespace quiver
