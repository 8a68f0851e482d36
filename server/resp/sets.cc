// Set commands, with Redis 7 semantics. A small set is packed in its
// record as an intset or a listpack, a large one is a box changed in place
// (server/resp/set_access.h); an emptied set is deleted, as in Redis. The
// commands of several sets read them one at a time, so a reader never
// holds two boxes' locks.
#include <xxhash.h>

#include <algorithm>
#include <limits>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/set_access.h"

namespace quiver::resp {

namespace {

// The most members SRANDMEMBER with a negative count repeats.
constexpr int64_t kMaxRandomCount = 1 << 24;

// Whether `members` more members fit under the memory limit.
bool MembersFit(Context& ctx, Args members) {
  int64_t bytes = 0;
  for (std::string_view m : members)
    bytes += Box::Cost(m);
  return ctx.ks.Fits(static_cast<size_t>(bytes));
}

void ReplyMembers(Context& ctx, std::span<const std::string_view> members) {
  ctx.out.Set(members.size());
  for (std::string_view m : members)
    ctx.out.Bulk(m);
}

// SADD and SREM: replies how many members were added or removed.
void AddOrRemove(Context& ctx, Args args, bool add) {
  if (add && !MembersFit(ctx, args.subspan(2))) return ctx.Fail(Oom());
  int64_t changed = 0;
  const Status st = UpdateSet(ctx, args[1], [&](SetEditor& set) {
    changed = 0;
    for (std::string_view m : args.subspan(2))
      changed += (add ? set.Add(m) : set.Remove(m)) ? 1 : 0;
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  if (changed > 0) NotifyEdit(ctx, kNotifySet, add ? "sadd" : "srem", args[1]);
  ctx.out.Integer(changed);
}

void SAdd(Context& ctx, Args args) {
  AddOrRemove(ctx, args, true);
}
void SRem(Context& ctx, Args args) {
  AddOrRemove(ctx, args, false);
}

void SCard(Context& ctx, Args args) {
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(static_cast<int64_t>(read.size()));
}

void SIsMember(Context& ctx, Args args) {
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(read.Contains(args[2]) ? 1 : 0);
}

void SMIsMember(Context& ctx, Args args) {
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Array(args.size() - 2);
  for (std::string_view m : args.subspan(2))
    ctx.out.Integer(read.Contains(m) ? 1 : 0);
}

void SMembers(Context& ctx, Args args) {
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ReplyMembers(ctx, read.members());
}

// SRANDMEMBER key [count]: count > 0 distinct members, count < 0 |count|
// members that may repeat.
void SRandMember(Context& ctx, Args args) {
  if (args.size() > 3) return ctx.out.Error(kSyntaxError);
  int64_t count = 1;
  if (args.size() == 3 && !ParseInt64(args[2], &count)) return ctx.out.Error(kNotInteger);
  if (count == std::numeric_limits<int64_t>::min()) {
    return ctx.out.Error(
        "ERR value is out of range, value must between -9223372036854775807 and "
        "9223372036854775807");
  }
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const size_t n = read.size();
  if (args.size() == 2) return n == 0 ? ctx.out.Null() : ctx.out.Bulk(read.Pick(Rng()()));
  if (count < 0) {
    // A reply of |count| members, whatever the set's size: bounded, as
    // HRANDFIELD's, so that no request makes a reply without end.
    if (count < -kMaxRandomCount) return ctx.out.Error("ERR value is out of range");
    const auto picks = static_cast<size_t>(n == 0 ? 0 : -count);
    ctx.out.Array(picks);
    for (size_t i = 0; i < picks; ++i)
      ctx.out.Bulk(read.Pick(Rng()()));
    return;
  }
  Members members = read.members();
  if (static_cast<uint64_t>(count) < n) {  // a random subset: a partial shuffle
    for (size_t i = 0; i < static_cast<size_t>(count); ++i)
      std::swap(members[i], members[i + Rng()() % (n - i)]);
    members.resize(static_cast<size_t>(count));
  }
  ctx.out.Array(members.size());
  for (std::string_view m : members)
    ctx.out.Bulk(m);
}

// The `count` members SPOP takes from a larger set. A cluster member
// applying a changelog record chooses them from the members alone, by a
// hash seeded with the record's time, so that every replica pops the same
// ones whatever its box's layout (at O(N)); otherwise at random.
std::vector<std::string> Chosen(Context& ctx, SetEditor& set, size_t count) {
  std::vector<std::string> chosen;
  if (!ctx.applying) {
    while (chosen.size() < count) {
      chosen.push_back(set.Pick(Rng()()));
      set.Remove(chosen.back());
    }
    return chosen;
  }
  std::vector<std::pair<uint64_t, std::string>> ranked;
  const auto seed = static_cast<uint64_t>(ctx.now());
  set.ForEach([&](std::string_view m) {
    ranked.emplace_back(XXH3_64bits_withSeed(m.data(), m.size(), seed), std::string(m));
  });
  std::nth_element(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(count), ranked.end());
  for (size_t i = 0; i < count; ++i) {
    set.Remove(ranked[i].second);
    chosen.push_back(std::move(ranked[i].second));
  }
  return chosen;
}

// SPOP key [count].
void SPop(Context& ctx, Args args) {
  if (args.size() > 3) return ctx.out.Error(kSyntaxError);
  int64_t count = 1;
  if (args.size() == 3 && (!ParseInt64(args[2], &count) || count < 0)) {
    return ctx.out.Error("ERR value is out of range, must be positive");
  }
  std::vector<std::string> popped;
  const Status st = UpdateSet(ctx, args[1], [&](SetEditor& set) {
    popped.clear();
    if (static_cast<uint64_t>(count) < set.size()) {
      popped = Chosen(ctx, set, static_cast<size_t>(count));
      return Status::Ok();
    }
    set.ForEach([&](std::string_view m) { popped.emplace_back(m); });
    for (const std::string& m : popped)
      set.Remove(m);
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  if (!popped.empty()) NotifyEdit(ctx, kNotifySet, "spop", args[1]);
  if (args.size() == 2) return popped.empty() ? ctx.out.Null() : ctx.out.Bulk(popped.front());
  ctx.out.Set(popped.size());
  for (const std::string& m : popped)
    ctx.out.Bulk(m);
}

void SMove(Context& ctx, Args args) {
  const std::string_view src = args[1], dst = args[2], member = args[3];
  Result<const Record*> s = ctx.ks.Find(ctx.db(), src, RecordKind::kSet);
  if (!s.ok()) return ctx.Fail(s.status());
  if (Result<const Record*> d = ctx.ks.Find(ctx.db(), dst, RecordKind::kSet); !d.ok()) {
    return ctx.Fail(d.status());
  }
  if (*s == nullptr) return ctx.out.Integer(0);
  if (src == dst) {
    SetRead read;
    if (Status st = FindSet(ctx, src, &read); !st.ok()) return ctx.Fail(st);
    return ctx.out.Integer(read.Contains(member) ? 1 : 0);
  }
  if (!MembersFit(ctx, args.subspan(3))) return ctx.Fail(Oom());
  bool moved = false;
  Status st = UpdateSet(ctx, src, [&](SetEditor& set) {
    moved = set.Remove(member);
    return Status::Ok();
  });
  if (st.ok() && moved) {
    NotifyEdit(ctx, kNotifySet, "srem", src);
    st = UpdateSet(ctx, dst, [&](SetEditor& set) {
      set.Add(member);
      return Status::Ok();
    });
    if (st.ok()) ctx.Notify(kNotifySet, "sadd", dst);
  }
  if (!st.ok()) return ctx.Fail(st);
  ctx.out.Integer(moved ? 1 : 0);
}

enum class Op { kInter, kUnion, kDiff };

// The members of the sets at keys combined by op, after checking that
// every key holds a set (or nothing); at most `limit` of an intersection
// (0: all).
Result<std::vector<std::string>> Combine(Context& ctx, Args keys, Op op, size_t limit = 0) {
  std::vector<size_t> sizes;
  for (std::string_view key : keys) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, key, &read));
    sizes.push_back(read.size());
  }
  std::vector<std::string> out;
  if (op == Op::kInter && std::find(sizes.begin(), sizes.end(), 0) != sizes.end()) return out;
  // An intersection starts from the smallest set, a difference from the
  // first; a union gathers every set.
  const size_t first =
      op == Op::kInter ? std::min_element(sizes.begin(), sizes.end()) - sizes.begin() : 0;
  std::vector<size_t> order(keys.size());  // `first` first
  for (size_t i = 0; i < keys.size(); ++i)
    order[i] = i;
  std::swap(order[0], order[first]);
  std::unordered_set<std::string> seen;
  for (size_t i : order) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, keys[i], &read));
    if (op == Op::kUnion || i == first) {
      for (std::string_view m : read.members())
        if (seen.emplace(m).second) out.emplace_back(m);
      continue;
    }
    const bool keep_if_in = op == Op::kInter;
    std::erase_if(out, [&](const std::string& m) { return read.Contains(m) != keep_if_in; });
  }
  if (limit != 0 && out.size() > limit) out.resize(limit);
  return out;
}

