#include "server/options.h"

#include <charconv>
#include <iostream>
#include <thread>

#include <yaml-cpp/yaml.h>
#include <CLI/CLI.hpp>

#include "server/ingest/kafka_ingest.h"
#include "storage/registry/definitions.h"
#include "util/version.h"

namespace quiver {

namespace {

// String forms of the options, so that the file and the flags share one
// parser: file values are applied first, then every flag given overrides.
struct RawOptions {
  std::string bind, port, threads, data_dir, features, max_memory, max_frame, shards,
      sweep_interval_ms, log_level, port_file, huge_pages, durability, history_cache,
      history_cache_policy, kafka_brokers, kafka_group, kafka_config, kafka_max_batch_events,
      kafka_max_batch_ms, resp_port, requirepass, databases, http_port, http_bind, statistics,
      stats_window;
};

struct Key {
  const char* name;  // config key; the flag is --name with '_' -> '-'
  std::string RawOptions::*field;
  const char* help;
};

const Key kKeys[] = {
    {"bind", &RawOptions::bind, "Address to listen on (default 127.0.0.1)"},
    {"port", &RawOptions::port, "Native protocol port (default 7070; 0 = any free port)"},
    {"resp_port", &RawOptions::resp_port,
     "Redis protocol (RESP) port (default 6379; 0 = any free port; off = none)"},
    {"http_port", &RawOptions::http_port,
     "HTTP port: /health, /metrics, JSON reads (default 8080; 0 = any free port; off = none)"},
    {"http_bind", &RawOptions::http_bind,
     "Address the HTTP port listens on (default 127.0.0.1: loopback only)"},
    {"requirepass", &RawOptions::requirepass,
     "Password every RESP connection must AUTH with, as Redis's requirepass (default: none)"},
    {"databases", &RawOptions::databases,
     "Number of RESP databases (SELECT 0..N-1), as Redis's databases (default 16)"},
    {"threads", &RawOptions::threads, "I/O threads, one io_context each (default: one per core)"},
    {"data_dir", &RawOptions::data_dir, "Data directory (default ./data)"},
    {"durability", &RawOptions::durability,
     "When a write is acknowledged: sync (WAL fsynced), async (WAL written), none (no WAL) or "
     "memory (no history at all) (default sync)"},
    {"history_cache", &RawOptions::history_cache,
     "RocksDB block cache for history reads, e.g. 1GB (default 256MiB)"},
    {"history_cache_policy", &RawOptions::history_cache_policy,
     "Eviction of that cache: lru, or clock (lock-free, cheaper per hit when the history read "
     "fits in it) (default lru)"},
    {"features", &RawOptions::features, "Feature definitions (YAML) applied at start"},
    {"max_memory", &RawOptions::max_memory,
     "Memory limit for online rows, e.g. 4GB; writes fail beyond it, reads go on (default: none)"},
    {"max_frame", &RawOptions::max_frame,
     "Largest protocol frame accepted, e.g. 64MB (default 64MiB)"},
    {"shards", &RawOptions::shards, "Online table shards (default 64)"},
    {"sweep_interval_ms", &RawOptions::sweep_interval_ms,
     "How often expired rows are swept from memory, ms (default 1000)"},
    {"log_level", &RawOptions::log_level, "trace, debug, info, warn, error or off (default info)"},
    {"port_file", &RawOptions::port_file,
     "Once listening, write the bound native, RESP and HTTP ports to this file (0: none)"},
    {"huge_pages", &RawOptions::huge_pages,
     "Back rows with transparent huge pages: true or false (default true)"},
    {"statistics", &RawOptions::statistics,
     "Keep statistics of every written value per feature field, for /v1/views/{view}/stats, "
     "drift and quality checks: true or false (default true)"},
    {"stats_window", &RawOptions::stats_window,
     "The recent window of feature statistics, a duration from 1s to 7d (default 1h)"},
    {"kafka_brokers", &RawOptions::kafka_brokers,
     "Kafka bootstrap servers, host:port,...; consume the sources' topics (default: no Kafka)"},
    {"kafka_group", &RawOptions::kafka_group, "Kafka consumer group id (default quiver)"},
    {"kafka_config", &RawOptions::kafka_config,
     "Extra librdkafka consumer settings, key=value,... e.g. session.timeout.ms=6000"},
    {"kafka_max_batch_events", &RawOptions::kafka_max_batch_events,
     "Most events Kafka ingestion applies in one batch (default 20000)"},
    {"kafka_max_batch_ms", &RawOptions::kafka_max_batch_ms,
     "Longest a batch of Kafka ingestion waits for more events while they keep arriving, ms "
     "(default 20; a batch is applied at once when nothing more is fetched)"},
};

std::string FlagName(const char* key) {
  std::string flag = std::string("--") + key;
  for (char& c : flag)
    c = c == '_' ? '-' : c;
  return flag;
}

template <typename Int>
Status ParseInt(const std::string& key, const std::string& text, Int min, Int max, Int* out) {
  Int v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < min || v > max) {
    return Status::InvalidArgument(key + ": expected an integer from " + std::to_string(min) +
                                   " to " + std::to_string(max) + ", got '" + text + "'");
  }
  *out = v;
  return Status::Ok();
}

Status LoadConfigFile(const std::string& path, RawOptions* raw) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const YAML::Exception& e) {
    return Status::InvalidArgument("config file " + path + ": " + e.what());
  }
  if (root.IsNull()) return Status::Ok();
  if (!root.IsMap()) return Status::InvalidArgument("config file " + path + ": expected a mapping");
  for (const auto& kv : root) {
    const std::string name = kv.first.as<std::string>();
    const Key* key = nullptr;
    for (const Key& k : kKeys)
      key = name == k.name ? &k : key;
    if (key == nullptr) {
      return Status::InvalidArgument("config file " + path + ": unknown key '" + name + "'");
    }
    if (!kv.second.IsScalar()) {
      return Status::InvalidArgument("config file " + path + ": '" + name + "' must be a scalar");
    }
    raw->*(key->field) = kv.second.Scalar();
  }
  return Status::Ok();
}

