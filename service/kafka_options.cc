#include "service/kafka_options.h"

#include <spdlog/spdlog.h>

namespace quiver {

Result<std::vector<std::pair<std::string, std::string>>> ParseKafkaConfig(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!text.empty()) {
    const size_t comma = text.find(',');
    const std::string_view item = text.substr(0, comma);
    const size_t eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return Status::InvalidArgument("kafka_config: expected key=value, got '" + std::string(item) +
                                     "'");
    }
    out.emplace_back(std::string(item.substr(0, eq)), std::string(item.substr(eq + 1)));
    text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
  }
  return out;
}

bool IsKafkaSecret(std::string_view key) {
  for (std::string_view secret : {"password", "secret", "sasl.jaas.config",
                                  "sasl.oauthbearer.config", "ssl.key.pem", "ssl_key"}) {
    if (key.find(secret) != std::string_view::npos) return true;
  }
  return false;
}

std::string FormatKafkaConfig(const std::vector<std::pair<std::string, std::string>>& config) {
  std::string text;
  for (const auto& [key, value] : config) {
    if (!text.empty()) text += ',';
    text += key + "=" + (IsKafkaSecret(key) ? std::string("(hidden)") : value);
  }
  return text;
}

void LogKafka(int level, const char* facility, const char* message) {
  const auto l = level <= 3   ? spdlog::level::err
                 : level == 4 ? spdlog::level::warn
                 : level <= 6 ? spdlog::level::info
                              : spdlog::level::debug;
  spdlog::log(l, "kafka {}: {}", facility, message);
}

}  // namespace quiver
