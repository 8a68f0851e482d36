// What the RESP port reports of the server: INFO's sections and the
// parameters CONFIG GET and CONFIG SET know.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "server/resp/command.h"

namespace quiver::resp {

// INFO [section ...]: Redis's sections and field names.
void Info(Context& ctx, Args args);
// CONFIG RESETSTAT: INFO's stats, commandstats and latencystats start
// again from zero.
void ResetStats(Context& ctx);
// Takes a sample for instantaneous_ops_per_sec; call every 100 ms.
void SampleOps(Shared& shared, int64_t now_ms);
// Commands per second over the samples taken (0 before two).
int64_t OpsPerSecond(Shared& shared);

struct ConfigParam {
  enum Kind : uint8_t {
    kNoop,       // a Redis tuning parameter without meaning here: stored and reported
    kImmutable,  // set at start (quiverd's flags); CONFIG SET refuses it
    kMaxMemory,  // the online table's memory limit
    kRequirePass,
  };
  std::string_view name;
  Kind kind;
  std::string_view default_value;
};

std::span<const ConfigParam> ConfigParams();
const ConfigParam* FindConfigParam(std::string_view name);  // any case
std::string ConfigValue(Context& ctx, const ConfigParam& p);
// Whether CONFIG SET may give the parameter this value; the error is the
// part of Redis's message after " - ".
Status CheckConfigValue(const ConfigParam& p, std::string_view value);
void SetConfigValue(Context& ctx, const ConfigParam& p, std::string_view value);

// Redis's memory values: "100", "1k" (1000), "1kb" (1024), "5mb", "2gb".
bool ParseMemoryValue(std::string_view text, int64_t* bytes);

}  // namespace quiver::resp