// true or false; empty leaves *out as it is.
Status ParseBool(const std::string& key, const std::string& text, bool* out) {
  if (text.empty()) return Status::Ok();
  if (text != "true" && text != "false") {
    return Status::InvalidArgument(key + ": expected true or false, got '" + text + "'");
  }
  *out = text == "true";
  return Status::Ok();
}

// An optional port: a number, or off (-1).
Status ParseOptionalPort(const std::string& key, const std::string& text, int* port) {
  if (text == "off") {
    *port = -1;
    return Status::Ok();
  }
  if (text.empty()) return Status::Ok();
  return ParseInt<int>(key, text, 0, 65535, port);
}

Status ConvertResp(const RawOptions& raw, ServerOptions* o) {
  QUIVER_RETURN_IF_ERROR(ParseOptionalPort("resp_port", raw.resp_port, &o->resp_port));
  QUIVER_RETURN_IF_ERROR(ParseOptionalPort("http_port", raw.http_port, &o->http_port));
  if (!raw.http_bind.empty()) o->http_bind = raw.http_bind;
  if (!raw.requirepass.empty()) o->requirepass = raw.requirepass;
  if (!raw.databases.empty()) {
    QUIVER_RETURN_IF_ERROR(ParseInt<int>("databases", raw.databases, 1, 65536, &o->databases));
  }
  return Status::Ok();
}

Status ConvertKafka(const RawOptions& raw, ServerOptions* o) {
  if (!raw.kafka_brokers.empty()) o->kafka.brokers = raw.kafka_brokers;
  if (!raw.kafka_group.empty()) o->kafka.group = raw.kafka_group;
  if (!raw.kafka_config.empty()) {
    QUIVER_ASSIGN_OR_RETURN(o->kafka.config, ParseKafkaConfig(raw.kafka_config));
  }
  if (!raw.kafka_max_batch_events.empty()) {
    QUIVER_RETURN_IF_ERROR(ParseInt<size_t>("kafka_max_batch_events", raw.kafka_max_batch_events, 1,
                                            1'000'000, &o->kafka.max_batch_events));
  }
  if (!raw.kafka_max_batch_ms.empty()) {
    QUIVER_RETURN_IF_ERROR(ParseInt<int>("kafka_max_batch_ms", raw.kafka_max_batch_ms, 1, 60'000,
                                         &o->kafka.max_batch_ms));
  }
  return Status::Ok();
}

