// Sorted set commands, with Redis 7 semantics: ZADD and its flags, scores,
// ranks, pops and random members. Ranges are in zset_ranges.cc, unions,
// intersections and differences in zset_combine.cc. A small sorted set is
// packed in its record, a large one is a box changed in place
// (server/resp/zset_access.h); an emptied one is deleted, as in Redis.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/zset_access.h"
#include "server/resp/zset_commands.h"

namespace quiver::resp {

namespace {

constexpr std::string_view kNotFloat = "ERR value is not a valid float";
// The most members ZRANDMEMBER with a negative count repeats.
constexpr int64_t kMaxRandomCount = 1 << 24;

struct ZAddFlags {
  bool nx = false, xx = false, gt = false, lt = false, ch = false, incr = false;
};

// Parses ZADD's flags from args[2]; returns the index of the first score.
size_t ParseZAddFlags(Args args, ZAddFlags* f) {
  size_t i = 2;
  for (; i < args.size(); ++i) {
    const std::string_view a = args[i];
    bool* flag = EqualsNoCase(a, "nx")     ? &f->nx
                 : EqualsNoCase(a, "xx")   ? &f->xx
                 : EqualsNoCase(a, "gt")   ? &f->gt
                 : EqualsNoCase(a, "lt")   ? &f->lt
                 : EqualsNoCase(a, "ch")   ? &f->ch
                 : EqualsNoCase(a, "incr") ? &f->incr
                                           : nullptr;
    if (flag == nullptr) break;
    *flag = true;
  }
  return i;
}

// The error of a flag combination Redis refuses, or empty.
std::string_view FlagsError(const ZAddFlags& f, size_t elements) {
  if (elements == 0 || elements % 2 != 0) return kSyntaxError;
  if (f.nx && f.xx) return "ERR XX and NX options at the same time are not compatible";
  if ((f.gt && f.nx) || (f.lt && f.nx) || (f.gt && f.lt)) {
    return "ERR GT, LT, and/or NX options at the same time are not compatible";
  }
  if (f.incr && elements > 2) return "ERR INCR option supports a single increment-element pair";
  return {};
}

struct ZAddOutcome {
  int64_t added = 0, updated = 0;
  std::optional<double> score;  // INCR's new score, if it was applied
};

// Applies ZADD's pairs (args[first...]: score, member) with flags f.
Result<ZAddOutcome> Add(Context& ctx, Args args, size_t first, const ZAddFlags& f,
                        const std::vector<double>& scores) {
  ZAddOutcome out;
  const Status st = UpdateZSet(ctx, args[1], [&](ZSetEditor& z) -> Status {
    out = ZAddOutcome{};
    for (size_t k = 0; k < scores.size(); ++k) {
      const std::string_view member = args[first + 2 * k + 1];
      double score = scores[k];
      const std::optional<double> cur = z.items().Score(member);
      if (cur ? f.nx : f.xx) continue;
      if (cur && f.incr) {
        score += *cur;
        if (std::isnan(score))
          return Status::InvalidArgument("resulting score is not a number (NaN)");
      }
      if (cur && ((f.lt && score >= *cur) || (f.gt && score <= *cur))) continue;
      out.score = score;
      if (cur && score == *cur) continue;
      z.Set(member, score);
      ++(cur ? out.updated : out.added);
    }
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (out.added + out.updated > 0) ctx.Notify(kNotifyZSet, f.incr ? "zincr" : "zadd", args[1]);
  return out;
}

// ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member [score member ...]
void ZAdd(Context& ctx, Args args) {
  ZAddFlags f;
  const size_t first = ParseZAddFlags(args, &f);
  if (std::string_view e = FlagsError(f, args.size() - first); !e.empty()) return ctx.out.Error(e);
  std::vector<double> scores;
  for (size_t i = first; i < args.size(); i += 2) {
    if (!ParseDouble(args[i], &scores.emplace_back())) return ctx.out.Error(kNotFloat);
  }
  if (!ZMembersFit(ctx, args.subspan(first + 1), 2)) return ctx.Fail(Oom());
  Result<ZAddOutcome> out = Add(ctx, args, first, f, scores);
  if (!out.ok()) return ctx.Fail(out.status());
  if (!f.incr) return ctx.out.Integer(out->added + (f.ch ? out->updated : 0));
  out->score ? ctx.out.Double(*out->score) : ctx.out.Null();
}

// ZINCRBY key increment member
void ZIncrBy(Context& ctx, Args args) {
  std::vector<double> scores(1);
  if (!ParseDouble(args[2], scores.data())) return ctx.out.Error(kNotFloat);
  if (!ZMembersFit(ctx, args.subspan(3), 1)) return ctx.Fail(Oom());
  ZAddFlags f;
  f.incr = true;
  Result<ZAddOutcome> out = Add(ctx, args, 2, f, scores);
  if (!out.ok()) return ctx.Fail(out.status());
  ctx.out.Double(*out->score);
}

void ZRem(Context& ctx, Args args) {
  int64_t removed = 0;
  const Status st = UpdateZSet(ctx, args[1], [&](ZSetEditor& z) {
    removed = 0;
    for (std::string_view m : args.subspan(2))
      removed += z.Erase(m) ? 1 : 0;
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  if (removed > 0) NotifyEdit(ctx, kNotifyZSet, "zrem", args[1]);
  ctx.out.Integer(removed);
}

void ZCard(Context& ctx, Args args) {
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Integer(static_cast<int64_t>(read.items().size()));
}

void ReplyScore(Context& ctx, std::optional<double> score) {
  score ? ctx.out.Double(*score) : ctx.out.Null();
}

void ZScore(Context& ctx, Args args) {
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ReplyScore(ctx, read.items().Score(args[2]));
}

void ZMScore(Context& ctx, Args args) {
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  ctx.out.Array(args.size() - 2);
  for (std::string_view m : args.subspan(2))
    ReplyScore(ctx, read.items().Score(m));
}

// ZRANK and ZREVRANK key member
template <bool reverse>
void ZRank(Context& ctx, Args args) {
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const std::optional<size_t> rank = read.items().Rank(args[2]);
  if (!rank) return ctx.out.Null();
  ctx.out.Integer(static_cast<int64_t>(reverse ? read.items().size() - 1 - *rank : *rank));
}

// An item whose member it owns.
struct OwnedItem {
  std::string member;
  double score;
};

std::vector<ZItem> Views(const std::vector<OwnedItem>& items) {
  std::vector<ZItem> views;
  views.reserve(items.size());
  for (const OwnedItem& item : items)
    views.push_back({item.member, item.score});
  return views;
}

// Removes and returns up to count items from the lowest (or highest) of
// the sorted set at key.
Result<std::vector<OwnedItem>> Pop(Context& ctx, std::string_view key, bool max, size_t count) {
  std::vector<OwnedItem> popped;
  const Status st = UpdateZSet(ctx, key, [&](ZSetEditor& z) {
    popped.clear();
    const ZItems items = z.items();
    const size_t n = std::min(count, items.size());
    items.ForRange(max ? items.size() - n : 0, max ? items.size() : n, max, [&](const ZItem& item) {
      popped.push_back({std::string(item.member), item.score});
      return true;
    });
    for (const OwnedItem& item : popped)
      z.Erase(item.member);
    return Status::Ok();
  });
  if (!st.ok()) return st;
  if (!popped.empty()) NotifyEdit(ctx, kNotifyZSet, max ? "zpopmax" : "zpopmin", key);
  return popped;
}

// ZPOPMIN and ZPOPMAX key [count]
template <bool max>
void ZPop(Context& ctx, Args args) {
  if (args.size() > 3) return ctx.out.Error(kSyntaxError);
  int64_t count = 1;
  if (args.size() == 3) {
    if (!ParseInt64(args[2], &count) || count < 0) {
      return ctx.out.Error("ERR value is out of range, must be positive");
    }
  }
  Result<std::vector<OwnedItem>> popped = Pop(ctx, args[1], max, static_cast<size_t>(count));
  if (!popped.ok()) return ctx.Fail(popped.status());
  const std::vector<ZItem> items = Views(*popped);
  if (args.size() == 3) return ReplyItems(ctx, items, true);
  ctx.out.Array(2 * items.size());  // flat, in both protocols
  for (const ZItem& item : items) {
    ctx.out.Bulk(item.member);
    ctx.out.Double(item.score);
  }
}

// Pops up to count items from the first non-empty sorted set of keys;
// false if every one is empty (nothing replied), else replies what
// `reply(key, items)` makes of it (or an error).
bool PopFirst(Context& ctx, Args keys, bool max, size_t count,
              void (*reply)(Context&, std::string_view, std::span<const ZItem>)) {
  for (std::string_view key : keys) {
    ZSetRead read;
    if (Status st = FindZSet(ctx, key, &read); !st.ok()) {
      ctx.Fail(st);
      return true;
    }
    if (read.items().size() == 0) continue;
    read = ZSetRead();  // its lock, before the pop takes it
    Result<std::vector<OwnedItem>> popped = Pop(ctx, key, max, count);
    if (!popped.ok()) {
      ctx.Fail(popped.status());
      return true;
    }
    if (popped->empty()) continue;  // emptied meanwhile
    reply(ctx, key, Views(*popped));
    return true;
  }
  return false;
}

// ZMPOP's and BZMPOP's reply: [key, [[member, score], ...]].
void ReplyKeyAndPairs(Context& ctx, std::string_view key, std::span<const ZItem> items) {
  ctx.out.Array(2);
  ctx.out.Bulk(key);
  ReplyPairs(ctx, items);
}

// BZPOPMIN's and BZPOPMAX's reply: [key, member, score].
void ReplyKeyAndItem(Context& ctx, std::string_view key, std::span<const ZItem> items) {
  ctx.out.Array(3);
  ctx.out.Bulk(key);
  ctx.out.Bulk(items[0].member);
  ctx.out.Double(items[0].score);
}

// ZMPOP numkeys key [key ...] MIN|MAX [COUNT count], and BZMPOP timeout
// numkeys ... (block).
template <bool block>
void ZMPop(Context& ctx, Args args) {
  int64_t deadline = 0;
  MPopArgs m;
  if (!ParseMPopCommand(ctx, args, block, "min", "max", &m, &deadline)) return;
  const Args keys = args.subspan(m.first_key, m.keys);
  if (PopFirst(ctx, keys, !m.first, static_cast<size_t>(m.count), ReplyKeyAndPairs)) return;
  if (!block || !Block(ctx, {{keys.begin(), keys.end()}, deadline})) ctx.out.NullArray();
}

// BZPOPMIN and BZPOPMAX key [key ...] timeout
template <bool max>
void BZPop(Context& ctx, Args args) {
  Result<int64_t> deadline = ParseBlockTimeout(args.back(), ctx.now());
  if (!deadline.ok()) return ctx.Fail(deadline.status());
  const Args keys = args.subspan(1, args.size() - 2);
  if (PopFirst(ctx, keys, max, 1, ReplyKeyAndItem)) return;
  if (!Block(ctx, {{keys.begin(), keys.end()}, *deadline})) ctx.out.NullArray();
}

// ZRANDMEMBER key [count [WITHSCORES]]
void ZRandMember(Context& ctx, Args args) {
  int64_t count = 1;
  if (args.size() >= 3) {
    if (!ParseInt64(args[2], &count)) return ctx.out.Error(kNotInteger);
    if (count == std::numeric_limits<int64_t>::min()) {
      return ctx.out.Error(
          "ERR value is out of range, value must between -9223372036854775807 and "
          "9223372036854775807");
    }
    if (args.size() > 4 || (args.size() == 4 && !EqualsNoCase(args[3], "withscores"))) {
      return ctx.out.Error(kSyntaxError);
    }
  }
  const bool with_scores = args.size() == 4;
  // Bounded, as HRANDFIELD's, so that no request makes a reply without end.
  if (count < -kMaxRandomCount || (with_scores && count > INT64_MAX / 2)) {
    return ctx.out.Error("ERR value is out of range");
  }
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  const ZItems& items = read.items();
  const size_t n = items.size();
  if (args.size() == 2) return n == 0 ? ctx.out.Null() : ctx.out.Bulk(items.At(Rng()() % n).member);
  std::vector<ZItem> picked;
  if (n > 0 && count < 0) {
    for (int64_t i = 0; i < -count; ++i)
      picked.push_back(items.At(Rng()() % n));
  } else if (static_cast<uint64_t>(count) >= n) {
    items.ForRange(0, n, false, [&](const ZItem& item) {
      picked.push_back(item);
      return true;
    });
  } else {  // distinct ranks: Floyd's sample of count from n
    std::unordered_set<size_t> ranks;
    for (size_t j = n - static_cast<size_t>(count); j < n; ++j) {
      const size_t t = Rng()() % (j + 1);
      const size_t rank = ranks.insert(t).second ? t : (ranks.insert(j), j);
      picked.push_back(items.At(rank));
    }
  }
  ReplyItems(ctx, picked, with_scores);
}

// A score as ZSCAN writes it: as Redis keeps it in a listpack (d2string:
// a whole number below 2^62 in magnitude as an integer) if packed, else
// as "%.17g"; "inf" and "-inf" either way.
std::string ScoreText(double score, bool packed) {
  if (std::isinf(score)) return score > 0 ? "inf" : "-inf";
  constexpr double kIntegerLimit = static_cast<double>(INT64_MAX / 2);
  if (packed && score >= -kIntegerLimit && score <= kIntegerLimit &&
      score == static_cast<double>(static_cast<int64_t>(score))) {
    return std::to_string(static_cast<int64_t>(score));
  }
  char buf[32];
  const int n = std::snprintf(buf, sizeof(buf), "%.17g", score);
  return std::string(buf, static_cast<size_t>(n));
}

// ZSCAN key cursor [MATCH pattern] [COUNT count]: every item in one reply.
void ZScan(Context& ctx, Args args) {
  auto scan = ParseScan(args, 2, false);
  if (!scan.ok()) return ctx.Fail(scan.status());
  if (scan->second.type.has_value() || scan->second.unknown_type) {
    return ctx.out.Error(kSyntaxError);
  }
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  std::vector<std::string> scores;
  std::vector<ZItem> matched;
  const std::string_view match = scan->second.match;
  read.items().ForRange(0, read.items().size(), false, [&](const ZItem& item) {
    if (match.empty() || GlobMatch(match, item.member)) matched.push_back(item);
    return true;
  });
  std::vector<std::string_view> out;
  scores.reserve(matched.size());  // never reallocated: out views them
  for (const ZItem& item : matched) {
    out.push_back(item.member);
    out.push_back(scores.emplace_back(ScoreText(item.score, read.encoding() == "listpack")));
  }
  ReplyScan(ctx, 0, out);
}

constexpr uint32_t kW = kWrite | kDenyOom;
constexpr uint32_t kR = kReadOnly;

const Command kCommands[] = {
    {"zadd", -4, kW | kFast, 1, 1, 1, "sorted_set",
     "Adds members to a sorted set, or updates scores.", ZAdd},
    {"zincrby", 4, kW | kFast, 1, 1, 1, "sorted_set", "Increments a member's score.", ZIncrBy},
    {"zrem", -3, kWrite | kFast, 1, 1, 1, "sorted_set", "Removes members from a sorted set.", ZRem},
    {"zcard", 2, kR | kFast, 1, 1, 1, "sorted_set", "Returns the number of members.", ZCard},
    {"zscore", 3, kR | kFast, 1, 1, 1, "sorted_set", "Returns a member's score.", ZScore},
    {"zmscore", -3, kR | kFast, 1, 1, 1, "sorted_set", "Returns the scores of members.", ZMScore},
    {"zrank", 3, kR | kFast, 1, 1, 1, "sorted_set", "Returns a member's rank, from the lowest.",
     ZRank<false>},
    {"zrevrank", 3, kR | kFast, 1, 1, 1, "sorted_set", "Returns a member's rank, from the highest.",
     ZRank<true>},
    {"zpopmin", -2, kWrite | kFast, 1, 1, 1, "sorted_set",
     "Removes and returns the members with the lowest scores.", ZPop<false>},
    {"zpopmax", -2, kWrite | kFast, 1, 1, 1, "sorted_set",
     "Removes and returns the members with the highest scores.", ZPop<true>},
    {"zmpop", -4, kWrite | kMultiKey, 0, 0, 0, "sorted_set",
     "Removes and returns members from the first non-empty sorted set.", ZMPop<false>, 1},
    {"bzmpop", -5, kWrite | kMultiKey | kBlocking, 0, 0, 0, "sorted_set",
     "Removes and returns members from the first non-empty sorted set, or waits for one.",
     ZMPop<true>, 2},
    {"bzpopmin", -3, kWrite | kMultiKey | kBlocking | kFast, 1, -2, 1, "sorted_set",
     "Removes and returns the lowest member of the first non-empty sorted set, or waits for one.",
     BZPop<false>},
    {"bzpopmax", -3, kWrite | kMultiKey | kBlocking | kFast, 1, -2, 1, "sorted_set",
     "Removes and returns the highest member of the first non-empty sorted set, or waits for one.",
     BZPop<true>},
    {"zrandmember", -2, kR, 1, 1, 1, "sorted_set", "Returns random members.", ZRandMember},
    {"zscan", -3, kR, 1, 1, 1, "sorted_set", "Iterates over members and scores.", ZScan},
};

}  // namespace

void ReplyItems(Context& ctx, std::span<const ZItem> items, bool with_scores) {
  const bool pairs = with_scores && ctx.session.proto >= 3;
  ctx.out.Array(with_scores && !pairs ? 2 * items.size() : items.size());
  for (const ZItem& item : items) {
    if (pairs) ctx.out.Array(2);
    ctx.out.Bulk(item.member);
    if (with_scores) ctx.out.Double(item.score);
  }
}

void ReplyPairs(Context& ctx, std::span<const ZItem> items) {
  ctx.out.Array(items.size());
  for (const ZItem& item : items) {
    ctx.out.Array(2);
    ctx.out.Bulk(item.member);
    ctx.out.Double(item.score);
  }
}

bool ZMembersFit(Context& ctx, Args members, size_t step) {
  size_t bytes = 0;
  for (size_t i = 0; i < members.size(); i += step)
    bytes += ZIndex::Cost(members[i].size());
  return ctx.ks.Fits(bytes);
}

std::span<const Command> ZSetCommands() {
  return kCommands;
}

}  // namespace quiver::resp
