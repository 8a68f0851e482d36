// The classes of keyspace notifications (Redis's notify-keyspace-events):
// their flags, the text that sets them and the text CONFIG GET shows. Pure
// functions; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

enum NotifyClass : uint32_t {
  kNotifyKeyspace = 1u << 0,  // K: __keyspace@<db>__:<key> gets the event
  kNotifyKeyevent = 1u << 1,  // E: __keyevent@<db>__:<event> gets the key
  kNotifyGeneric = 1u << 2,   // g: DEL, EXPIRE, RENAME, ...
  kNotifyString = 1u << 3,    // $
  kNotifyList = 1u << 4,      // l
  kNotifySet = 1u << 5,       // s
  kNotifyHash = 1u << 6,      // h
  kNotifyZSet = 1u << 7,      // z
  kNotifyExpired = 1u << 8,   // x
  kNotifyEvicted = 1u << 9,   // e (quiver never evicts: accepted, never sent)
  kNotifyStream = 1u << 10,   // t (no streams: accepted, never sent)
  kNotifyKeyMiss = 1u << 11,  // m: a read found no key
  kNotifyModule = 1u << 12,   // d (no modules: accepted, never sent)
  kNotifyNew = 1u << 13,      // n: a key was created
  // A: every class but m and n.
  kNotifyAll = kNotifyGeneric | kNotifyString | kNotifyList | kNotifySet | kNotifyHash |
               kNotifyZSet | kNotifyExpired | kNotifyEvicted | kNotifyStream | kNotifyModule,
};

// The flags a notify-keyspace-events text sets ("" for none); an error
// for a character that names no class.
Result<uint32_t> ParseNotifyFlags(std::string_view text);
// The flags as Redis 7.0 shows them: "A" for all of kNotifyAll, else each
// class and n; then K, E and m. (With A, Redis 7.0 leaves n out of the
// text, though it keeps the class; so does quiver, so that CONFIG GET
// answers alike.)
std::string FormatNotifyFlags(uint32_t flags);

}  // namespace quiver
