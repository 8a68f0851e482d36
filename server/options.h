// ServerOptions: every setting of quiverd, parsed once from the YAML config
// file and the command line (flags override the file) and passed down.
// docs/configuration.md documents each one.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "quiver/status.h"
#include "server/ingest/kafka_options.h"
#include "storage/history/history_store.h"

namespace quiver {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  uint16_t port = 7070;  // 0: any free port (see port_file)
  int resp_port = 6379;  // 0: any free port; -1: no RESP port
  int http_port = 8080;  // 0: any free port; -1: no HTTP port
  std::string http_bind = "127.0.0.1";
  std::string requirepass;  // empty: RESP connections need no AUTH
  int databases = 16;       // RESP databases
  int threads = 0;          // io threads; 0: one per core
  std::string data_dir = "./data";
  bool keep_history = true;  // false: --durability memory
  Durability durability = Durability::kSync;
  int64_t history_cache = 256 << 20;  // bytes
  CachePolicy history_cache_policy = CachePolicy::kLru;
  std::string features;            // definitions file applied at start
  int64_t max_memory = 0;          // bytes of rows; 0: no limit
  uint32_t max_frame = 64u << 20;  // bytes
  uint32_t shards = 64;
  int64_t sweep_interval_ms = 1000;
  std::string log_level = "info";
  std::string port_file;   // if set, the bound native, RESP and HTTP ports are written here
  bool huge_pages = true;  // back rows with transparent huge pages (re-exec, see main.cc)
  bool statistics = true;  // FeatureStats of every written value
  int64_t stats_window_ms = 3'600'000;  // their recent window
  KafkaOptions kafka;                   // kafka.brokers empty: no Kafka ingestion
};

// Parses argv (and the file named by --config). Returns nullopt after
// printing --help or --version (exit 0); an error names the bad flag or key.
Result<std::optional<ServerOptions>> ParseServerOptions(int argc, const char* const* argv);

// "1048576", "512MB", "4GiB", "2G" -> bytes (K/M/G/T are powers of 1024).
Result<int64_t> ParseByteSize(const std::string& text);

}  // namespace quiver
