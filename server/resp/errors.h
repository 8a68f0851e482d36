// How a Status becomes a RESP error reply: the one table of the RESP front
// end from error kinds (include/quiver/status.h) to Redis's error codes.
// Any thread.
#pragma once

#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver::resp {

// Redis's reply to a write over maxmemory, whatever limit refused it.
inline constexpr std::string_view kOomReply =
    "OOM command not allowed when used memory > 'maxmemory'.";

// The error line (without "-") for a failed status: "<CODE> message" for a
// status with a kind ("WRONGTYPE Operation against …", "NOAUTH …"),
// kOomReply for ErrorKind::kOutOfMemory, "ERR message" otherwise.
// REQUIRES: !status.ok().
std::string ErrorReply(const Status& status);

}  // namespace quiver::resp
