// ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD, with Redis 7
// semantics: plain sets count as sorted sets whose scores are 1, weights
// multiply scores (a NaN product counts as 0), and SUM, MIN or MAX
// aggregates a member's scores in the order Redis adds them (an
// intersection visits its inputs from the smallest). The inputs are read
// one at a time, so a command never holds two boxes' locks.
#include <algorithm>
#include <cmath>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/set_access.h"
#include "server/resp/zset_access.h"
#include "server/resp/zset_commands.h"

namespace quiver::resp {

namespace {

enum class Op { kUnion, kInter, kDiff };
enum class Aggregate { kSum, kMin, kMax };

struct Input {
  std::string_view key;
  RecordKind kind = RecordKind::kZSet;  // kSet, or kZSet (also for a missing key)
  size_t size = 0;
  double weight = 1;
};

struct Options {
  std::vector<Input> inputs;
  Aggregate aggregate = Aggregate::kSum;
  bool with_scores = false;
  int64_t limit = 0;  // ZINTERCARD's; 0: none
};

// What each command accepts after its keys.
struct Accepts {
  bool weights = false, with_scores = false, limit = false;
};

// Reads an input's items: fn(member, score) for each, a set's with score 1.
Status ReadInput(Context& ctx, const Input& in, FunctionRef<void(std::string_view, double)> fn) {
  if (in.kind == RecordKind::kSet) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, in.key, &read));
    for (std::string_view m : read.members())
      fn(m, 1.0);
    return Status::Ok();
  }
  ZSetRead read;
  QUIVER_RETURN_IF_ERROR(FindZSet(ctx, in.key, &read));
  read.items().ForRange(0, read.items().size(), false, [&](const ZItem& item) {
    fn(item.member, item.score);
    return true;
  });
  return Status::Ok();
}

Status SizeOf(Context& ctx, Input* in) {
  if (in->kind == RecordKind::kSet) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, in->key, &read));
    in->size = read.size();
    return Status::Ok();
  }
  ZSetRead read;
  QUIVER_RETURN_IF_ERROR(FindZSet(ctx, in->key, &read));
  in->size = read.items().size();
  return Status::Ok();
}

// The input keys after numkeys (args[at]), with their kinds and sizes.
Result<std::vector<Input>> ParseInputs(Context& ctx, Args args, size_t at) {
  int64_t numkeys = 0;
  if (!ParseInt64(args[at], &numkeys)) {
    return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
  }
  if (numkeys < 1) {
    std::string name(args[0]);
    for (char& c : name)
      c = AsciiLower(c);
    return Status::InvalidArgument("at least 1 input key is needed for '" + name + "' command");
  }
  if (numkeys > static_cast<int64_t>(args.size() - at - 1)) {
    return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
  }
  std::vector<Input> inputs;
  for (std::string_view key : args.subspan(at + 1, static_cast<size_t>(numkeys))) {
    Input& in = inputs.emplace_back(Input{key});
    if (const Record* r = ctx.ks.Find(ctx.db(), key); r != nullptr) {
      if (r->kind != RecordKind::kZSet && r->kind != RecordKind::kSet) return WrongType();
      in.kind = r->kind;
    }
  }
  return inputs;
}

