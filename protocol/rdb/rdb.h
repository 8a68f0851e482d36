// Redis's serialization format for one value, as DUMP writes it and RESTORE
// reads it: the value in RDB encoding, then the RDB version (2 bytes) and
// a CRC-64 (Jones) of everything before the checksum (8 bytes), both
// little-endian.
//
// Written: RDB version 10 (Redis 7.0), in the plain encodings every Redis
// since 2.0 loads (a string, possibly integer-encoded; a list, a set and a
// hash as their items; a sorted set with binary scores).
//
// Read: what Redis 2.6 to 7.4 write for strings, lists, sets, hashes and
// sorted sets, in every encoding: LZF-compressed strings, ziplists,
// listpacks, intsets, quicklists. Streams and module values are refused
// by name. Input is untrusted: every length is checked against the bytes
// that remain before anything is allocated, the value decoded may not
// exceed a size given by the caller, and duplicate members, NaN scores or
// empty collections are refused, as Redis's deep sanitization does.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver::rdb {

inline constexpr int kDumpVersion = 10;    // written (Redis 7.0's)
inline constexpr int kNewestVersion = 12;  // the newest read (Redis 7.4's)

enum class Type : uint8_t { kString, kList, kSet, kZSet, kHash };

// One value, decoded.
struct Value {
  Type type = Type::kString;
  std::string text;                // kString
  std::vector<std::string> items;  // list items, set members, sorted set
                                   // members, or hash field, value, field, ...
  std::vector<double> scores;      // kZSet: the score of items[i]
};

// Writes one value as a DUMP payload. For a string, use String().
class Writer {
 public:
  // The value's items are counted as they are added. REQUIRES: type !=
  // Type::kString.
  explicit Writer(Type type);
  // A list item, a set member, or a hash field then its value.
  void Add(std::string_view item);
  // A sorted set member.
  void Add(std::string_view member, double score);
  std::string Finish() &&;

  static std::string String(std::string_view value);

 private:
  Type type_;
  size_t added_ = 0;
  std::string out_;  // the items, written behind the type and count by Finish
};

// Decodes a DUMP payload into a value of at most max_bytes (its strings'
// bytes and the std::strings that hold them). Errors are InvalidArgument, in Redis's words where
// Redis has some: "DUMP payload version or checksum are wrong" for the footer, "Bad data format"
// (with what was wrong after a colon) for the value.
Result<Value> Read(std::string_view payload, size_t max_bytes);

// FUNCTION DUMP's payload: each library's code behind Redis's function
// opcode, then the footer; and FUNCTION RESTORE's reading of one, with
// Redis's errors ("DUMP payload version or checksum are wrong", "given type is
// not a function", ...).
std::string DumpFunctions(const std::vector<std::string_view>& codes);
Result<std::vector<std::string>> ReadFunctions(std::string_view payload);

// Redis's CRC-64 (Jones coefficients, reflected): crc64(0, bytes).
uint64_t Crc64(uint64_t crc, std::string_view bytes);

}  // namespace quiver::rdb
