// Bitmaps, with Redis 7.0's semantics, errors and notifications: SETBIT,
// GETBIT, BITCOUNT and BITPOS (with BYTE | BIT ranges) and BITOP, on string
// values (bit 0 is the most significant bit of the first byte). BITFIELD
// is in server/resp/bitfield.cc. A write builds the string's new value
// once, as every string write does (values are replaced, never changed in
// place under readers).
#include "server/resp/bitmaps.h"

#include <algorithm>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/bit_ops.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

constexpr std::string_view kBadOffset = "bit offset is not an integer or out of range";

}  // namespace

Result<uint64_t> ParseBitOffset(std::string_view text, bool hash_allowed, int width) {
  const bool hash = hash_allowed && !text.empty() && text[0] == '#';
  int64_t n = 0;
  if (!ParseInt64(hash ? text.substr(1) : text, &n) || n < 0) {
    return Status::InvalidArgument(std::string(kBadOffset));
  }
  if (hash && __builtin_mul_overflow(n, int64_t{width}, &n)) {
    return Status::InvalidArgument(std::string(kBadOffset));
  }
  if (static_cast<uint64_t>(n) >> 3 >= kMaxStringSize) {
    return Status::InvalidArgument(std::string(kBadOffset));
  }
  return static_cast<uint64_t>(n);
}

std::span<const uint8_t> BytesOf(const Record* r) {
  if (r == nullptr) return {};
  return r->value();
}

