// quiver_crash_stress [CYCLES] [WRITERS]: repeats the crash cycle (kill -9
// during sync writes, restart, check every acknowledged row) many times on
// one data directory. Exit status 0 if no acknowledged write was ever lost.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "server/crash_cycle.h"
#include "support/quiverd_process.h"

int main(int argc, char** argv) {
  const int cycles = argc > 1 ? std::atoi(argv[1]) : 50;
  const int writers = argc > 2 ? std::atoi(argv[2]) : 8;
  const std::string dir = quiver::testing::MakeTempDir();
  int failures = 0;
  size_t total = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    // Vary the moment of the kill so that it lands at different points of
    // the commit path.
    const int kill_after_ms = 50 + (cycle * 37) % 400;
    auto stats = quiver::testing::RunCrashCycle(dir, cycle, writers, kill_after_ms);
    if (!stats.ok()) {
      std::printf("cycle %d: FAILED: %s\n", cycle, stats.status().message().c_str());
      ++failures;
      continue;
    }
    total += stats->verified;
    std::printf("cycle %d: killed after %d ms, %zu acknowledged rows, all present\n", cycle,
                kill_after_ms, stats->acknowledged);
  }
  std::printf("%d cycles, %zu acknowledged rows checked, %d failures\n", cycles, total, failures);
  std::filesystem::remove_all(dir);
  return failures == 0 ? 0 : 1;
}
