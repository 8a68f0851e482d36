// CONFIG GET and CONFIG SET: quiverd's own settings (service/settings.h),
// by their config key or their Redis name (maxmemory, requirepass, port,
// bind, dir, io-threads, databases), through the server's RuntimeConfig;
// and Redis's other parameters, which mean nothing here: a few fixed ones
// reported as Redis reports them, the tuning ones stored and reported.
#pragma once

#include "server/resp/command.h"

namespace quiver::resp {

void ConfigGet(Context& ctx, Args args);
void ConfigSet(Context& ctx, Args args);

// One of Redis's parameters that quiver applies (hll-sparse-max-bytes) as
// CONFIG SET last gave it, or its default if that is not a number from 0
// to max.
int64_t RedisIntParam(Context& ctx, std::string_view name, int64_t max);

}  // namespace quiver::resp
