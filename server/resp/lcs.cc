// LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN]: the longest
// common subsequence of two strings, by Redis 7's dynamic programme and
// walk back, so that among equally long answers it returns Redis's, and
// its IDX ranges in Redis's order (from the strings' ends). The table
// (4 bytes per pair of positions) is bounded as Redis bounds it
// (proto-max-bulk-len, 512 MB) and counted against the memory limit
// first. It runs on the pool of long requests.
#include <cstdint>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

struct LcsOptions {
  bool len = false, idx = false, with_match_len = false;
  int64_t min_match_len = 0;
};

Result<LcsOptions> ParseLcsOptions(Args args) {
  LcsOptions o;
  for (size_t i = 3; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], "idx")) {
      o.idx = true;
    } else if (EqualsNoCase(args[i], "len")) {
      o.len = true;
    } else if (EqualsNoCase(args[i], "withmatchlen")) {
      o.with_match_len = true;
    } else if (EqualsNoCase(args[i], "minmatchlen") && i + 1 < args.size()) {
      if (!ParseInt64(args[++i], &o.min_match_len)) {
        return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
      }
      o.min_match_len = std::max<int64_t>(o.min_match_len, 0);
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
  }
  if (o.len && o.idx) {
    return Status::InvalidArgument("If you want both the length and indexes, please just use IDX.");
  }
  return o;
}

// A string key's value for LCS: empty if absent; an error for another type.
Result<std::string_view> LcsOperand(Context& ctx, std::string_view key) {
  const Record* r = ctx.ks.Find(ctx.db(), key);
  ctx.Looked(r != nullptr, key);
  if (r == nullptr) return std::string_view();
  if (r->kind != RecordKind::kString) {
    return Status::InvalidArgument("The specified keys must contain string values");
  }
  return ValueOf(r);
}

// One matched range: [a_start, a_end] in the first string, [b_start,
// b_end] in the second.
struct Match {
  uint32_t a_start, a_end, b_start, b_end;
  uint32_t length() const { return a_end - a_start + 1; }
};

class Lcs {
 public:
  Lcs(std::string_view a, std::string_view b) : a_(a), b_(b), cols_(b.size() + 1) {
    table_.assign((a.size() + 1) * cols_, 0);
    for (size_t i = 1; i <= a.size(); ++i) {
      for (size_t j = 1; j <= b.size(); ++j) {
        At(i, j) =
            a[i - 1] == b[j - 1] ? At(i - 1, j - 1) + 1 : std::max(At(i - 1, j), At(i, j - 1));
      }
    }
  }
  uint32_t length() const { return At(a_.size(), b_.size()); }

  // Walks back from the strings' ends: the subsequence, and each maximal
  // run of matches as it ends (Redis's order and its way of ending a run).
  std::string Walk(std::vector<Match>* matches) const {
    std::string result(length(), '\0');
    size_t i = a_.size(), j = b_.size(), k = result.size();
    bool open = false;
    Match m{};
    while (i > 0 && j > 0) {
      bool emit = false;
      if (a_[i - 1] == b_[j - 1]) {
        result[--k] = a_[i - 1];
        const auto ai = static_cast<uint32_t>(i - 1), bj = static_cast<uint32_t>(j - 1);
        if (!open) {
          m = Match{ai, ai, bj, bj};
          open = true;
        } else if (m.a_start == ai + 1 && m.b_start == bj + 1) {
          m.a_start = ai;
          m.b_start = bj;
        } else {
          emit = true;
        }
        if (m.a_start == 0 || m.b_start == 0) emit = true;
        --i;
        --j;
      } else {
        if (At(i - 1, j) > At(i, j - 1)) {
          --i;
        } else {
          --j;
        }
        emit = open;
      }
      if (emit) {
        matches->push_back(m);
        open = false;
      }
    }
    return result;
  }

 private:
  uint32_t& At(size_t i, size_t j) { return table_[i * cols_ + j]; }
  uint32_t At(size_t i, size_t j) const { return table_[i * cols_ + j]; }

  std::string_view a_, b_;
  size_t cols_;
  std::vector<uint32_t> table_;
};

void ReplyMatches(Context& ctx, const Lcs& lcs, const LcsOptions& o) {
  std::vector<Match> matches;
  lcs.Walk(&matches);
  std::erase_if(matches, [&](const Match& m) {
    return o.min_match_len != 0 && m.length() < static_cast<uint64_t>(o.min_match_len);
  });
  ctx.out.Map(2);
  ctx.out.Bulk("matches");
  ctx.out.Array(matches.size());
  for (const Match& m : matches) {
    ctx.out.Array(o.with_match_len ? 3 : 2);
    ctx.out.Array(2);
    ctx.out.Integer(m.a_start);
    ctx.out.Integer(m.a_end);
    ctx.out.Array(2);
    ctx.out.Integer(m.b_start);
    ctx.out.Integer(m.b_end);
    if (o.with_match_len) ctx.out.Integer(m.length());
  }
  ctx.out.Bulk("len");
  ctx.out.Integer(lcs.length());
}

void LcsCommand(Context& ctx, Args args) {
  Result<std::string_view> a = LcsOperand(ctx, args[1]);
  Result<std::string_view> b = LcsOperand(ctx, args[2]);
  if (!a.ok() || !b.ok()) return ctx.Fail(a.ok() ? b.status() : a.status());
  Result<LcsOptions> o = ParseLcsOptions(args);
  if (!o.ok()) return ctx.Fail(o.status());
  const uint64_t cells = (uint64_t{a->size()} + 1) * (b->size() + 1);
  if (cells * sizeof(uint32_t) > kMaxStringSize) {
    return ctx.out.Error(
        "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
  }
  if (!ctx.ks.Fits(cells * sizeof(uint32_t))) return ctx.Fail(Oom());
  const Lcs lcs(*a, *b);
  if (o->idx) return ReplyMatches(ctx, lcs, *o);
  if (o->len) return ctx.out.Integer(lcs.length());
  std::vector<Match> unused;
  ctx.out.Bulk(lcs.Walk(&unused));
}

const Command kCommands[] = {
    {"lcs", -3, kReadOnly | kMultiKey | kLong, 1, 2, 1, "string",
     "Returns the longest common subsequence of two strings.", LcsCommand},
};

}  // namespace

std::span<const Command> LcsCommands() {
  return kCommands;
}

}  // namespace quiver::resp