// SINTER, SUNION, SDIFF (reply the members) and their STORE forms (reply
// how many were stored).
template <Op op, bool store>
void Combined(Context& ctx, Args args) {
  Result<std::vector<std::string>> members = Combine(ctx, args.subspan(store ? 2 : 1), op);
  if (!members.ok()) return ctx.Fail(members.status());
  const Members views(members->begin(), members->end());
  if (!store) return ReplyMembers(ctx, views);
  const bool existed = ctx.ks.Find(ctx.db(), args[1]) != nullptr;
  if (Status st = StoreSet(ctx, args[1], views); !st.ok()) return ctx.Fail(st);
  constexpr std::string_view kEvent = op == Op::kInter   ? "sinterstore"
                                      : op == Op::kUnion ? "sunionstore"
                                                         : "sdiffstore";
  NotifyStored(ctx, kNotifySet, kEvent, args[1], !views.empty(), existed);
  ctx.out.Integer(static_cast<int64_t>(views.size()));
}

// SINTERCARD numkeys key [key ...] [LIMIT limit]
void SInterCard(Context& ctx, Args args) {
  int64_t numkeys = 0;
  if (!ParseInt64(args[1], &numkeys) || numkeys <= 0) {
    return ctx.out.Error("ERR numkeys should be greater than 0");
  }
  if (numkeys > static_cast<int64_t>(args.size()) - 2) {
    return ctx.out.Error("ERR Number of keys can't be greater than number of args");
  }
  const auto end = static_cast<size_t>(2 + numkeys);
  int64_t limit = 0;
  for (size_t i = end; i < args.size(); i += 2) {
    if (!EqualsNoCase(args[i], "limit") || i + 1 >= args.size()) return ctx.out.Error(kSyntaxError);
    if (!ParseInt64(args[i + 1], &limit) || limit < 0) {
      return ctx.out.Error("ERR LIMIT can't be negative");
    }
  }
  Result<std::vector<std::string>> members =
      Combine(ctx, args.subspan(2, end - 2), Op::kInter, static_cast<size_t>(limit));
  if (!members.ok()) return ctx.Fail(members.status());
  ctx.out.Integer(static_cast<int64_t>(members->size()));
}

