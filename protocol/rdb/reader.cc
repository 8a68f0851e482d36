// RESTORE's side: a DUMP payload's footer checked, then its value decoded
// from whichever encoding the Redis that wrote it chose.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <unordered_set>

#include "protocol/rdb/packed.h"
#include "protocol/rdb/rdb.h"
#include "util/byte_codec.h"

namespace quiver::rdb {

namespace {

// Redis's object types (rdb.h).
enum : uint8_t {
  kString = 0,
  kList = 1,
  kSet = 2,
  kZSet = 3,
  kHash = 4,
  kZSet2 = 5,
  kModule = 6,
  kModule2 = 7,
  kHashZipmap = 9,
  kListZiplist = 10,
  kSetIntset = 11,
  kZSetZiplist = 12,
  kHashZiplist = 13,
  kListQuicklist = 14,
  kStream = 15,
  kHashListpack = 16,
  kZSetListpack = 17,
  kListQuicklist2 = 18,
  kStream2 = 19,
  kSetListpack = 20,
  kStream3 = 21,
};

// The values of a string's special encodings.
enum : uint8_t { kEncInt8 = 0, kEncInt16 = 1, kEncInt32 = 2, kEncLzf = 3 };

// The payload's value, read front to back. Strings that become items are
// charged to the value's budget; containers decoded on the way are only
// checked against it.
class Input {
 public:
  Input(std::string_view in, size_t max_bytes) : in_(in), max_(max_bytes), left_(max_bytes) {}

  bool done() const { return in_.done(); }

  Status Byte(uint8_t* b) {
    if (!in_.Get(b)) return Truncated();
    return Status::Ok();
  }

  // An RDB length; *special set for a string's special encoding (then
  // *len is which).
  Status Length(uint64_t* len, bool* special) {
    uint8_t b = 0;
    QUIVER_RETURN_IF_ERROR(Byte(&b));
    *special = false;
    switch (b >> 6) {
      case 0:
        *len = b & 0x3f;
        return Status::Ok();
      case 1: {
        uint8_t low = 0;
        QUIVER_RETURN_IF_ERROR(Byte(&low));
        *len = (uint64_t{b & 0x3fu} << 8) | low;
        return Status::Ok();
      }
      case 2:
        if (b == 0x80 || b == 0x81) return BigEndian(b == 0x80 ? 4 : 8, len);
        return BadFormat("an unknown length encoding");
      default:
        *special = true;
        *len = b & 0x3f;
        return Status::Ok();
    }
  }

  // A count of elements, each of which takes at least one byte.
  Status Count(uint64_t* n) {
    bool special = false;
    QUIVER_RETURN_IF_ERROR(Length(n, &special));
    if (special || *n > in_.remaining()) return BadFormat("a count beyond the payload");
    if (*n == 0) return BadFormat("an empty collection");
    return Status::Ok();
  }

  // A string in any of its encodings.
  Status Blob(std::string* out) {
    uint64_t len = 0;
    bool special = false;
    QUIVER_RETURN_IF_ERROR(Length(&len, &special));
    if (!special) {
      if (len > max_) return TooLarge();
      if (!in_.Bytes(static_cast<size_t>(len), out)) return Truncated();
      return Status::Ok();
    }
    if (len == kEncLzf) return Lzf(out);
    static constexpr int kWidth[] = {1, 2, 4};
    if (len > kEncInt32) return BadFormat("an unknown string encoding");
    std::string_view bytes;
    if (!in_.View(static_cast<size_t>(kWidth[len]), &bytes)) return Truncated();
    int64_t v = 0;
    for (size_t i = bytes.size(); i-- > 0;)
      v = static_cast<int64_t>(static_cast<uint64_t>(v) << 8 | static_cast<uint8_t>(bytes[i]));
    const int shift = 64 - 8 * kWidth[len];  // sign-extends the width read
    *out = std::to_string(static_cast<int64_t>(static_cast<uint64_t>(v) << shift) >> shift);
    return Status::Ok();
  }

  // A string that becomes part of the value.
  Status String(std::string* out) {
    QUIVER_RETURN_IF_ERROR(Blob(out));
    return Charge(out->size());
  }

  // One item of `bytes` bytes, with its std::string, against the budget.
  Status Charge(size_t bytes) {
    bytes += sizeof(std::string);
    if (bytes > left_) return TooLarge();
    left_ -= bytes;
    return Status::Ok();
  }

  // A sorted set's score: 8 bytes (ZSET_2), or text behind a length byte
  // (ZSET: 253 NaN, 254 +inf, 255 -inf).
  Status Score(bool binary, double* score) {
    if (binary) {
      if (!in_.Get(score)) return Truncated();
      return Status::Ok();
    }
    uint8_t len = 0;
    QUIVER_RETURN_IF_ERROR(Byte(&len));
    if (len >= 253) {
      *score = len == 253 ? std::nan("") : len == 254 ? HUGE_VAL : -HUGE_VAL;
      return Status::Ok();
    }
    std::string text;
    if (!in_.Bytes(len, &text)) return Truncated();
    return ParseScore(text, score);
  }

