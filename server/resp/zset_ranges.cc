// Sorted set ranges, with Redis 7 semantics: by rank, by score and by
// member (lex), read (ZRANGE and its older forms, ZCOUNT, ZLEXCOUNT),
// stored (ZRANGESTORE) or removed (ZREMRANGEBY*). Every range resolves to
// the ranks [from, to) of the items it holds, found in O(log N).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/zset_access.h"
#include "server/resp/zset_commands.h"

namespace quiver::resp {

namespace {

constexpr std::string_view kNotFloatRange = "ERR min or max is not a float";
constexpr std::string_view kNotLexRange = "ERR min or max not valid string range item";

enum class By { kRank, kScore, kLex };

struct ScoreBound {
  double value = 0;
  bool exclusive = false;
};

struct LexBound {
  enum Kind { kLowest, kHighest, kInclusive, kExclusive } kind = kLowest;
  std::string_view value;
};

// A parsed range: ranks (start, stop, as given), scores or members.
struct ZRange {
  By by = By::kRank;
  bool reverse = false;
  int64_t start = 0, stop = 0;
  ScoreBound min_score, max_score;
  LexBound min_lex, max_lex;
  int64_t offset = 0, limit = -1;  // LIMIT (limit -1: no limit)
  bool with_scores = false;
};

// Redis's zslParseRangeItem: "(" for exclusive, then strtod's number up to
// the end (or a NUL), not NaN.
bool ParseScoreBound(std::string_view text, ScoreBound* b) {
  b->exclusive = !text.empty() && text[0] == '(';
  const std::string copy(text.substr(b->exclusive ? 1 : 0));
  char* end = nullptr;
  b->value = std::strtod(copy.c_str(), &end);
  return *end == '\0' && !std::isnan(b->value);
}

// Redis's zslParseLexRangeItem: "-", "+", "[member" or "(member".
bool ParseLexBound(std::string_view text, LexBound* b) {
  if (text == "-" || text == "+") {
    b->kind = text == "-" ? LexBound::kLowest : LexBound::kHighest;
    return true;
  }
  if (text.empty() || (text[0] != '[' && text[0] != '(')) return false;
  b->kind = text[0] == '[' ? LexBound::kInclusive : LexBound::kExclusive;
  b->value = text.substr(1);
  return true;
}

// Parses the range at args[at] (min, max or start, stop) and the options
// after it. `by` and `reverse` preset by the older commands (ZRANGEBYSCORE,
// ZREVRANGE, ...) are not options there.
Result<ZRange> ParseRange(Args args, size_t at, std::optional<By> by, std::optional<bool> reverse,
                          bool store) {
  ZRange r;
  for (size_t i = at + 2; i < args.size(); ++i) {
    const std::string_view a = args[i];
    if (!store && EqualsNoCase(a, "withscores")) {
      r.with_scores = true;
    } else if (EqualsNoCase(a, "limit") && i + 2 < args.size()) {
      if (!ParseInt64(args[i + 1], &r.offset) || !ParseInt64(args[i + 2], &r.limit)) {
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      }
      i += 2;
    } else if (!reverse && EqualsNoCase(a, "rev")) {
      reverse = true;
    } else if (!by && (EqualsNoCase(a, "bylex") || EqualsNoCase(a, "byscore"))) {
      by = EqualsNoCase(a, "bylex") ? By::kLex : By::kScore;
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  r.by = by.value_or(By::kRank);
  r.reverse = reverse.value_or(false);
  if (r.limit != -1 && r.by == By::kRank) {
    return Status::InvalidArgument(
        "syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX");
  }
  if (r.with_scores && r.by == By::kLex) {
    return Status::InvalidArgument(
        "syntax error, WITHSCORES not supported in combination with BYLEX");
  }
  // A reversed range by score or member is given as max, min.
  const std::string_view lo = args[r.reverse && r.by != By::kRank ? at + 1 : at];
  const std::string_view hi = args[r.reverse && r.by != By::kRank ? at : at + 1];
  bool ok = true;
  switch (r.by) {
    case By::kRank:
      if (!ParseInt64(lo, &r.start) || !ParseInt64(hi, &r.stop)) {
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      }
      break;
    case By::kScore:
      ok = ParseScoreBound(lo, &r.min_score) && ParseScoreBound(hi, &r.max_score);
      if (!ok) return Status::InvalidArgument(std::string(kNotFloatRange.substr(4)));
      break;
    case By::kLex:
      ok = ParseLexBound(lo, &r.min_lex) && ParseLexBound(hi, &r.max_lex);
      if (!ok) return Status::InvalidArgument(std::string(kNotLexRange.substr(4)));
      break;
  }
  return r;
}

// Whether an item's score is below the bound (`below_min`: outside a
// range's low end; else at or below its high end).
bool ScoreBefore(const ZItem& item, const ScoreBound& b, bool below_min) {
  if (below_min) return b.exclusive ? item.score <= b.value : item.score < b.value;
  return b.exclusive ? item.score < b.value : item.score <= b.value;
}

bool LexBefore(const ZItem& item, const LexBound& b, bool below_min) {
  switch (b.kind) {
    case LexBound::kLowest:
      return false;
    case LexBound::kHighest:
      return true;
    case LexBound::kInclusive:
      return below_min ? item.member < b.value : item.member <= b.value;
    case LexBound::kExclusive:
      return below_min ? item.member <= b.value : item.member < b.value;
  }
  return false;
}

// The ascending ranks [from, to) of the items a range by rank holds.
std::pair<size_t, size_t> RankSpan(const ZRange& r, size_t size) {
  const auto n = static_cast<int64_t>(size);
  int64_t start = r.start < 0 ? n + r.start : r.start;
  int64_t stop = r.stop < 0 ? n + r.stop : r.stop;
  start = std::max<int64_t>(start, 0);
  if (start > stop || start >= n) return {0, 0};
  stop = std::min(stop, n - 1);
  if (!r.reverse) return {static_cast<size_t>(start), static_cast<size_t>(stop + 1)};
  return {static_cast<size_t>(n - 1 - stop), static_cast<size_t>(n - start)};
}

// The ascending ranks [from, to) of the items a range holds, before LIMIT.
std::pair<size_t, size_t> Span(const ZRange& r, const ZItems& items) {
  if (r.by == By::kRank) return RankSpan(r, items.size());
  size_t from = 0, to = 0;
  if (r.by == By::kScore) {
    from = items.CountBefore([&](const ZItem& i) { return ScoreBefore(i, r.min_score, true); });
    to = items.CountBefore([&](const ZItem& i) { return ScoreBefore(i, r.max_score, false); });
  } else {
    from = items.CountBefore([&](const ZItem& i) { return LexBefore(i, r.min_lex, true); });
    to = items.CountBefore([&](const ZItem& i) { return LexBefore(i, r.max_lex, false); });
  }
  return {from, std::max(from, to)};
}

// The items a range selects, LIMIT applied, in the order it lists them.
std::vector<ZItem> Select(const ZRange& r, const ZItems& items) {
  auto [from, to] = Span(r, items);
  std::vector<ZItem> out;
  // As Redis: a negative offset skips everything, a negative count none.
  if (r.offset < 0) return out;
  const auto skip = static_cast<uint64_t>(r.offset);
  if (skip >= to - from) return out;
  if (r.reverse) {
    to -= skip;
  } else {
    from += skip;
  }
  if (r.limit >= 0 && static_cast<uint64_t>(r.limit) < to - from) {
    if (r.reverse) {
      from = to - static_cast<size_t>(r.limit);
    } else {
      to = from + static_cast<size_t>(r.limit);
    }
  }
  out.reserve(to - from);
  items.ForRange(from, to, r.reverse, [&](const ZItem& item) {
    out.push_back(item);
    return true;
  });
  return out;
}

// The ZRANGE family: key at args[at], range after it, reply or (store)
// store into args[1].
void RangeCommand(Context& ctx, Args args, size_t at, std::optional<By> by,
                  std::optional<bool> reverse, bool store) {
  Result<ZRange> r = ParseRange(args, at + 1, by, reverse, store);
  if (!r.ok()) return ctx.Fail(r.status());
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[at], &read); !st.ok()) return ctx.Fail(st);
  const std::vector<ZItem> items = Select(*r, read.items());
  if (!store) return ReplyItems(ctx, items, r->with_scores);
  // The members must outlive the source's read: copied.
  std::vector<std::string> members;
  members.reserve(items.size());
  std::vector<ZItem> copies;
  for (const ZItem& item : items)
    copies.push_back({members.emplace_back(item.member), item.score});
  read = ZSetRead();
  const bool existed = ctx.ks.Find(ctx.db(), args[1]) != nullptr;
  if (Status st = StoreZSet(ctx, args[1], copies); !st.ok()) return ctx.Fail(st);
  NotifyStored(ctx, kNotifyZSet, "zrangestore", args[1], !copies.empty(), existed);
  ctx.out.Integer(static_cast<int64_t>(copies.size()));
}

void ZRangeCmd(Context& ctx, Args args) {
  RangeCommand(ctx, args, 1, std::nullopt, std::nullopt, false);
}
void ZRangeStore(Context& ctx, Args args) {
  RangeCommand(ctx, args, 2, std::nullopt, std::nullopt, true);
}
template <By by, bool reverse>
void ZRangeBy(Context& ctx, Args args) {
  RangeCommand(ctx, args, 1, by, reverse, false);
}

// ZCOUNT and ZLEXCOUNT key min max
template <By by>
void ZCount(Context& ctx, Args args) {
  Result<ZRange> r = ParseRange(args.first(4), 2, by, false, false);
  if (!r.ok()) return ctx.Fail(r.status());
  ZSetRead read;
  if (Status st = FindZSet(ctx, args[1], &read); !st.ok()) return ctx.Fail(st);
  auto [from, to] = Span(*r, read.items());
  ctx.out.Integer(static_cast<int64_t>(to - from));
}

// ZREMRANGEBYRANK, ZREMRANGEBYSCORE and ZREMRANGEBYLEX key min max
template <By by>
void ZRemRange(Context& ctx, Args args) {
  Result<ZRange> r = ParseRange(args.first(4), 2, by, false, false);
  if (!r.ok()) return ctx.Fail(r.status());
  size_t removed = 0;
  const Status st = UpdateZSet(ctx, args[1], [&](ZSetEditor& z) {
    const ZItems items = z.items();
    auto [from, to] = Span(*r, items);
    std::vector<std::string> members;
    items.ForRange(from, to, false, [&](const ZItem& item) {
      members.emplace_back(item.member);
      return true;
    });
    for (const std::string& m : members)
      z.Erase(m);
    removed = members.size();
    return Status::Ok();
  });
  if (!st.ok()) return ctx.Fail(st);
  constexpr std::string_view kEvent = by == By::kRank    ? "zremrangebyrank"
                                      : by == By::kScore ? "zremrangebyscore"
                                                         : "zremrangebylex";
  if (removed > 0) NotifyEdit(ctx, kNotifyZSet, kEvent, args[1]);
  ctx.out.Integer(static_cast<int64_t>(removed));
}

constexpr uint32_t kR = kReadOnly;

const Command kCommands[] = {
    {"zrange", -4, kR, 1, 1, 1, "sorted_set",
     "Returns members in a range of ranks, scores or members.", ZRangeCmd},
    {"zrangestore", -5, kWrite | kDenyOom | kMultiKey, 1, 2, 1, "sorted_set",
     "Stores a range of members in a key.", ZRangeStore},
    {"zrevrange", -4, kR, 1, 1, 1, "sorted_set",
     "Returns members in a range of ranks, highest first.", ZRangeBy<By::kRank, true>},
    {"zrangebyscore", -4, kR, 1, 1, 1, "sorted_set", "Returns members in a range of scores.",
     ZRangeBy<By::kScore, false>},
    {"zrevrangebyscore", -4, kR, 1, 1, 1, "sorted_set",
     "Returns members in a range of scores, highest first.", ZRangeBy<By::kScore, true>},
    {"zrangebylex", -4, kR, 1, 1, 1, "sorted_set", "Returns members in a range of members.",
     ZRangeBy<By::kLex, false>},
    {"zrevrangebylex", -4, kR, 1, 1, 1, "sorted_set",
     "Returns members in a range of members, highest first.", ZRangeBy<By::kLex, true>},
    {"zcount", 4, kR | kFast, 1, 1, 1, "sorted_set", "Counts the members in a range of scores.",
     ZCount<By::kScore>},
    {"zlexcount", 4, kR | kFast, 1, 1, 1, "sorted_set", "Counts the members in a range of members.",
     ZCount<By::kLex>},
    {"zremrangebyrank", 4, kWrite, 1, 1, 1, "sorted_set",
     "Removes the members in a range of ranks.", ZRemRange<By::kRank>},
    {"zremrangebyscore", 4, kWrite, 1, 1, 1, "sorted_set",
     "Removes the members in a range of scores.", ZRemRange<By::kScore>},
    {"zremrangebylex", 4, kWrite, 1, 1, 1, "sorted_set",
     "Removes the members in a range of members.", ZRemRange<By::kLex>},
};

}  // namespace

std::span<const Command> ZRangeCommands() {
  return kCommands;
}

}  // namespace quiver::resp