void SScan(Context& ctx, Args args) {
  auto scan = ParseScan(args, 2, false);
  if (!scan.ok()) return ctx.Fail(scan.status());
  if (scan->second.type.has_value() || scan->second.unknown_type)
    return ctx.out.Error(kSyntaxError);
  SetRead read;
  if (Status st = FindSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  Members out;
  for (std::string_view m : read.members())
    if (scan->second.match.empty() || GlobMatch(scan->second.match, m)) out.push_back(m);
  ReplyScan(ctx, 0, out);
}

constexpr uint32_t kW = kWrite | kDenyOom;
constexpr uint32_t kR = kReadOnly;

const Command kCommands[] = {
    {"sadd", -3, kW | kFast, 1, 1, 1, "set", "Adds members to a set.", SAdd},
    {"srem", -3, kWrite | kFast, 1, 1, 1, "set", "Removes members from a set.", SRem},
    {"scard", 2, kR | kFast, 1, 1, 1, "set", "Returns the number of members.", SCard},
    {"sismember", 3, kR | kFast, 1, 1, 1, "set", "Whether a member is in a set.", SIsMember},
    {"smismember", -3, kR | kFast, 1, 1, 1, "set", "Whether each member is in a set.", SMIsMember},
    {"smembers", 2, kR, 1, 1, 1, "set", "Returns every member.", SMembers},
    {"srandmember", -2, kR, 1, 1, 1, "set", "Returns random members.", SRandMember},
    {"spop", -2, kWrite | kFast, 1, 1, 1, "set", "Removes and returns random members.", SPop},
    {"smove", 4, kWrite | kFast | kMultiKey, 1, 2, 1, "set",
     "Moves a member from one set to another.", SMove},
    {"sinter", -2, kR | kMultiKey, 1, -1, 1, "set", "Returns the intersection of sets.",
     Combined<Op::kInter, false>},
    {"sunion", -2, kR | kMultiKey, 1, -1, 1, "set", "Returns the union of sets.",
     Combined<Op::kUnion, false>},
    {"sdiff", -2, kR | kMultiKey, 1, -1, 1, "set", "Returns the difference of sets.",
     Combined<Op::kDiff, false>},
    {"sinterstore", -3, kW | kMultiKey, 1, -1, 1, "set",
     "Stores the intersection of sets in a key.", Combined<Op::kInter, true>},
    {"sunionstore", -3, kW | kMultiKey, 1, -1, 1, "set", "Stores the union of sets in a key.",
     Combined<Op::kUnion, true>},
    {"sdiffstore", -3, kW | kMultiKey, 1, -1, 1, "set", "Stores the difference of sets in a key.",
     Combined<Op::kDiff, true>},
    {"sintercard", -3, kR | kMultiKey, 0, 0, 0, "set",
     "Returns the number of members in the intersection of sets.", SInterCard, 1},
    {"sscan", -3, kR, 1, 1, 1, "set", "Iterates over the members of a set.", SScan},
};

}  // namespace

std::span<const Command> SetCommands() {
  return kCommands;
}

}  // namespace quiver::resp