// Parses WEIGHTS, AGGREGATE, WITHSCORES and LIMIT (as `accepts` allows)
// from args[at].
Status ParseOptions(Args args, size_t at, Accepts accepts, Options* o) {
  const size_t n = o->inputs.size();
  for (size_t i = at; i < args.size();) {
    const std::string_view a = args[i];
    const size_t left = args.size() - i;
    if (accepts.weights && left >= n + 1 && EqualsNoCase(a, "weights")) {
      for (size_t k = 0; k < n; ++k) {
        if (!ParseDouble(args[i + 1 + k], &o->inputs[k].weight)) {
          return Status::InvalidArgument("weight value is not a float");
        }
      }
      i += n + 1;
    } else if (accepts.weights && left >= 2 && EqualsNoCase(a, "aggregate")) {
      const std::string_view v = args[i + 1];
      if (EqualsNoCase(v, "sum")) {
        o->aggregate = Aggregate::kSum;
      } else if (EqualsNoCase(v, "min")) {
        o->aggregate = Aggregate::kMin;
      } else if (EqualsNoCase(v, "max")) {
        o->aggregate = Aggregate::kMax;
      } else {
        return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
      }
      i += 2;
    } else if (accepts.with_scores && EqualsNoCase(a, "withscores")) {
      o->with_scores = true;
      i += 1;
    } else if (accepts.limit && left >= 2 && EqualsNoCase(a, "limit")) {
      if (!ParseInt64(args[i + 1], &o->limit) || o->limit < 0) {
        return Status::InvalidArgument("LIMIT can't be negative");
      }
      i += 2;
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  return Status::Ok();
}

// A weighted score, as Redis computes it: a NaN (inf times 0) is 0.
double Weighted(double weight, double score) {
  const double v = weight * score;
  return std::isnan(v) ? 0 : v;
}

void Combine(Aggregate a, double* acc, double v) {
  switch (a) {
    case Aggregate::kSum:
      *acc += v;
      if (std::isnan(*acc)) *acc = 0;  // inf + -inf
      break;
    case Aggregate::kMin:
      *acc = std::min(*acc, v);
      break;
    case Aggregate::kMax:
      *acc = std::max(*acc, v);
      break;
  }
}

using Scores = std::unordered_map<std::string, double>;

// Looks up every member of `members` in an input: fn(entry, score) for
// each one it holds (a set's with score 1).
Status Probe(Context& ctx, const Input& in, Scores& members,
             FunctionRef<void(Scores::value_type&, double)> fn) {
  if (in.kind == RecordKind::kSet) {
    SetRead read;
    QUIVER_RETURN_IF_ERROR(FindSet(ctx, in.key, &read));
    for (auto& entry : members)
      if (read.Contains(entry.first)) fn(entry, 1.0);
    return Status::Ok();
  }
  ZSetRead read;
  QUIVER_RETURN_IF_ERROR(FindZSet(ctx, in.key, &read));
  for (auto& entry : members)
    if (std::optional<double> score = read.items().Score(entry.first)) fn(entry, *score);
  return Status::Ok();
}

Status Union(Context& ctx, const Options& o, Scores* out) {
  for (const Input& in : o.inputs) {
    QUIVER_RETURN_IF_ERROR(ReadInput(ctx, in, [&](std::string_view m, double score) {
      const double v = Weighted(in.weight, score);
      auto [it, fresh] = out->try_emplace(std::string(m), v);
      if (!fresh) Combine(o.aggregate, &it->second, v);
    }));
  }
  return Status::Ok();
}

// The intersection (limit: stop counting there; 0: no limit), or the
// difference: both start from one input and test its members in the
// others, one input at a time.
Status InterOrDiff(Context& ctx, Options o, Op op, Scores* out) {
  for (Input& in : o.inputs) {
    QUIVER_RETURN_IF_ERROR(SizeOf(ctx, &in));
  }
  if (op == Op::kInter) {  // from the smallest, as Redis
    std::stable_sort(o.inputs.begin(), o.inputs.end(),
                     [](const Input& a, const Input& b) { return a.size < b.size; });
    if (o.inputs[0].size == 0) return Status::Ok();
  }
  const Input& first = o.inputs[0];
  QUIVER_RETURN_IF_ERROR(ReadInput(ctx, first, [&](std::string_view m, double score) {
    out->emplace(std::string(m), op == Op::kInter ? Weighted(first.weight, score) : score);
  }));
  for (size_t k = 1; k < o.inputs.size() && !out->empty(); ++k) {
    std::unordered_set<const std::string*> found;
    QUIVER_RETURN_IF_ERROR(Probe(ctx, o.inputs[k], *out, [&](auto& entry, double score) {
      found.insert(&entry.first);
      if (op == Op::kInter)
        Combine(o.aggregate, &entry.second, Weighted(o.inputs[k].weight, score));
    }));
    std::erase_if(
        *out, [&](const auto& entry) { return found.contains(&entry.first) == (op == Op::kDiff); });
  }
  return Status::Ok();
}

// The combined items, in order, viewing `scores`' members.
std::vector<ZItem> Ordered(const Scores& scores) {
  std::vector<ZItem> items;
  items.reserve(scores.size());
  for (const auto& [member, score] : scores)
    items.push_back({member, score});
  std::sort(items.begin(), items.end(), ZLess);
  return items;
}

// ZUNION, ZINTER, ZDIFF numkeys key [key ...] [options] and (store) their
// STORE forms, destination first.
template <Op op, bool store>
void Combined(Context& ctx, Args args) {
  const size_t at = store ? 2 : 1;
  Result<std::vector<Input>> inputs = ParseInputs(ctx, args, at);
  if (!inputs.ok()) return ctx.Fail(inputs.status());
  Options o{std::move(*inputs)};
  const Accepts accepts{op != Op::kDiff, !store, false};
  if (Status st = ParseOptions(args, at + 1 + o.inputs.size(), accepts, &o); !st.ok()) {
    return ctx.Fail(st);
  }
  Scores scores;
  const Status st = op == Op::kUnion ? Union(ctx, o, &scores) : InterOrDiff(ctx, o, op, &scores);
  if (!st.ok()) return ctx.Fail(st);
  const std::vector<ZItem> items = Ordered(scores);
  if (!store) return ReplyItems(ctx, items, o.with_scores);
  const bool existed = ctx.ks.Find(ctx.db(), args[1]) != nullptr;
  if (Status s = StoreZSet(ctx, args[1], items); !s.ok()) return ctx.Fail(s);
  constexpr std::string_view kEvent = op == Op::kUnion   ? "zunionstore"
                                      : op == Op::kInter ? "zinterstore"
                                                         : "zdiffstore";
  NotifyStored(ctx, kNotifyZSet, kEvent, args[1], !items.empty(), existed);
  ctx.out.Integer(static_cast<int64_t>(items.size()));
}

// ZINTERCARD numkeys key [key ...] [LIMIT limit]
void ZInterCard(Context& ctx, Args args) {
  Result<std::vector<Input>> inputs = ParseInputs(ctx, args, 1);
  if (!inputs.ok()) return ctx.Fail(inputs.status());
  Options o{std::move(*inputs)};
  if (Status st = ParseOptions(args, 2 + o.inputs.size(), Accepts{false, false, true}, &o);
      !st.ok()) {
    return ctx.Fail(st);
  }
  Scores scores;
  if (Status st = InterOrDiff(ctx, o, Op::kInter, &scores); !st.ok()) return ctx.Fail(st);
  const auto n = static_cast<int64_t>(scores.size());
  ctx.out.Integer(o.limit > 0 ? std::min(n, o.limit) : n);
}

constexpr uint32_t kR = kReadOnly | kMultiKey;
constexpr uint32_t kW = kWrite | kDenyOom | kMultiKey;

const Command kCommands[] = {
    {"zunion", -3, kR, 0, 0, 0, "sorted_set", "Returns the union of sorted sets.",
     Combined<Op::kUnion, false>, 1},
    {"zinter", -3, kR, 0, 0, 0, "sorted_set", "Returns the intersection of sorted sets.",
     Combined<Op::kInter, false>, 1},
    {"zdiff", -3, kR, 0, 0, 0, "sorted_set", "Returns the difference of sorted sets.",
     Combined<Op::kDiff, false>, 1},
    {"zunionstore", -4, kW, 1, 1, 1, "sorted_set", "Stores the union of sorted sets in a key.",
     Combined<Op::kUnion, true>, 2},
    {"zinterstore", -4, kW, 1, 1, 1, "sorted_set",
     "Stores the intersection of sorted sets in a key.", Combined<Op::kInter, true>, 2},
    {"zdiffstore", -4, kW, 1, 1, 1, "sorted_set", "Stores the difference of sorted sets in a key.",
     Combined<Op::kDiff, true>, 2},
    {"zintercard", -3, kR, 0, 0, 0, "sorted_set",
     "Returns the number of members in the intersection of sorted sets.", ZInterCard, 1},
};

}  // namespace

std::span<const Command> ZCombineCommands() {
  return kCommands;
}

}  // namespace quiver::resp
