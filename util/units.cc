#include "util/units.h"

#include <charconv>
#include <span>
#include <utility>

#include "util/ascii.h"

namespace quiver {

namespace {

struct Unit {
  std::string_view name;
  int64_t scale;
};

constexpr Unit kSizeUnits[] = {{"", 1},           {"B", 1},           {"K", 1LL << 10},
                               {"KB", 1LL << 10}, {"KiB", 1LL << 10}, {"M", 1LL << 20},
                               {"MB", 1LL << 20}, {"MiB", 1LL << 20}, {"G", 1LL << 30},
                               {"GB", 1LL << 30}, {"GiB", 1LL << 30}, {"T", 1LL << 40},
                               {"TB", 1LL << 40}, {"TiB", 1LL << 40}};

constexpr Unit kDurationUnits[] = {{"ms", 1},        {"s", 1000},       {"m", 60'000},
                                   {"h", 3'600'000}, {"d", 86'400'000}, {"w", 604'800'000}};

struct Words {
  std::string_view what, examples, units;  // "size", "512MB, 4GB", "B, KB, MB"
};

// A non-negative integer followed by one of `units`, times its scale.
Result<int64_t> ParseScaled(std::string_view text, std::span<const Unit> units, bool nocase,
                            const Words& words) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc() || end == text.data() || n < 0) {
    return Status::InvalidArgument("bad " + std::string(words.what) + " '" + std::string(text) +
                                   "' (expected e.g. " + std::string(words.examples) + ")");
  }
  const std::string_view unit(end, text.data() + text.size() - end);
  for (const Unit& u : units) {
    if (nocase ? !EqualsNoCase(unit, u.name) : unit != u.name) continue;
    if (n > INT64_MAX / u.scale) {
      return Status::InvalidArgument(std::string(words.what) + " too large: " + std::string(text));
    }
    return n * u.scale;
  }
  return Status::InvalidArgument("bad " + std::string(words.what) + " unit in '" +
                                 std::string(text) + "' (use " + std::string(words.units) + ")");
}

// n units of the largest of `units` (given in increasing order) that
// divides value exactly, or value in the smallest.
std::string Format(int64_t value, std::initializer_list<Unit> units) {
  const Unit* best = units.begin();
  for (const Unit& u : units) {
    if (value != 0 && value % u.scale == 0) best = &u;
  }
  return std::to_string(value / best->scale) + std::string(best->name);
}

}  // namespace

Result<int64_t> ParseByteSize(std::string_view text) {
  return ParseScaled(text, kSizeUnits, /*nocase=*/true,
                     {"size", "1048576, 512MB, 4GB", "B, KB, MB, GB or TB"});
}

std::string FormatByteSize(int64_t bytes) {
  if (bytes == 0 || bytes % 1024 != 0) return std::to_string(bytes);
  return Format(
      bytes,
      {{"B", 1}, {"KB", 1LL << 10}, {"MB", 1LL << 20}, {"GB", 1LL << 30}, {"TB", 1LL << 40}});
}

Result<int64_t> ParseDuration(std::string_view text) {
  if (text == "0") return int64_t{0};
  return ParseScaled(text, kDurationUnits, /*nocase=*/false,
                     {"duration", "500ms, 30s, 5m, 2h, 7d, 1w", "ms, s, m, h, d or w"});
}

std::string FormatDuration(int64_t ms) {
  if (ms == 0) return "0";
  return Format(ms, {{"ms", 1}, {"s", 1000}, {"m", 60'000}, {"h", 3'600'000}, {"d", 86'400'000}});
}

}  // namespace quiver
