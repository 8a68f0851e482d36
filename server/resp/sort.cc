// SORT and SORT_RO as Redis 7.0 has them: the elements of a list, set or
// sorted set, ordered as numbers or (ALPHA) as bytes, by themselves or by
// the values of other keys (BY weight_*, BY hash_*->field), a LIMIT of
// them, each given as itself or as other keys' values (GET #, GET data_*,
// GET hash_*->field), answered or stored as a list (STORE). Patterns may
// name feature rows (BY quiver:user_profile:*->score), which read as hashes.
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/hash_access.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

struct SortOptions {
  std::optional<std::string_view> by;  // the weights' pattern
  bool dontsort = false;               // BY a pattern without '*': no sorting
  int64_t offset = 0, count = -1;      // LIMIT
  std::vector<std::string_view> gets;  // GET patterns
  bool desc = false, alpha = false;
  std::optional<std::string_view> store;
};

Result<SortOptions> ParseSort(Args args, bool read_only) {
  SortOptions o;
  for (size_t i = 2; i < args.size(); ++i) {
    const size_t left = args.size() - i - 1;
    const std::string_view a = args[i];
    if (EqualsNoCase(a, "asc")) {
      o.desc = false;
    } else if (EqualsNoCase(a, "desc")) {
      o.desc = true;
    } else if (EqualsNoCase(a, "alpha")) {
      o.alpha = true;
    } else if (EqualsNoCase(a, "limit") && left >= 2) {
      if (!ParseInt64(args[i + 1], &o.offset) || !ParseInt64(args[i + 2], &o.count)) {
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      }
      i += 2;
    } else if (EqualsNoCase(a, "store") && left >= 1 && !read_only) {
      o.store = args[++i];
    } else if (EqualsNoCase(a, "by") && left >= 1) {
      o.by = args[++i];
      o.dontsort = o.by->find('*') == std::string_view::npos;
    } else if (EqualsNoCase(a, "get") && left >= 1) {
      o.gets.push_back(args[++i]);
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  return o;
}

// SORT's STORE destination, for ForEachKey.
void StoreKey(Args args, FunctionRef<void(size_t)> fn) {
  for (size_t i = 2; i + 1 < args.size(); ++i) {
    const std::string_view a = args[i];
    if (EqualsNoCase(a, "store")) {
      fn(++i);
    } else if (EqualsNoCase(a, "limit")) {
      i += 2;
    } else if (EqualsNoCase(a, "by") || EqualsNoCase(a, "get")) {
      ++i;
    }
  }
}

// Redis's lookupKeyByPattern: "#" is the element itself; the first '*' of
// the pattern is replaced by it, naming a string key, or with "->field"
// after the '*', a field of a hash (or of a feature row). Nothing if the
// pattern has no '*' or the key is missing or of another type.
std::optional<std::string> Lookup(Context& ctx, std::string_view pattern, std::string_view elem) {
  if (pattern == "#") return std::string(elem);
  const size_t star = pattern.find('*');
  if (star == std::string_view::npos) return std::nullopt;
  const size_t arrow = pattern.find("->", star + 1);
  const bool field = arrow != std::string_view::npos && arrow + 2 < pattern.size();
  const std::string_view suffix =
      pattern.substr(star + 1, (field ? arrow : pattern.size()) - star - 1);
  std::string key(pattern.substr(0, star));
  key.append(elem).append(suffix);
  if (field) {
    HashRead read;
    if (!FindHash(ctx, key, &read).ok()) return std::nullopt;
    const std::optional<std::string_view> v = read.Get(pattern.substr(arrow + 2));
    return v ? std::optional<std::string>(*v) : std::nullopt;
  }
  const Record* r = ctx.ks.Find(ctx.db(), key);
  ctx.Looked(r != nullptr, key);
  if (r == nullptr || r->kind != RecordKind::kString) return std::nullopt;
  return std::string(ValueOf(r));
}

struct Item {
  std::string elem;
  double score = 0;
  std::optional<std::string> by;  // ALPHA BY: the weight's text
};

// Every element of the value at key (r, or absent), in its own order.
Status Load(Context& ctx, std::string_view key, const Record* r, std::vector<Item>* out) {
  if (r == nullptr) {
    ctx.Looked(false, key);
    return Status::Ok();
  }
  return ForEachElement(ctx, key, *r,
                        [&](std::string_view e, double) { out->push_back(Item{std::string(e)}); });
}

// Each element's weight: a number (false if one is not), or ALPHA BY's text.
bool Weigh(Context& ctx, const SortOptions& o, std::vector<Item>& items) {
  bool numbers = true;
  for (Item& item : items) {
    std::optional<std::string> by;
    if (o.by) {
      by = Lookup(ctx, *o.by, item.elem);
      if (!by) continue;  // a missing weight: 0, or first in ALPHA order
    }
    if (o.alpha) {
      if (o.by) item.by = std::move(by);
      continue;
    }
    const std::string& text = o.by ? *by : item.elem;
    char* end = nullptr;
    errno = 0;
    item.score = std::strtod(text.c_str(), &end);
    if (*end != '\0' || errno == ERANGE || std::isnan(item.score)) numbers = false;
  }
  return numbers;
}

// Redis's sortCompare: numbers (ties by the elements' bytes), else the
// elements' bytes, else the BY texts (a missing one first).
void Order(const SortOptions& o, std::vector<Item>& items) {
  std::stable_sort(items.begin(), items.end(), [&](const Item& a, const Item& b) {
    int cmp = 0;
    if (!o.alpha) {
      cmp = a.score < b.score ? -1 : a.score > b.score ? 1 : a.elem.compare(b.elem);
    } else if (o.by) {
      cmp = !a.by || !b.by ? (a.by ? 1 : 0) - (b.by ? 1 : 0) : a.by->compare(*b.by);
    } else {
      cmp = a.elem.compare(b.elem);
    }
    return o.desc ? cmp > 0 : cmp < 0;
  });
}

// Calls fn with each output value of items [start, start + count): each
// element, or what each GET pattern finds for it (nothing: nil). One at a
// time, so a reply of many GETs is written, not gathered first.
void ForEachOutput(Context& ctx, const SortOptions& o, const std::vector<Item>& items, size_t start,
                   size_t count, FunctionRef<void(const std::optional<std::string>&)> fn) {
  for (size_t i = start; i < start + count; ++i) {
    if (o.gets.empty()) fn(items[i].elem);
    for (std::string_view pattern : o.gets)
      fn(Lookup(ctx, pattern, items[i].elem));
  }
}

void Reply(Context& ctx, const SortOptions& o, const std::vector<Item>& items, size_t start,
           size_t count) {
  ctx.out.Array(count * std::max<size_t>(o.gets.size(), 1));
  ForEachOutput(ctx, o, items, start, count, [&](const std::optional<std::string>& v) {
    v ? ctx.out.Bulk(*v) : ctx.out.Null();
  });
}

// STORE: the output as a list (nil as an empty string), built only while
// it fits under the memory limit.
void Store(Context& ctx, const SortOptions& o, const std::vector<Item>& items, size_t start,
           size_t count) {
  std::vector<std::string> out;
  size_t bytes = 0;
  bool fits = true;
  ForEachOutput(ctx, o, items, start, count, [&](const std::optional<std::string>& v) {
    if (!fits) return;
    out.push_back(v.value_or(std::string()));
    bytes += static_cast<size_t>(Box::Cost(out.back()));
    fits = ctx.ks.Fits(bytes);
  });
  if (!fits) return ctx.Fail(Oom());
  const std::string_view dst = *o.store;
  const std::vector<std::string_view> views(out.begin(), out.end());
  const bool existed = ctx.ks.Find(ctx.db(), dst) != nullptr;
  Status st = StoreRecord(ctx, dst, views.empty(),
                          [&] { return NewListRecord(ctx, dst, views, kNeverExpires); });
  if (!st.ok()) return ctx.Fail(st);
  if (!views.empty()) {
    ctx.Notify(kNotifyList, "sortstore", dst);
  } else if (existed) {
    ctx.Notify(kNotifyGeneric, "del", dst);
  }
  ctx.out.Integer(static_cast<int64_t>(views.size()));
}

// LIMIT's range of n elements, as Redis clamps it: [*start, *start + *len).
void Range(const SortOptions& o, size_t n, size_t* start, size_t* len) {
  const auto size = static_cast<int64_t>(n);
  int64_t first = std::max<int64_t>(o.offset, 0);
  int64_t last = o.count < 0 ? size - 1 : first + std::min(o.count, size) - 1;
  if (first >= size) first = size - 1, last = size - 2;
  last = std::min(last, size - 1);
  *start = static_cast<size_t>(std::max<int64_t>(first, 0));
  *len = static_cast<size_t>(std::max<int64_t>(last - first + 1, 0));
}

// Whether a pattern reads keys other than the elements themselves.
bool ReadsOtherKeys(const SortOptions& o) {
  if (o.by && !o.dontsort) return true;
  return std::any_of(o.gets.begin(), o.gets.end(), [](std::string_view p) { return p != "#"; });
}

void SortCommand(Context& ctx, Args args, bool read_only) {
  Result<SortOptions> o = ParseSort(args, read_only);
  if (!o.ok()) return ctx.Fail(o.status());
  // A cluster member applies a write at its place in its partition's log;
  // keys of other partitions may be at another point there, so a stored
  // result could differ between members.
  if (o->store && ctx.shared.changelog != nullptr && ReadsOtherKeys(*o)) {
    return ctx.out.Error(
        "ERR SORT ... STORE with BY or GET patterns is refused on a cluster member: the keys "
        "they read are not in the changelog record");
  }
  const Record* r = ctx.ks.Find(ctx.db(), args[1]);
  std::vector<Item> items;
  if (Status st = Load(ctx, args[1], r, &items); !st.ok()) return ctx.Fail(st);
  // A set stored unsorted would take its members' order in memory:
  // sorted as bytes instead, as Redis does.
  if (o->dontsort && o->store && r != nullptr && r->kind == RecordKind::kSet) {
    o->dontsort = false, o->alpha = true, o->by.reset();
  }
  bool numbers = true;
  if (!o->dontsort) {
    numbers = Weigh(ctx, *o, items);
    Order(*o, items);
  } else if (o->desc && r != nullptr && r->kind != RecordKind::kSet) {
    std::reverse(items.begin(), items.end());  // a list or sorted set backwards
  }
  if (!numbers) return ctx.out.Error("ERR One or more scores can't be converted into double");
  size_t start = 0, len = 0;
  Range(*o, items.size(), &start, &len);
  if (o->store) return Store(ctx, *o, items, start, len);
  Reply(ctx, *o, items, start, len);
}

void Sort(Context& ctx, Args args) {
  SortCommand(ctx, args, false);
}
void SortRo(Context& ctx, Args args) {
  SortCommand(ctx, args, true);
}

const Command kCommands[] = {
    {"sort", -2, kWrite | kDenyOom | kMultiKey, 1, 1, 1, "generic",
     "Sorts the elements in a list, a set, or a sorted set, optionally storing the result.", Sort,
     0, StoreKey},
    {"sort_ro", -2, kReadOnly | kMultiKey, 1, 1, 1, "generic",
     "Returns the sorted elements of a list, a set, or a sorted set.", SortRo},
};

}  // namespace

std::span<const Command> SortCommands() {
  return kCommands;
}

}  // namespace quiver::resp
