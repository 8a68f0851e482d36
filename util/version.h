// The version of this build, reported by --version and the Hello reply.
#pragma once

namespace quiver {
inline constexpr const char* kQuiverVersion = "0.1.0";
}  // namespace quiver