  static Status ParseScore(const std::string& text, double* score) {
    char* end = nullptr;
    *score = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size()) return BadFormat("a score is no number");
    return Status::Ok();
  }

 private:
  Status BigEndian(int bytes, uint64_t* v) {
    std::string_view b;
    if (!in_.View(static_cast<size_t>(bytes), &b)) return Truncated();
    *v = 0;
    for (char c : b)
      *v = (*v << 8) | static_cast<uint8_t>(c);
    return Status::Ok();
  }

  Status Lzf(std::string* out) {
    uint64_t compressed = 0, len = 0;
    bool special = false;
    QUIVER_RETURN_IF_ERROR(Length(&compressed, &special));
    if (special) return BadFormat("an LZF string's length");
    QUIVER_RETURN_IF_ERROR(Length(&len, &special));
    if (special) return BadFormat("an LZF string's length");
    if (len > max_) return TooLarge();
    std::string_view bytes;
    if (!in_.View(static_cast<size_t>(compressed), &bytes)) return Truncated();
    QUIVER_ASSIGN_OR_RETURN(*out, LzfDecompress(bytes, static_cast<size_t>(len)));
    return Status::Ok();
  }

  static Status Truncated() { return BadFormat("the payload ends inside its value"); }
  Status TooLarge() const {
    return Status::InvalidArgument("the restored value would take more than " +
                                   std::to_string(max_) + " bytes");
  }

  ByteReader in_;
  const size_t max_;
  size_t left_;
};

// Items read one by one into the value.
Status Collect(Input& in, Value* v, uint64_t count) {
  v->items.reserve(static_cast<size_t>(std::min<uint64_t>(count, 1024)));
  for (uint64_t i = 0; i < count; ++i)
    QUIVER_RETURN_IF_ERROR(in.String(&v->items.emplace_back()));
  return Status::Ok();
}

// The entries of a container string (listpack, ziplist, intset) into the value.
Status CollectPacked(Input& in, Value* v, Status (*each)(std::string_view, EntryFn)) {
  std::string blob;
  QUIVER_RETURN_IF_ERROR(in.Blob(&blob));
  return each(blob, [&](std::string_view entry) {
    QUIVER_RETURN_IF_ERROR(in.Charge(entry.size()));
    v->items.emplace_back(entry);
    return Status::Ok();
  });
}

// A quicklist: nodes of ziplists (v1), or of listpacks or plain items (v2).
Status CollectQuicklist(Input& in, Value* v, bool v2) {
  uint64_t nodes = 0;
  QUIVER_RETURN_IF_ERROR(in.Count(&nodes));
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t container = 2;  // packed
    if (v2) {
      bool special = false;
      QUIVER_RETURN_IF_ERROR(in.Length(&container, &special));
      if (special || (container != 1 && container != 2)) {
        return BadFormat("a quicklist node of an unknown kind");
      }
    }
    if (container == 1) {
      QUIVER_RETURN_IF_ERROR(in.String(&v->items.emplace_back()));
    } else {
      QUIVER_RETURN_IF_ERROR(CollectPacked(in, v, v2 ? ForEachListpackEntry : ForEachZiplistEntry));
    }
  }
  return Status::Ok();
}

// A sorted set read as member, score pairs.
Status CollectZSet(Input& in, Value* v, bool binary_scores) {
  uint64_t count = 0;
  QUIVER_RETURN_IF_ERROR(in.Count(&count));
  for (uint64_t i = 0; i < count; ++i) {
    QUIVER_RETURN_IF_ERROR(in.String(&v->items.emplace_back()));
    QUIVER_RETURN_IF_ERROR(in.Score(binary_scores, &v->scores.emplace_back()));
  }
  return Status::Ok();
}

// A packed sorted set's alternating members and scores, split.
Status SplitScores(Value* v) {
  if (v->items.size() % 2 != 0) return BadFormat("a sorted set's member lacks its score");
  std::vector<std::string> members;
  members.reserve(v->items.size() / 2);
  for (size_t i = 0; i < v->items.size(); i += 2) {
    members.push_back(std::move(v->items[i]));
    QUIVER_RETURN_IF_ERROR(Input::ParseScore(v->items[i + 1], &v->scores.emplace_back()));
  }
  v->items = std::move(members);
  return Status::Ok();
}

