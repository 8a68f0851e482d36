// PFADD, PFCOUNT, PFMERGE and PFDEBUG, with Redis 7.0's replies, errors,
// notifications and bytes (server/resp/hyperloglog.h): an HLL is a string,
// rebuilt and replaced by each write as every string is. PFCOUNT of one
// key stores the cardinality it computed in the value's cache, as Redis
// does: a change of the key that a WATCH sees and the log keeps, as in
// Redis (not on a cluster member, whose keys change only through the
// changelog).
#include <array>
#include <string>

#include "server/resp/arguments.h"
#include "server/resp/helpers.h"
#include "server/resp/hyperloglog.h"

namespace quiver::resp {

namespace {

using Change = KeySpace::Change;
constexpr std::string_view kCorrupt = "INVALIDOBJ Corrupted HLL object detected";

Status NotAnHll() {
  return Status::WrongType("Key is not a valid HyperLogLog string value.");
}

size_t SparseMaxBytes(Context& ctx) {
  return static_cast<size_t>(ctx.shared.hll_sparse_max_bytes.load(std::memory_order_relaxed));
}

// The HLL at key for a read (nullptr if absent), counting a hit or a miss.
Result<const Record*> FindHll(Context& ctx, std::string_view key) {
  const Record* r = ctx.ks.Find(ctx.db(), key);
  ctx.Looked(r != nullptr, key);
  if (r == nullptr) return r;
  if (r->kind != RecordKind::kString) return WrongType();
  if (!hll::LooksValid(ValueOf(r))) return NotAnHll();
  return r;
}

// Replaces the HLL at key (a new one if absent) with what change makes
// of it; change returns false if the value is corrupt (nothing changes)
// and sets *changed. Keeps the TTL.
template <typename ChangeHll>
Status UpdateHll(Context& ctx, std::string_view key, bool* corrupt, ChangeHll change) {
  Result<Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
        if (cur != nullptr && cur->kind != RecordKind::kString) return WrongType();
        if (cur != nullptr && !hll::LooksValid(ValueOf(cur))) return NotAnHll();
        std::string value = cur != nullptr ? std::string(ValueOf(cur)) : hll::Create();
        bool changed = cur == nullptr;
        *corrupt = !change(&value, &changed);
        if (*corrupt || !changed) return Change{};
        const int64_t expire = cur != nullptr ? cur->expire_at_ms : kNeverExpires;
        Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, value, expire);
        if (r == nullptr) return Oom();
        return Change{Change::kPut, r};
      });
  return done.status();
}

// PFADD key [element ...]
void PfAdd(Context& ctx, Args args) {
  const size_t max_sparse = SparseMaxBytes(ctx);
  bool corrupt = false, updated = false;
  const Status st = UpdateHll(ctx, args[1], &corrupt, [&](std::string* hll, bool* changed) {
    for (std::string_view element : args.subspan(2)) {
      const int r = hll::Add(hll, element, max_sparse);
      if (r < 0) return false;
      *changed = *changed || r == 1;
    }
    if (*changed) hll::InvalidateCache(hll);
    updated = *changed;
    return true;
  });
  if (!st.ok()) return ctx.Fail(st);
  if (corrupt) return ctx.out.Error(kCorrupt);
  if (updated) ctx.Notify(kNotifyString, "pfadd", args[1]);
  ctx.out.Integer(updated ? 1 : 0);
}

// Stores a cardinality computed by PFCOUNT in the cache of the value it
// was computed from, if the key still holds that value (else nothing),
// and logs it, so that memory and disk hold the same bytes.
void CacheCount(Context& ctx, std::string_view key, const Record* from, uint64_t card) {
  bool cached = false;
  (void)ctx.ks.Mutate(ctx.db(), key, [&](const Record* cur) -> Result<Change> {
    cached = false;
    if (cur != from) return Change{};
    std::string value(ValueOf(cur));
    hll::SetCached(&value, card);
    Record* r = ctx.ks.NewRecord(ctx.db(), key, RecordKind::kString, value, cur->expire_at_ms);
    if (r == nullptr) return Change{};  // the cache is only saved work
    cached = true;
    return Change{Change::kPut, r};
  });
  if (cached) ctx.LogKey(key);
}

