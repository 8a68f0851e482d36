// A progress bar on stderr, drawn only when stderr is a terminal.
#pragma once

#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>

namespace quiver::cli {

class Progress {
 public:
  // total_bytes: the input's size; unit: what is counted ("rows", "events").
  Progress(bool enabled, uint64_t total_bytes, const char* unit)
      : enabled_(enabled && isatty(STDERR_FILENO)),
        total_(std::max<uint64_t>(1, total_bytes)),
        unit_(unit) {}
  void Update(uint64_t bytes, uint64_t count, double seconds) {
    if (!enabled_) return;
    const double share = std::min(1.0, static_cast<double>(bytes) / static_cast<double>(total_));
    const int filled = static_cast<int>(share * 30);
    std::fprintf(stderr, "\r[%s%s] %3d%%  %llu %s  %.0f %s/s ", std::string(filled, '=').c_str(),
                 std::string(30 - filled, ' ').c_str(), static_cast<int>(share * 100),
                 static_cast<unsigned long long>(count), unit_, count / std::max(seconds, 1e-9),
                 unit_);
  }
  void Done() {
    if (enabled_) std::fprintf(stderr, "\n");
  }

 private:
  bool enabled_;
  uint64_t total_;
  const char* unit_;
};

}  // namespace quiver::cli
