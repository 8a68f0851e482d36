// What the RESP port reports of the server: INFO's sections.
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
// "1.50M": bytes as INFO's *_human fields write them.
std::string Human(int64_t bytes);
// The process's resident memory.
int64_t RssBytes();
// Takes a sample for instantaneous_ops_per_sec; call every 100 ms.
void SampleOps(Shared& shared, int64_t now_ms);
// Commands per second over the samples taken (0 before two).
int64_t OpsPerSecond(Shared& shared);

}  // namespace quiver::resp
