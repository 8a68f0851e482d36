#include "service/client_limits.h"

#include <charconv>
#include <vector>

#include "util/ascii.h"
#include "util/units.h"

namespace quiver {

namespace {

std::vector<std::string_view> Words(std::string_view text) {
  std::vector<std::string_view> words;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ')
      ++i;
    const size_t start = i;
    while (i < text.size() && text[i] != ' ')
      ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

OutputLimit* ClassOf(std::string_view name, OutputBufferLimits* limits) {
  if (EqualsNoCase(name, "normal")) return &limits->normal;
  if (EqualsNoCase(name, "replica") || EqualsNoCase(name, "slave")) return &limits->replica;
  if (EqualsNoCase(name, "pubsub")) return &limits->pubsub;
  return nullptr;
}

std::string Line(std::string_view name, const OutputLimit& l) {
  return std::string(name) + " " + std::to_string(l.hard) + " " + std::to_string(l.soft) + " " +
         std::to_string(l.soft_seconds);
}

}  // namespace

Status ParseOutputBufferLimits(std::string_view text, OutputBufferLimits* limits) {
  const std::vector<std::string_view> words = Words(text);
  if (words.empty() || words.size() % 4 != 0) {
    return Status::InvalidArgument(
        "wrong number of arguments in buffer limit configuration: expected <class> <hard> "
        "<soft> <soft seconds>, repeated");
  }
  OutputBufferLimits next = *limits;
  for (size_t i = 0; i < words.size(); i += 4) {
    OutputLimit* l = ClassOf(words[i], &next);
    if (l == nullptr) {
      return Status::InvalidArgument("invalid client class '" + std::string(words[i]) +
                                     "' (expected normal, replica or pubsub)");
    }
    Result<int64_t> hard = ParseByteSize(words[i + 1]);
    Result<int64_t> soft = ParseByteSize(words[i + 2]);
    int64_t seconds = -1;
    const std::string_view s = words[i + 3];
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), seconds);
    if (!hard.ok() || !soft.ok() || ec != std::errc() || end != s.data() + s.size() ||
        seconds < 0) {
      return Status::InvalidArgument("invalid memory limit or seconds in '" +
                                     std::string(words[i]) + " " + std::string(words[i + 1]) + " " +
                                     std::string(words[i + 2]) + " " + std::string(words[i + 3]) +
                                     "'");
    }
    *l = OutputLimit{*hard, *soft, seconds};
  }
  *limits = next;
  return Status::Ok();
}

std::string FormatOutputBufferLimits(const OutputBufferLimits& limits) {
  return Line("normal", limits.normal) + " " + Line("slave", limits.replica) + " " +
         Line("pubsub", limits.pubsub);
}

}  // namespace quiver