namespace {

void SetBit(Context& ctx, Args args) {
  Result<uint64_t> offset = ParseBitOffset(args[2], false, 0);
  if (!offset.ok()) return ctx.Fail(offset.status());
  if (args[3] != "0" && args[3] != "1") {
    return ctx.out.Error("ERR bit is not an integer or out of range");
  }
  const int bit = args[3] == "1" ? 1 : 0;
  int old = 0;
  bool grew = false;
  const Status st = EditString(
      ctx, args[1], *offset / 8 + 1,
      [&](std::span<uint8_t> bytes) {
        old = bits::Get(bytes, *offset);
        bits::Set(bytes, *offset, bit);
      },
      &grew);
  if (!st.ok()) return ctx.Fail(st);
  // As Redis 7: notified only if the string changed.
  if (old != bit || grew) ctx.Notify(kNotifyString, "setbit", args[1]);
  ctx.out.Integer(old);
}

void GetBit(Context& ctx, Args args) {
  Result<uint64_t> offset = ParseBitOffset(args[2], false, 0);
  if (!offset.ok()) return ctx.Fail(offset.status());
  Result<const Record*> r = FindString(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  ctx.out.Integer(bits::Get(BytesOf(*r), *offset));
}

// A range's unit: BYTE (the default) or BIT.
Result<bool> ParseUnit(std::string_view text) {
  if (EqualsNoCase(text, "bit")) return true;
  if (EqualsNoCase(text, "byte")) return false;
  return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
}

// start and end (inclusive, in bytes or bits; negative from the end) of a
// string of `size` bytes, clamped as Redis clamps them, as bits [first,
// last]; nullopt if the range is empty.
std::optional<std::pair<uint64_t, uint64_t>> BitRange(int64_t start, int64_t end, bool in_bits,
                                                      size_t size) {
  const int64_t total = static_cast<int64_t>(size) * (in_bits ? 8 : 1);
  if (start < 0) start = std::max<int64_t>(total + start, 0);
  if (end < 0) end = std::max<int64_t>(total + end, 0);
  end = std::min(end, total - 1);
  if (start > end) return std::nullopt;
  const auto first = static_cast<uint64_t>(start), last = static_cast<uint64_t>(end);
  if (in_bits) return std::pair{first, last};
  return std::pair{first * 8, last * 8 + 7};
}

// BITCOUNT key [start end [BYTE | BIT]]
void BitCount(Context& ctx, Args args) {
  Result<const Record*> r = FindString(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  if (*r == nullptr) return ctx.out.Integer(0);  // before the range is looked at, as Redis
  const std::span<const uint8_t> bytes = BytesOf(*r);
  if (args.size() == 2) return ctx.out.Integer(static_cast<int64_t>(bits::Count(bytes)));
  if (args.size() != 4 && args.size() != 5) return ctx.out.Error(kSyntaxError);
  int64_t start = 0, end = 0;
  if (!ParseInt64(args[2], &start) || !ParseInt64(args[3], &end)) {
    return ctx.out.Error(kNotInteger);
  }
  if (start < 0 && end < 0 && start > end) return ctx.out.Integer(0);
  Result<bool> in_bits = args.size() == 5 ? ParseUnit(args[4]) : Result<bool>(false);
  if (!in_bits.ok()) return ctx.Fail(in_bits.status());
  const auto range = BitRange(start, end, *in_bits, bytes.size());
  if (!range) return ctx.out.Integer(0);
  ctx.out.Integer(static_cast<int64_t>(bits::CountRange(bytes, range->first, range->second)));
}

// BITPOS key bit [start [end [BYTE | BIT]]]
void BitPos(Context& ctx, Args args) {
  int64_t bit = 0;
  if (!ParseInt64(args[2], &bit)) return ctx.out.Error(kNotInteger);
  if (bit != 0 && bit != 1) return ctx.out.Error("ERR The bit argument must be 1 or 0.");
  Result<const Record*> r = FindString(ctx, args[1]);
  if (!r.ok()) return ctx.Fail(r.status());
  // An absent key is an endless run of zeros.
  if (*r == nullptr) return ctx.out.Integer(bit != 0 ? -1 : 0);
  if (args.size() > 6) return ctx.out.Error(kSyntaxError);
  const std::span<const uint8_t> bytes = BytesOf(*r);
  int64_t start = 0, end = -1;
  if (args.size() >= 4 && !ParseInt64(args[3], &start)) return ctx.out.Error(kNotInteger);
  Result<bool> in_bits = args.size() == 6 ? ParseUnit(args[5]) : Result<bool>(false);
  if (!in_bits.ok()) return ctx.Fail(in_bits.status());
  const bool end_given = args.size() >= 5;
  if (end_given && !ParseInt64(args[4], &end)) return ctx.out.Error(kNotInteger);
  const auto range = BitRange(start, end, *in_bits, bytes.size());
  if (!range) return ctx.out.Integer(-1);
  const int64_t pos = bits::Find(bytes, static_cast<int>(bit), range->first, range->second);
  // Without an end, the string continues with zeros after its last byte.
  if (pos < 0 && bit == 0 && !end_given) return ctx.out.Integer((range->second / 8 + 1) * 8);
  ctx.out.Integer(pos);
}

enum class BitOp { kAnd, kOr, kXor, kNot };

// BITOP AND | OR | XOR | NOT destkey key [key ...]
void BitOpCommand(Context& ctx, Args args) {
  BitOp op;
  if (EqualsNoCase(args[1], "and")) {
    op = BitOp::kAnd;
  } else if (EqualsNoCase(args[1], "or")) {
    op = BitOp::kOr;
  } else if (EqualsNoCase(args[1], "xor")) {
    op = BitOp::kXor;
  } else if (EqualsNoCase(args[1], "not")) {
    op = BitOp::kNot;
  } else {
    return ctx.out.Error(kSyntaxError);
  }
  if (op == BitOp::kNot && args.size() != 4) {
    return ctx.out.Error("ERR BITOP NOT must be called with a single source key.");
  }
  std::vector<std::span<const uint8_t>> sources;
  size_t size = 0;
  for (std::string_view key : args.subspan(3)) {
    Result<const Record*> r = FindString(ctx, key);  // absent: an empty string
    if (!r.ok()) return ctx.Fail(r.status());
    sources.push_back(BytesOf(*r));
    size = std::max(size, sources.back().size());
  }
  if (!ctx.ks.Fits(size)) return ctx.Fail(Oom());
  std::string out(size, '\0');
  for (size_t i = 0; i < size; ++i) {
    auto at = [&](size_t k) { return i < sources[k].size() ? sources[k][i] : uint8_t{0}; };
    uint8_t v = at(0);
    for (size_t k = 1; k < sources.size(); ++k) {
      v = op == BitOp::kAnd ? v & at(k) : op == BitOp::kOr ? v | at(k) : v ^ at(k);
    }
    out[i] = static_cast<char>(op == BitOp::kNot ? ~v : v);
  }
  const bool existed = ctx.ks.Find(ctx.db(), args[2]) != nullptr;
  Result<KeySpace::Change::Kind> done =
      ctx.ks.Mutate(ctx.db(), args[2], [&](const Record*) -> Result<KeySpace::Change> {
        if (out.empty()) return KeySpace::Change{KeySpace::Change::kErase};
        Record* r = ctx.ks.NewRecord(ctx.db(), args[2], RecordKind::kString, out, kNeverExpires);
        if (r == nullptr) return Oom();
        return KeySpace::Change{KeySpace::Change::kPut, r};
      });
  if (!done.ok()) return ctx.Fail(done.status());
  NotifyStored(ctx, kNotifyString, "set", args[2], !out.empty(), existed);
  ctx.out.Integer(static_cast<int64_t>(size));
}

constexpr uint32_t kW = kWrite | kDenyOom;

const Command kCommands[] = {
    {"setbit", 4, kW, 1, 1, 1, "bitmap", "Sets or clears the bit at offset of a string.", SetBit},
    {"getbit", 3, kReadOnly | kFast, 1, 1, 1, "bitmap", "Returns a bit of a string.", GetBit},
    {"bitcount", -2, kReadOnly, 1, 1, 1, "bitmap", "Counts the set bits of a string.", BitCount},
    {"bitpos", -3, kReadOnly, 1, 1, 1, "bitmap", "Finds the first set or clear bit of a string.",
     BitPos},
    {"bitop", -4, kW | kMultiKey, 2, -1, 1, "bitmap",
     "Stores the AND, OR, XOR or NOT of strings in a key.", BitOpCommand},
};

}  // namespace

std::span<const Command> BitmapCommands() {
  return kCommands;
}

}  // namespace quiver::resp
