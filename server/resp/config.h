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

}  // namespace quiver::resp