// PFCOUNT key [key ...]: one key's (cached) cardinality, or that of the
// union of several.
void PfCount(Context& ctx, Args args) {
  std::array<uint8_t, hll::kRegisters> registers{};
  if (args.size() > 2) {
    for (std::string_view key : args.subspan(1)) {
      Result<const Record*> r = FindHll(ctx, key);
      if (!r.ok()) return ctx.Fail(r.status());
      if (*r != nullptr && !hll::Merge(ValueOf(*r), registers.data())) {
        return ctx.out.Error(kCorrupt);
      }
    }
    return ctx.out.Integer(static_cast<int64_t>(hll::Estimate(registers.data())));
  }
  Result<const Record*> r = FindHll(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  if (*r == nullptr) return ctx.out.Integer(0);
  if (std::optional<uint64_t> cached = hll::Cached(ValueOf(*r))) {
    return ctx.out.Integer(static_cast<int64_t>(*cached));
  }
  if (!hll::Registers(ValueOf(*r), registers.data())) return ctx.out.Error(kCorrupt);
  const uint64_t card = hll::Estimate(registers.data());
  // A cluster member's keys change only as the changelog says, alike on
  // every member: it counts again each time instead.
  if (ctx.shared.changelog == nullptr) CacheCount(ctx, args[1], *r, card);
  ctx.out.Integer(static_cast<int64_t>(card));
}

// PFMERGE destkey [sourcekey ...]: the union of every HLL named (destkey's
// too) into destkey.
void PfMerge(Context& ctx, Args args) {
  std::array<uint8_t, hll::kRegisters> max{};
  bool dense = false;
  for (std::string_view key : args.subspan(1)) {
    Result<const Record*> r = FindHll(ctx, key);
    if (!r.ok()) return ctx.Fail(r.status());
    if (*r == nullptr) continue;
    dense = dense || static_cast<uint8_t>(ValueOf(*r)[4]) == hll::kDense;
    if (!hll::Merge(ValueOf(*r), max.data())) return ctx.out.Error(kCorrupt);
  }
  const size_t max_sparse = SparseMaxBytes(ctx);
  bool corrupt = false;
  const Status st = UpdateHll(ctx, args[1], &corrupt, [&](std::string* hll, bool* changed) {
    if (dense && !hll::ToDense(hll)) return false;
    for (uint32_t i = 0; i < hll::kRegisters; ++i) {
      if (max[i] != 0 && hll::Set(hll, i, max[i], max_sparse) < 0) return false;
    }
    hll::InvalidateCache(hll);
    *changed = true;
    return true;
  });
  if (!st.ok()) return ctx.Fail(st);
  if (corrupt) return ctx.out.Error(kCorrupt);
  ctx.Notify(kNotifyString, "pfadd", args[1]);  // as Redis: a merge is a PFADD
  ctx.out.Ok();
}

// PFDEBUG DECODE key: a sparse value's opcodes, as Redis prints them.
std::string Decode(std::string_view v) {
  std::string out;
  for (size_t p = hll::kHeaderSize; p < v.size();) {
    const auto b = static_cast<uint8_t>(v[p]);
    if (!out.empty()) out += ' ';
    if ((b & 0xc0) == 0) {
      out += "z:" + std::to_string((b & 0x3f) + 1);
      p += 1;
    } else if ((b & 0xc0) == 0x40) {
      const auto next = p + 1 < v.size() ? static_cast<uint8_t>(v[p + 1]) : 0;
      out += "Z:" + std::to_string((((b & 0x3f) << 8) | next) + 1);
      p += 2;
    } else {
      out += "v:" + std::to_string(((b >> 2) & 0x1f) + 1) + "," + std::to_string((b & 3) + 1);
      p += 1;
    }
  }
  return out;
}

// PFDEBUG GETREG | DECODE | ENCODING | TODENSE key
void PfDebug(Context& ctx, Args args) {
  const std::string_view sub = args[1], key = args[2];
  const Record* r = ctx.ks.Find(ctx.db(), key);
  if (r == nullptr) return ctx.out.Error("ERR The specified key does not exist");
  if (r->kind != RecordKind::kString) return ctx.Fail(WrongType());
  if (!hll::LooksValid(ValueOf(r))) return ctx.Fail(NotAnHll());
  const bool sparse = static_cast<uint8_t>(ValueOf(r)[4]) == hll::kSparse;
  if (EqualsNoCase(sub, "encoding")) return ctx.out.Simple(sparse ? "sparse" : "dense");
  if (EqualsNoCase(sub, "decode")) {
    if (!sparse) return ctx.out.Error("ERR HLL encoding is not sparse");
    return ctx.out.Bulk(Decode(ValueOf(r)));
  }
  const bool getreg = EqualsNoCase(sub, "getreg");
  if (!getreg && !EqualsNoCase(sub, "todense")) {
    return ctx.out.Error("ERR Unknown PFDEBUG subcommand '" + std::string(sub) + "'");
  }
  bool corrupt = false;
  const Status st = UpdateHll(ctx, key, &corrupt, [&](std::string* hll, bool* changed) {
    *changed = sparse;
    return hll::ToDense(hll);
  });
  if (!st.ok()) return ctx.Fail(st);
  if (corrupt) return ctx.out.Error(kCorrupt);
  if (!getreg) return ctx.out.Integer(sparse ? 1 : 0);
  std::array<uint8_t, hll::kRegisters> registers{};
  (void)hll::Registers(ValueOf(ctx.ks.Find(ctx.db(), key)), registers.data());
  ctx.out.Array(registers.size());
  for (uint8_t v : registers)
    ctx.out.Integer(v);
}

const Command kCommands[] = {
    {"pfadd", -2, kWrite | kDenyOom | kFast, 1, 1, 1, "hyperloglog",
     "Adds elements to a HyperLogLog key.", PfAdd},
    {"pfcount", -2, kReadOnly | kMultiKey, 1, -1, 1, "hyperloglog",
     "Returns the approximate cardinality of HyperLogLog keys.", PfCount},
    {"pfmerge", -2, kWrite | kDenyOom | kMultiKey, 1, -1, 1, "hyperloglog",
     "Merges HyperLogLog keys into one.", PfMerge},
    {"pfdebug", 3, kWrite | kDenyOom | kAdmin, 2, 2, 1, "hyperloglog",
     "Internal commands for debugging HyperLogLog values.", PfDebug},
};

}  // namespace

std::span<const Command> HllCommands() {
  return kCommands;
}

}  // namespace quiver::resp
