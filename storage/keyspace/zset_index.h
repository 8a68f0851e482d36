// ZIndex: a large sorted set's members, ordered by (score, member) with
// ranks, and found by member. One allocation per member holds the member,
// its score and its node in a treap (a binary search tree kept balanced by
// random priorities) whose nodes count their subtrees, so that ranks,
// ranges by rank, score or member, and random picks are O(log N). The
// members are found through open-addressed slots (util/hash_slots.h).
//
// Memory: a node is 32 bytes before the member (score, two children, the
// subtree's count and the member's size); its priority is a hash of its
// address, not stored. Redis's skip list spends a node with a level array,
// a separate string and a dict entry per member.
//
// Not thread-safe: ZSetBox (storage/keyspace/box.h) guards it with its lock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "util/function_ref.h"
#include "util/hash_slots.h"

namespace quiver {

// A member and its score, as sorted sets hand them around.
struct ZItem {
  std::string_view member;
  double score = 0;
};

// The order of a sorted set: by score, then by member's bytes. Scores are
// never NaN.
inline bool ZLess(const ZItem& a, const ZItem& b) {
  return a.score < b.score || (a.score == b.score && a.member < b.member);
}

class ZIndex {
 public:
  ZIndex() = default;
  ~ZIndex();
  ZIndex(const ZIndex&) = delete;
  ZIndex& operator=(const ZIndex&) = delete;

  size_t size() const { return slots_.size(); }
  bool empty() const { return size() == 0; }

  std::optional<double> Score(std::string_view member) const;
  // Sets member's score; true if the member is new. Throws std::bad_alloc
  // as the standard containers do.
  bool Set(std::string_view member, double score);
  // Removes member; false if absent.
  bool Erase(std::string_view member);

  // How many items come before the first for which before(item) is false;
  // before must be true for a prefix of the order (a lower bound).
  size_t CountBefore(FunctionRef<bool(const ZItem&)> before) const;
  // The item of this rank (0: the lowest). REQUIRES: rank < size().
  ZItem At(size_t rank) const;
  // Calls fn for the items of ranks [from, to), ascending, or from to - 1
  // down to from if reverse, until fn returns false. REQUIRES: to <= size().
  void ForRange(size_t from, size_t to, bool reverse, FunctionRef<bool(const ZItem&)> fn) const;

  // What a member of this size costs (node, allocator header, slot share).
  static size_t Cost(size_t member_size);

 private:
  struct Node {  // followed by the member's bytes
    double score;
    Node* child[2];  // lower, higher
    uint32_t count;  // nodes in this subtree
    uint32_t size;   // the member's
    std::string_view member() const { return {reinterpret_cast<const char*>(this + 1), size}; }
    ZItem item() const { return {member(), score}; }
  };
  using Slots = HashSlots<Node>;

  static uint64_t Hash(std::string_view member);
  static uint32_t CountOf(const Node* n) { return n == nullptr ? 0 : n->count; }
  static void Recount(Node* n) { n->count = 1 + CountOf(n->child[0]) + CountOf(n->child[1]); }
  static uint64_t Priority(const Node* n);
  // Joins two trees, every node of lo before every node of hi.
  static Node* Join(Node* lo, Node* hi);
  // Inserts n (a single node) into the tree t; returns the tree's root.
  static Node* Insert(Node* t, Node* n);
  static void FreeAll(Node* t);
  void Link(Node* n);
  void Unlink(Node* n);
  Slots::Slot* Locate(std::string_view member, uint64_t hash) const;

  Node* root_ = nullptr;
  Slots slots_;
};

}  // namespace quiver
