// quiverd's settings, each declared once (RocksDB's OptionTypeInfo pattern):
// its name, what it does, how its text is parsed into the ServerOptions
// member it fills and formatted back from it, its name in Redis's CONFIG if
// it has one, and whether CONFIG SET may change it while quiverd runs. That
// one table drives the command-line flags and the YAML config file
// (server/options.cc), quiverd --help (defaults formatted from a default
// ServerOptions, never written twice), CONFIG GET/SET (RuntimeConfig) and
// the test that docs/configuration.md documents every setting.
//
// Pure data and functions; any thread.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "service/client_limits.h"
#include "service/cluster_options.h"
#include "service/kafka_options.h"
#include "storage/history/history_store.h"

namespace quiver {

// Every setting of quiverd, with its default.
struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 7070;       // 0: any free port (see port_file); -1: no plain native port
  int resp_port = 6379;  // 0: any free port; -1: no RESP port
  int http_port = 8080;  // 0: any free port; -1: no HTTP port
  std::string http_bind = "127.0.0.1";
  std::string requirepass;       // empty: RESP connections need no AUTH
  std::string requirepass_file;  // where requirepass was read from, if it was
  // The users' file (ACL SAVE and LOAD, and read at start); empty: the
  // users are kept in the data directory.
  std::string aclfile;
  int acllog_max_len = 128;  // ACL LOG keeps this many entries
  // TLS (docs/security.md): the ports (-1: none; 0: any free port) and
  // Redis's tls-* settings.
  int tls_port = -1;         // RESP over TLS (Redis's tls-port)
  int tls_native_port = -1;  // the native protocol over TLS
  int tls_http_port = -1;    // HTTP over TLS (HTTPS), on http_bind
  std::string tls_cert_file, tls_key_file, tls_key_file_pass, tls_ca_cert_file, tls_ca_cert_dir;
  std::string tls_key_file_pass_file;    // where tls_key_file_pass was read from, if it was
  std::string tls_auth_clients = "yes";  // yes, no or optional
  std::string tls_protocols = "TLSv1.2 TLSv1.3";
  std::string tls_ciphers, tls_ciphersuites;  // empty: OpenSSL's defaults
  bool tls_prefer_server_ciphers = false;
  // "CN": a verified client certificate's common name is the RESP user the
  // connection runs as; "off": it is not.
  std::string tls_auth_clients_user = "off";
  // With no password and a non-loopback bind, serve loopback clients only.
  bool protected_mode = true;
  int databases = 16;            // RESP databases
  int threads = 0;               // io threads; 0: DefaultIoThreads() (ResolveAutomatic)
  int long_request_threads = 1;  // the pool of requests that may run long
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
  int64_t stats_window_ms = 3'600'000;        // their recent window
  bool dashboard = true;                      // the web dashboard at the HTTP port's /
  int64_t series_interval_ms = 5'000;         // time series (/v1/series): between samples
  int64_t series_span_ms = 3'600'000;         // how far back they go
  int64_t series_drift_interval_ms = 60'000;  // between drift samples
  int64_t max_future_skew_ms = 5 * 60'000;    // event times further ahead are refused
  KafkaOptions kafka;                         // kafka.brokers empty: no Kafka ingestion
  ClusterOptions cluster;                     // cluster.topic empty: a single server
  // Clients, as Redis's settings of the same names (service/client_limits.h).
  int64_t maxclients = 10000;     // connections across every port
  int64_t timeout_s = 0;          // idle seconds before a client is closed; 0: never
  int64_t tcp_keepalive_s = 300;  // TCP keepalive probes after this idle time; 0: none
  OutputBufferLimits output_limits;
  uint32_t notify_keyspace_events = 0;  // NotifyClass flags (service/notify_flags.h)
};

struct Setting {
  // What kind of value: how --help shows the default.
  enum class Type : uint8_t { kString, kInteger, kBytes, kBool, kDuration, kChoice };
  std::string_view name;  // the config key; the flag is --name with '-' for '_'
  Type type = Type::kString;
  std::string_view help;        // what it does; --help adds the default
  std::string_view redis_name;  // its name in CONFIG GET/SET besides `name`; "" if none
  bool runtime = false;         // CONFIG SET may change it while quiverd runs
  int64_t min = 0, max = 0;     // the range of a number, size or duration
  // Parses text into the member this setting fills. The error starts with
  // the setting's name ("port: expected an integer from 0 to 65535, got …").
  Status (*parse)(const Setting& self, std::string_view text, ServerOptions* o) = nullptr;
  // The member's value as text that parse accepts.
  std::string (*format)(const ServerOptions& o) = nullptr;

  Status Parse(std::string_view text, ServerOptions* o) const { return parse(*this, text, o); }
  std::string Format(const ServerOptions& o) const { return format(o); }
  // The value of a default ServerOptions, as text parse accepts.
  std::string Default() const { return format(ServerOptions{}); }
  // The same as people read it: "256MB", "none".
  std::string DefaultForPeople() const;
  // "--max-memory".
  std::string Flag() const;
};

// Every setting, in the order --help lists them.
std::span<const Setting> Settings();
// The setting with this Redis name or else this config key (any case);
// nullptr if none. Redis names come first: "port" is the RESP port, as Redis
// clients mean it, not the native port whose config key is "port".
const Setting* FindSetting(std::string_view name);

// Settings whose default is worked out at start: threads 0 -> DefaultIoThreads().
void ResolveAutomatic(ServerOptions* o);
// The I/O threads for `cores` usable cores: one per core but one, which is
// left to what else runs beside them (RocksDB's flushes and compactions,
// the Kafka consumer, clients on the same machine), and at least one. On 2
// cores, 2 I/O threads beside a local client tripled the p99 of a read
// (bench/README.md#io-threads).
int DefaultIoThreads(int cores);
// The cores this process may run on (its affinity mask, so taskset counts),
// at least 1.
int UsableCores();

}  // namespace quiver
