// BITFIELD key [GET type offset] [SET type offset value] [INCRBY type
// offset increment] [OVERFLOW WRAP | SAT | FAIL] ..., and BITFIELD_RO with
// GETs only: signed (i1 to i64) and unsigned (u1 to u63) fields at any bit
// offset of a string, with Redis 7.0's parsing order, errors, overflow
// rules and replies. The operations run in order on one new value of the
// string, built once.
#include <optional>
#include <string>
#include <vector>

#include "server/resp/arguments.h"
#include "server/resp/bit_ops.h"
#include "server/resp/bitmaps.h"
#include "server/resp/helpers.h"

namespace quiver::resp {

namespace {

struct FieldOp {
  enum Kind { kGet, kSet, kIncrBy } kind;
  bool is_signed;
  int width;
  uint64_t offset;
  int64_t value;  // SET's value, INCRBY's increment
  bits::Overflow overflow;
};

// A field type: i1 to i64, u1 to u63.
Status ParseType(std::string_view text, FieldOp* op) {
  int64_t width = 0;
  const bool ok = !text.empty() && (text[0] == 'i' || text[0] == 'u') &&
                  ParseInt64(text.substr(1), &width) && width >= 1 &&
                  width <= (text[0] == 'i' ? 64 : 63);
  if (!ok) {
    return Status::InvalidArgument(
        "Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but "
        "i64 is.");
  }
  op->is_signed = text[0] == 'i';
  op->width = static_cast<int>(width);
  return Status::Ok();
}

Result<bits::Overflow> ParseOverflow(std::string_view text) {
  if (EqualsNoCase(text, "wrap")) return bits::Overflow::kWrap;
  if (EqualsNoCase(text, "sat")) return bits::Overflow::kSat;
  if (EqualsNoCase(text, "fail")) return bits::Overflow::kFail;
  return Status::InvalidArgument("Invalid OVERFLOW type specified");
}

// The operations of args[2...], in order.
Result<std::vector<FieldOp>> ParseOps(Args args) {
  std::vector<FieldOp> ops;
  bits::Overflow overflow = bits::Overflow::kWrap;
  for (size_t j = 2; j < args.size(); ++j) {
    const size_t left = args.size() - j - 1;
    FieldOp op{};
    if (EqualsNoCase(args[j], "get") && left >= 2) {
      op.kind = FieldOp::kGet;
    } else if (EqualsNoCase(args[j], "set") && left >= 3) {
      op.kind = FieldOp::kSet;
    } else if (EqualsNoCase(args[j], "incrby") && left >= 3) {
      op.kind = FieldOp::kIncrBy;
    } else if (EqualsNoCase(args[j], "overflow") && left >= 1) {
      QUIVER_ASSIGN_OR_RETURN(overflow, ParseOverflow(args[++j]));
      continue;
    } else {
      return Status::InvalidArgument(std::string(kSyntaxError.substr(4)));
    }
    QUIVER_RETURN_IF_ERROR(ParseType(args[j + 1], &op));
    QUIVER_ASSIGN_OR_RETURN(op.offset, ParseBitOffset(args[j + 2], true, op.width));
    if (op.kind != FieldOp::kGet && !ParseInt64(args[j + 3], &op.value)) {
      return Status::InvalidArgument(std::string(kNotInteger.substr(4)));
    }
    op.overflow = overflow;
    ops.push_back(op);
    j += op.kind == FieldOp::kGet ? 2 : 3;
  }
  return ops;
}

// The field's value, as BITFIELD replies it.
int64_t Read(std::span<const uint8_t> bytes, const FieldOp& op) {
  if (op.is_signed) return bits::GetSignedField(bytes, op.offset, op.width);
  return static_cast<int64_t>(bits::GetField(bytes, op.offset, op.width));
}

// Runs the operations on the string's bytes; the replies (nullopt: nil)
// and how many fields were written.
size_t Apply(std::span<uint8_t> bytes, std::span<const FieldOp> ops,
             std::vector<std::optional<int64_t>>* replies) {
  replies->clear();
  size_t changes = 0;
  for (const FieldOp& op : ops) {
    const int64_t old = Read(bytes, op);
    if (op.kind == FieldOp::kGet) {
      replies->push_back(old);
      continue;
    }
    const std::optional<int64_t> fresh =
        op.kind == FieldOp::kSet ? bits::Add(op.value, 0, op.width, op.is_signed, op.overflow)
                                 : bits::Add(old, op.value, op.width, op.is_signed, op.overflow);
    if (!fresh) {
      replies->push_back(std::nullopt);  // FAIL: nothing written
      continue;
    }
    bits::SetField(bytes, op.offset, op.width, static_cast<uint64_t>(*fresh));
    ++changes;
    replies->push_back(op.kind == FieldOp::kSet ? old : *fresh);
  }
  return changes;
}

template <bool read_only>
void BitField(Context& ctx, Args args) {
  Result<std::vector<FieldOp>> ops = ParseOps(args);
  if (!ops.ok()) return ctx.Fail(ops.status());
  uint64_t end = 0;  // bytes the writes need
  for (const FieldOp& op : *ops) {
    if (op.kind != FieldOp::kGet) end = std::max(end, (op.offset + op.width - 1) / 8 + 1);
  }
  std::vector<std::optional<int64_t>> replies;
  if (end == 0) {  // reads only: an absent key reads as zeros
    Result<const Record*> r = FindString(ctx, args[1]);
    if (!r.ok()) return ctx.Fail(r.status());
    for (const FieldOp& op : *ops)
      replies.push_back(Read(BytesOf(*r), op));
  } else {
    if (read_only) return ctx.out.Error("ERR BITFIELD_RO only supports the GET subcommand");
    size_t changes = 0;
    const Status st = EditString(ctx, args[1], end, [&](std::span<uint8_t> bytes) {
      changes = Apply(bytes, *ops, &replies);
    });
    if (!st.ok()) return ctx.Fail(st);
    if (changes > 0) ctx.Notify(kNotifyString, "setbit", args[1]);
  }
  ctx.out.Array(replies.size());
  for (const std::optional<int64_t>& reply : replies)
    reply ? ctx.out.Integer(*reply) : ctx.out.Null();
}

const Command kCommands[] = {
    {"bitfield", -2, kWrite | kDenyOom, 1, 1, 1, "bitmap",
     "Reads and writes integer fields of a string.", BitField<false>},
    {"bitfield_ro", -2, kReadOnly | kFast, 1, 1, 1, "bitmap", "Reads integer fields of a string.",
     BitField<true>},
};

}  // namespace

std::span<const Command> BitFieldCommands() {
  return kCommands;
}

}  // namespace quiver::resp