Status Convert(const RawOptions& raw, ServerOptions* o) {
  QUIVER_RETURN_IF_ERROR(ConvertResp(raw, o));
  if (!raw.bind.empty()) o->bind = raw.bind;
  if (!raw.port.empty())
    QUIVER_RETURN_IF_ERROR(ParseInt<uint16_t>("port", raw.port, 0, 65535, &o->port));
  if (!raw.threads.empty())
    QUIVER_RETURN_IF_ERROR(ParseInt("threads", raw.threads, 0, 1024, &o->threads));
  if (!raw.data_dir.empty()) o->data_dir = raw.data_dir;
  if (!raw.features.empty()) o->features = raw.features;
  if (!raw.max_memory.empty()) {
    Result<int64_t> bytes = ParseByteSize(raw.max_memory);
    if (!bytes.ok()) return Status::InvalidArgument("max_memory: " + bytes.status().message());
    o->max_memory = *bytes;
  }
  if (!raw.max_frame.empty()) {
    Result<int64_t> bytes = ParseByteSize(raw.max_frame);
    if (!bytes.ok() || *bytes < 1024 || *bytes > (int64_t{1} << 31)) {
      return Status::InvalidArgument("max_frame: expected a size from 1KB to 2GB, got '" +
                                     raw.max_frame + "'");
    }
    o->max_frame = static_cast<uint32_t>(*bytes);
  }
  if (!raw.shards.empty())
    QUIVER_RETURN_IF_ERROR(ParseInt<uint32_t>("shards", raw.shards, 1, 65536, &o->shards));
  if (!raw.sweep_interval_ms.empty()) {
    QUIVER_RETURN_IF_ERROR(ParseInt<int64_t>("sweep_interval_ms", raw.sweep_interval_ms, 10,
                                             86'400'000, &o->sweep_interval_ms));
  }
  if (!raw.durability.empty()) {
    if (raw.durability == "memory") {
      o->keep_history = false;
    } else {
      Result<Durability> d = ParseDurability(raw.durability);
      if (!d.ok())
        return Status::InvalidArgument("durability: " + d.status().message() + " or memory");
      o->durability = *d;
    }
  }
  if (!raw.history_cache.empty()) {
    Result<int64_t> bytes = ParseByteSize(raw.history_cache);
    if (!bytes.ok()) return Status::InvalidArgument("history_cache: " + bytes.status().message());
    o->history_cache = *bytes;
  }
  if (!raw.history_cache_policy.empty()) {
    Result<CachePolicy> policy = ParseCachePolicy(raw.history_cache_policy);
    if (!policy.ok())
      return Status::InvalidArgument("history_cache_policy: " + policy.status().message());
    o->history_cache_policy = *policy;
  }
  if (!raw.log_level.empty()) o->log_level = raw.log_level;
  if (!raw.port_file.empty()) o->port_file = raw.port_file;
  QUIVER_RETURN_IF_ERROR(ParseBool("huge_pages", raw.huge_pages, &o->huge_pages));
  QUIVER_RETURN_IF_ERROR(ParseBool("statistics", raw.statistics, &o->statistics));
  if (!raw.stats_window.empty()) {
    Result<int64_t> ms = ParseDuration(raw.stats_window);
    if (!ms.ok() || *ms < 1000 || *ms > 7 * 86'400'000LL) {
      return Status::InvalidArgument("stats_window: expected a duration from 1s to 7d, got '" +
                                     raw.stats_window + "'");
    }
    o->stats_window_ms = *ms;
  }
  QUIVER_RETURN_IF_ERROR(ConvertKafka(raw, o));
  if (o->threads == 0)
    o->threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  return Status::Ok();
}

}  // namespace

Result<int64_t> ParseByteSize(const std::string& text) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  std::string unit(end, text.data() + text.size());
  if (ec != std::errc() || end == text.data() || n < 0) {
    return Status::InvalidArgument("bad size '" + text + "' (expected e.g. 1048576, 512MB, 4GB)");
  }
  static const std::pair<const char*, int> kUnits[] = {
      {"", 0},     {"B", 0},  {"K", 10},  {"KB", 10},  {"KiB", 10}, {"M", 20},  {"MB", 20},
      {"MiB", 20}, {"G", 30}, {"GB", 30}, {"GiB", 30}, {"T", 40},   {"TB", 40}, {"TiB", 40}};
  for (const auto& [name, shift] : kUnits) {
    if (unit != name) continue;
    if (n > (INT64_MAX >> shift)) return Status::InvalidArgument("size too large: " + text);
    return n << shift;
  }
  return Status::InvalidArgument("bad size unit in '" + text + "' (use B, KB, MB, GB or TB)");
}

Result<std::optional<ServerOptions>> ParseServerOptions(int argc, const char* const* argv) {
  CLI::App app("quiverd: the quiver feature server. Flags override the --config file.", "quiverd");
  app.set_version_flag("--version", std::string(kQuiverVersion));
  std::string config;
  app.add_option("--config", config, "YAML config file; its keys are the flag names with '_'");
  RawOptions flags;
  for (const Key& k : kKeys)
    app.add_option(FlagName(k.name), flags.*(k.field), k.help);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    std::cout << app.help();
    return std::optional<ServerOptions>();
  } catch (const CLI::CallForVersion& e) {
    std::cout << kQuiverVersion << "\n";
    return std::optional<ServerOptions>();
  } catch (const CLI::ParseError& e) {
    return Status::InvalidArgument(std::string(e.what()) + " (see quiverd --help)");
  }
  RawOptions raw;
  if (!config.empty()) QUIVER_RETURN_IF_ERROR(LoadConfigFile(config, &raw));
  for (const Key& k : kKeys) {
    if (app.count(FlagName(k.name)) > 0) raw.*(k.field) = flags.*(k.field);
  }
  ServerOptions options;
  QUIVER_RETURN_IF_ERROR(Convert(raw, &options));
  return std::optional<ServerOptions>(std::move(options));
}

}  // namespace quiver
