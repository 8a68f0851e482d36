// Pieces shared by the RESP command files: values of records, TTL options,
// Redis's limits and errors.
#pragma once

#include <cstdint>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include "server/resp/command.h"
#include "storage/keyspace/key_log.h"

namespace quiver::resp {

// proto-max-bulk-len: the largest string a command may build.
inline constexpr size_t kMaxStringSize = 512u << 20;

inline std::string_view ValueOf(const Record* r) {
  auto v = r->value();
  return {reinterpret_cast<const char*>(v.data()), v.size()};
}

inline Status Oom() {
  return Status::OutOfMemory("command not allowed when used memory > 'maxmemory'.");
}
inline Status WrongType() {
  return Status::WrongType(std::string(kWrongTypeMessage));
}
// OK, or the MISCONF error that refuses writes while the disk under the
// plain keys has failed (and until it recovers).
inline Status DiskRefusal(const Context& ctx) {
  const KeyLog* log = ctx.ks.log();
  return log != nullptr ? log->store().health() : Status::Ok();
}
inline Status TooBig() {
  return Status::InvalidArgument("string exceeds maximum allowed size (proto-max-bulk-len)");
}

// The unit of an expiry argument.
enum class ExpireUnit { kSeconds, kMillis, kUnixSeconds, kUnixMillis };

// The absolute expiry of `text` in `unit` at now_ms; an error in Redis's
// words ("invalid expire time in '<command>' command") if it is not an
// integer, overflows, or (positive_only) is not > 0.
Result<int64_t> ExpireAt(std::string_view text, ExpireUnit unit, int64_t now_ms,
                         std::string_view command, bool positive_only);

// The keyspace notification of a key's expiry set to `at`: "expire", "del"
// for a time already past (the key was deleted), "persist" for
// kNeverExpires if the key had a TTL.
void NotifyExpiry(Context& ctx, std::string_view key, int64_t at, bool had_ttl);

// The notification of a change to a collection: event (of class cls), then
// "del" if the key is gone (the command emptied it, and it was deleted).
void NotifyEdit(Context& ctx, uint32_t cls, std::string_view event, std::string_view key);

// The notification of a STORE command's destination: event (of class cls)
// if it stored something, else "del" if it deleted the key that existed.
void NotifyStored(Context& ctx, uint32_t cls, std::string_view event, std::string_view key,
                  bool stored, bool existed);

// Makes key hold the record build() makes (nullptr: out of memory),
// whatever the key held before, in one compare-and-swap; with `empty`,
// deletes the key instead. build may run more than once.
Status StoreRecord(Context& ctx, std::string_view key, bool empty, FunctionRef<Record*()> build);

// Calls fn with each element of the list, set or sorted set r holds (the
// live record of key), with its score (0 but in a sorted set), in the
// value's order: a list's, a sorted set's, a set's own. Counts a keyspace
// hit; WRONGTYPE for another kind. A box stays locked while fn runs.
Status ForEachElement(Context& ctx, std::string_view key, const Record& r,
                      FunctionRef<void(std::string_view, double)> fn);

// A new record of key holding a list of these items (at least one),
// expiring at expire_at_ms; nullptr if out of memory. For StoreRecord.
Record* NewListRecord(Context& ctx, std::string_view key, std::span<const std::string_view> items,
                      int64_t expire_at_ms);

// The live record of a key if it is a string (nullptr if absent); counts a
// keyspace hit or miss.
Result<const Record*> FindString(Context& ctx, std::string_view key);

// Rewrites the string at key (an empty one if absent; WRONGTYPE for
// another kind): its bytes, then zeros up to min_size, changed in place by
// edit, keeping its TTL. edit may run more than once, on the key's value
// each time. Refused past 512 MB and over the memory limit. *grew (if
// given) tells whether the string was created or lengthened.
Status EditString(Context& ctx, std::string_view key, uint64_t min_size,
                  FunctionRef<void(std::span<uint8_t>)> edit, bool* grew = nullptr);

// Replies a string record's value, or nil.
void ReplyValue(Context& ctx, const Record* r);

// "string", "hash", "list" (as TYPE answers), "none" for anything else.
std::string_view TypeName(RecordKind kind);

// SCAN's and HSCAN's options.
struct ScanOptions {
  std::string_view match;  // empty: everything
  size_t count = 10;
  std::optional<RecordKind> type;
  bool unknown_type = false;  // TYPE named no kind: nothing matches
  bool novalues = false;      // HSCAN: fields only
};
// Parses MATCH, COUNT, TYPE (and with novalues_allowed, NOVALUES) from args[from].
Result<ScanOptions> ParseScanOptions(Args args, size_t from, bool novalues_allowed);
// SCAN's and HSCAN's cursor (args[at]) and options (after it).
Result<std::pair<uint64_t, ScanOptions>> ParseScan(Args args, size_t at, bool novalues_allowed);
// This thread's random generator (HRANDFIELD, SRANDMEMBER, SPOP).
std::mt19937_64& Rng();

// [next cursor, [items...]]
void ReplyScan(Context& ctx, uint64_t next, std::span<const std::string_view> items);

}  // namespace quiver::resp
