#include "service/notify_flags.h"

#include <array>
#include <utility>

namespace quiver {

namespace {

// The classes in the order Redis writes them.
constexpr std::array<std::pair<char, uint32_t>, 11> kClasses = {{
    {'g', kNotifyGeneric},
    {'$', kNotifyString},
    {'l', kNotifyList},
    {'s', kNotifySet},
    {'h', kNotifyHash},
    {'z', kNotifyZSet},
    {'x', kNotifyExpired},
    {'e', kNotifyEvicted},
    {'t', kNotifyStream},
    {'d', kNotifyModule},
    {'n', kNotifyNew},
}};

}  // namespace

Result<uint32_t> ParseNotifyFlags(std::string_view text) {
  uint32_t flags = 0;
  for (char c : text) {
    uint32_t f = 0;
    switch (c) {
      case 'A':
        f = kNotifyAll;
        break;
      case 'K':
        f = kNotifyKeyspace;
        break;
      case 'E':
        f = kNotifyKeyevent;
        break;
      case 'm':
        f = kNotifyKeyMiss;
        break;
      default:
        for (const auto& [letter, flag] : kClasses) {
          if (letter == c) f = flag;
        }
    }
    if (f == 0)
      return Status::InvalidArgument("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    flags |= f;
  }
  return flags;
}

std::string FormatNotifyFlags(uint32_t flags) {
  std::string text;
  if ((flags & kNotifyAll) == kNotifyAll) {
    text += 'A';
  } else {
    for (const auto& [letter, flag] : kClasses) {
      if ((flags & flag) != 0) text += letter;
    }
  }
  if ((flags & kNotifyKeyspace) != 0) text += 'K';
  if ((flags & kNotifyKeyevent) != 0) text += 'E';
  if ((flags & kNotifyKeyMiss) != 0) text += 'm';
  return text;
}

}  // namespace quiver
