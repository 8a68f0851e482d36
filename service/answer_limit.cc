#include "service/answer_limit.h"

#include <algorithm>
#include <cstdio>
#include <string>

namespace quiver {

namespace {

// "1.5 GiB", "640.0 MiB", "12.3 KiB", "900 bytes".
std::string Approximately(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB"};
  if (bytes < 1024) return std::to_string(bytes) + " bytes";
  double v = static_cast<double>(bytes) / 1024;
  size_t unit = 0;
  while (v >= 1024 && unit + 1 < std::size(kUnits)) {
    v /= 1024;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[unit]);
  return buf;
}

}  // namespace

Status CheckAnswerSize(uint64_t bytes, uint64_t limit, size_t entities,
                       std::string_view limit_name) {
  if (bytes <= limit) return Status::Ok();
  std::string message = "the answer would be about " + Approximately(bytes) +
                        ", over the limit of " + Approximately(limit) + " (" +
                        std::string(limit_name) + "): ask for fewer fields or entities";
  if (entities > 1) {
    const uint64_t per_entity = std::max<uint64_t>(1, bytes / entities);
    message += " (about " + std::to_string(limit / per_entity) + " of these " +
               std::to_string(entities) + " fit in one request)";
  }
  return Status::ResourceExhausted(message);
}

}  // namespace quiver
