// Crash testing: a quiverd in sync durability is killed with SIGKILL while
// clients write, restarted on the same data, and every write it had
// acknowledged must be there. Shared by the integration test (a few cycles)
// and the quiver_crash_stress target (as many as asked).
#pragma once

#include <cstddef>
#include <string>

#include "quiver/status.h"

namespace quiver::testing {

struct CrashCycleStats {
  size_t acknowledged = 0;  // rows the server acknowledged before the kill
  size_t verified = 0;      // rows read back after the restart
};

// Runs cycle number `cycle` on data_dir: starts quiverd, lets `writers`
// clients write for kill_after_ms, kills it, restarts it and checks every
// acknowledged row. Fails naming the first lost row.
Result<CrashCycleStats> RunCrashCycle(const std::string& data_dir, int cycle, int writers,
                                      int kill_after_ms);

}  // namespace quiver::testing