Status ReadObject(Input& in, uint8_t type, Value* v) {
  uint64_t count = 0;
  switch (type) {
    case kString:
      v->type = Type::kString;
      return in.String(&v->text);
    case kList:
    case kSet:
    case kHash:
      v->type = type == kList ? Type::kList : type == kSet ? Type::kSet : Type::kHash;
      QUIVER_RETURN_IF_ERROR(in.Count(&count));
      if (type == kHash && count > UINT64_MAX / 2) return BadFormat("a count beyond the payload");
      return Collect(in, v, type == kHash ? count * 2 : count);
    case kZSet:
    case kZSet2:
      v->type = Type::kZSet;
      return CollectZSet(in, v, type == kZSet2);
    case kListZiplist:
      v->type = Type::kList;
      return CollectPacked(in, v, ForEachZiplistEntry);
    case kListQuicklist:
    case kListQuicklist2:
      v->type = Type::kList;
      return CollectQuicklist(in, v, type == kListQuicklist2);
    case kSetIntset:
    case kSetListpack:
      v->type = Type::kSet;
      return CollectPacked(in, v, type == kSetIntset ? ForEachIntsetEntry : ForEachListpackEntry);
    case kHashZiplist:
    case kHashListpack:
      v->type = Type::kHash;
      QUIVER_RETURN_IF_ERROR(
          CollectPacked(in, v, type == kHashZiplist ? ForEachZiplistEntry : ForEachListpackEntry));
      if (v->items.size() % 2 != 0) return BadFormat("a hash's field lacks its value");
      return Status::Ok();
    case kZSetZiplist:
    case kZSetListpack:
      v->type = Type::kZSet;
      QUIVER_RETURN_IF_ERROR(
          CollectPacked(in, v, type == kZSetZiplist ? ForEachZiplistEntry : ForEachListpackEntry));
      return SplitScores(v);
    case kStream:
    case kStream2:
    case kStream3:
      return BadFormat("the value is a stream, which quiver does not serve");
    case kModule:
    case kModule2:
      return BadFormat("the value is a module's type, which quiver does not serve");
    case kHashZipmap:
      return BadFormat("the value is a zipmap hash (Redis 2.4), which quiver does not read");
    default:
      return BadFormat("an unknown value type " + std::to_string(type));
  }
}

// Redis's rules beyond the encoding: members are distinct, scores are numbers.
Status CheckValue(const Value& v) {
  if (v.type == Type::kString || v.type == Type::kList) return Status::Ok();
  const size_t step = v.type == Type::kHash ? 2 : 1;
  std::unordered_set<std::string_view> seen;
  seen.reserve(v.items.size() / step);
  for (size_t i = 0; i < v.items.size(); i += step) {
    if (!seen.insert(v.items[i]).second) return BadFormat("a duplicate member or field");
  }
  for (double s : v.scores) {
    if (std::isnan(s)) return BadFormat("a sorted set's score is NaN");
  }
  return Status::Ok();
}

// Whether the payload's footer (version, CRC) is good.
bool FooterOk(std::string_view payload) {
  if (payload.size() < 10) return false;
  uint16_t version = 0;
  uint64_t crc = 0;
  std::memcpy(&version, payload.data() + payload.size() - 10, 2);
  std::memcpy(&crc, payload.data() + payload.size() - 8, 8);
  return version <= kNewestVersion && Crc64(0, payload.substr(0, payload.size() - 8)) == crc;
}

}  // namespace

Result<Value> Read(std::string_view payload, size_t max_bytes) {
  if (!FooterOk(payload)) {
    return Status::InvalidArgument("DUMP payload version or checksum are wrong");
  }
  Input in(payload.substr(0, payload.size() - 10), max_bytes);
  uint8_t type = 0;
  Value v;
  QUIVER_RETURN_IF_ERROR(in.Byte(&type));
  QUIVER_RETURN_IF_ERROR(ReadObject(in, type, &v));
  if (!in.done()) return BadFormat("bytes after the value");
  QUIVER_RETURN_IF_ERROR(CheckValue(v));
  return v;
}

Result<std::vector<std::string>> ReadFunctions(std::string_view payload) {
  if (!FooterOk(payload)) {
    return Status::InvalidArgument("DUMP payload version or checksum are wrong");
  }
  constexpr uint8_t kFunctionPreGa = 246, kFunction2 = 245;
  Input in(payload.substr(0, payload.size() - 10), 2 * payload.size() + 1024);
  std::vector<std::string> codes;
  while (!in.done()) {
    uint8_t type = 0;
    QUIVER_RETURN_IF_ERROR(in.Byte(&type));
    if (type == kFunctionPreGa) {
      return Status::InvalidArgument("Pre-GA function format not supported");
    }
    if (type != kFunction2) return Status::InvalidArgument("given type is not a function");
    if (!in.String(&codes.emplace_back()).ok()) {
      return Status::InvalidArgument("failed loading the given functions payload");
    }
  }
  return codes;
}

}  // namespace quiver::rdb
