// The limits on clients that Redis configures with the same names, as
// settings: maxclients, timeout, tcp-keepalive and
// client-output-buffer-limit (server/net/clients.h enforces them).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

// How much of its answers a client may leave unread: past `hard` bytes it
// is disconnected at once, past `soft` bytes for `soft_seconds` too. 0: no
// such limit.
struct OutputLimit {
  int64_t hard = 0;
  int64_t soft = 0;
  int64_t soft_seconds = 0;
  bool operator==(const OutputLimit&) const = default;
};

// Redis's client classes. Replicas and subscribers have no connections of
// their own yet; their limits are kept for CONFIG and later use.
struct OutputBufferLimits {
  OutputLimit normal;
  OutputLimit replica{256 << 20, 64 << 20, 60};
  OutputLimit pubsub{32 << 20, 8 << 20, 60};
  bool operator==(const OutputBufferLimits&) const = default;
};

// Redis's syntax: "<class> <hard> <soft> <soft seconds>" repeated, class
// normal, replica (or slave) or pubsub, sizes with units (32mb). Changes
// only the classes named, as CONFIG SET does.
Status ParseOutputBufferLimits(std::string_view text, OutputBufferLimits* limits);
// As Redis's CONFIG GET prints them: "normal 0 0 0 slave 268435456
// 67108864 60 pubsub 33554432 8388608 60".
std::string FormatOutputBufferLimits(const OutputBufferLimits& limits);

}  // namespace quiver
