#include "service/settings.h"

#include <sched.h>

#include <algorithm>
#include <charconv>
#include <fstream>
#include <initializer_list>
#include <thread>

#include "service/notify_flags.h"
#include "util/ascii.h"
#include "util/units.h"

namespace quiver {

namespace {

using O = ServerOptions;
using Type = Setting::Type;

// The member a path of member pointers names: Field<&O::kafka,
// &KafkaOptions::brokers>(o) is o.kafka.brokers.
template <auto First, auto... Rest>
constexpr auto& Field(auto& o) {
  if constexpr (sizeof...(Rest) == 0) {
    return o.*First;
  } else {
    return Field<Rest...>(o.*First);
  }
}

Status Bad(const Setting& s, std::string_view expected, std::string_view text) {
  return Status::InvalidArgument(std::string(s.name) + ": expected " + std::string(expected) +
                                 ", got '" + std::string(text) + "'");
}

Status Named(const Setting& s, const Status& status) {
  return Status::InvalidArgument(std::string(s.name) + ": " + status.message());
}

Result<int64_t> ParseInteger(const Setting& s, std::string_view text) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < s.min ||
      v > s.max) {
    return Bad(s, "an integer from " + std::to_string(s.min) + " to " + std::to_string(s.max),
               text);
  }
  return v;
}

// A setting's declaration: its name, type and codec; the rest is filled in
// by With().
constexpr Setting Declare(std::string_view name, Type type, std::string_view help,
                          decltype(Setting::parse) parse, decltype(Setting::format) format,
                          int64_t min = 0, int64_t max = 0) {
  Setting s;
  s.name = name;
  s.type = type;
  s.help = help;
  s.parse = parse;
  s.format = format;
  s.min = min;
  s.max = max;
  return s;
}

// Stores a number in the member, whatever its integer type.
template <auto... F>
Status Store(O* o, int64_t value) {
  using T = std::remove_reference_t<decltype(Field<F...>(*o))>;
  Field<F...>(*o) = static_cast<T>(value);
  return Status::Ok();
}

template <auto... F>
constexpr Setting String(std::string_view name, std::string_view help) {
  return Declare(
      name, Type::kString, help,
      [](const Setting&, std::string_view text, O* o) {
        Field<F...>(*o) = std::string(text);
        return Status::Ok();
      },
      [](const O& o) { return std::string(Field<F...>(o)); });
}

template <auto... F>
constexpr Setting Integer(std::string_view name, std::string_view help, int64_t min, int64_t max) {
  return Declare(
      name, Type::kInteger, help,
      [](const Setting& self, std::string_view text, O* o) {
        QUIVER_ASSIGN_OR_RETURN(int64_t v, ParseInteger(self, text));
        return Store<F...>(o, v);
      },
      [](const O& o) { return std::to_string(Field<F...>(o)); }, min, max);
}

// A size in bytes (util/units.h); with max > 0, between min and max.
template <auto... F>
constexpr Setting Bytes(std::string_view name, std::string_view help, int64_t min = 0,
                        int64_t max = 0) {
  return Declare(
      name, Type::kBytes, help,
      [](const Setting& self, std::string_view text, O* o) {
        Result<int64_t> bytes = ParseByteSize(text);
        if (self.max > 0 && (!bytes.ok() || *bytes < self.min || *bytes > self.max)) {
          return Bad(self,
                     "a size from " + FormatByteSize(self.min) + " to " + FormatByteSize(self.max),
                     text);
        }
        if (!bytes.ok()) return Named(self, bytes.status());
        return Store<F...>(o, *bytes);
      },
      [](const O& o) { return std::to_string(Field<F...>(o)); }, min, max);
}

template <auto... F>
constexpr Setting Bool(std::string_view name, std::string_view help) {
  return Declare(
      name, Type::kBool, help,
      [](const Setting& self, std::string_view text, O* o) {
        if (text != "true" && text != "false") return Bad(self, "true or false", text);
        Field<F...>(*o) = text == "true";
        return Status::Ok();
      },
      [](const O& o) { return std::string(Field<F...>(o) ? "true" : "false"); });
}

// A switch as Redis writes it: yes or no (true and false also read).
template <auto... F>
constexpr Setting YesNo(std::string_view name, std::string_view help) {
  return Declare(
      name, Type::kBool, help,
      [](const Setting& self, std::string_view text, O* o) {
        const bool yes = EqualsNoCase(text, "yes") || EqualsNoCase(text, "true");
        if (!yes && !EqualsNoCase(text, "no") && !EqualsNoCase(text, "false")) {
          return Bad(self, "yes or no", text);
        }
        Field<F...>(*o) = yes;
        return Status::Ok();
      },
      [](const O& o) { return std::string(Field<F...>(o) ? "yes" : "no"); });
}

// A duration in milliseconds (util/units.h), between min and max.
template <auto... F>
constexpr Setting Duration(std::string_view name, std::string_view help, int64_t min, int64_t max) {
  return Declare(
      name, Type::kDuration, help,
      [](const Setting& self, std::string_view text, O* o) {
        Result<int64_t> ms = ParseDuration(text);
        if (!ms.ok() || *ms < self.min || *ms > self.max) {
          return Bad(
              self,
              "a duration from " + FormatDuration(self.min) + " to " + FormatDuration(self.max),
              text);
        }
        Field<F...>(*o) = *ms;
        return Status::Ok();
      },
      [](const O& o) { return FormatDuration(Field<F...>(o)); }, min, max);
}

// A port that may be turned off: a number, or "off" (-1).
template <auto... F>
constexpr Setting OptionalPort(std::string_view name, std::string_view help) {
  return Declare(
      name, Type::kInteger, help,
      [](const Setting& self, std::string_view text, O* o) {
        if (text == "off") {
          Field<F...>(*o) = -1;
          return Status::Ok();
        }
        QUIVER_ASSIGN_OR_RETURN(Field<F...>(*o), ParseInteger(self, text));
        return Status::Ok();
      },
      [](const O& o) {
        const int port = Field<F...>(o);
        return port < 0 ? std::string("off") : std::to_string(port);
      },
      0, 65535);
}

Status ParseDurabilityMode(const Setting& self, std::string_view text, O* o) {
  if (text == "memory") {
    o->keep_history = false;
    return Status::Ok();
  }
  Result<Durability> d = ParseDurability(text);
  if (!d.ok()) return Status::InvalidArgument("durability: " + d.status().message() + " or memory");
  o->keep_history = true;
  o->durability = *d;
  return Status::Ok();
}

std::string FormatDurabilityMode(const O& o) {
  return o.keep_history ? std::string(DurabilityName(o.durability)) : "memory";
}

Status ParsePolicy(const Setting& self, std::string_view text, O* o) {
  Result<CachePolicy> policy = ParseCachePolicy(text);
  if (!policy.ok()) return Named(self, policy.status());
  o->history_cache_policy = *policy;
  return Status::Ok();
}

// Reads a secret from the first line of a file, so that it is not on the
// command line for `ps` to show, into *secret (which must not be given
// too, as `secret_name`); *file records where it came from.
Status ReadSecretFile(const Setting& self, std::string_view text, std::string_view secret_name,
                      std::string* secret, std::string* file) {
  if (text.empty()) return Status::Ok();  // none
  if (!secret->empty()) {
    return Named(self, Status::InvalidArgument("give " + std::string(secret_name) + " or " +
                                               std::string(self.name) + ", not both"));
  }
  std::ifstream in{std::string(text)};
  std::string line;
  if (!in || !std::getline(in, line)) {
    return Named(self, Status::InvalidArgument("cannot read a password from " + std::string(text)));
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return Named(self, Status::InvalidArgument(std::string(text) + " holds no password"));
  }
  *secret = std::move(line);
  *file = std::string(text);
  return Status::Ok();
}

Status ParseRequirepassFile(const Setting& self, std::string_view text, O* o) {
  return ReadSecretFile(self, text, "requirepass", &o->requirepass, &o->requirepass_file);
}

Status ParseKeyPassFile(const Setting& self, std::string_view text, O* o) {
  return ReadSecretFile(self, text, "tls_key_file_pass", &o->tls_key_file_pass,
                        &o->tls_key_file_pass_file);
}

// One of a few words (tls-auth-clients: yes, no, optional).
template <auto F>
Status ParseChoice(const Setting& self, std::string_view text, O* o,
                   std::initializer_list<std::string_view> choices, std::string_view said) {
  for (std::string_view c : choices) {
    if (EqualsNoCase(text, c)) {
      o->*F = std::string(c);
      return Status::Ok();
    }
  }
  return Bad(self, said, text);
}

Status ParseOutputLimits(const Setting& self, std::string_view text, O* o) {
  const Status s = ParseOutputBufferLimits(text, &o->output_limits);
  return s.ok() ? s : Named(self, s);
}

Status ParseNotify(const Setting& self, std::string_view text, O* o) {
  Result<uint32_t> flags = ParseNotifyFlags(text);
  if (!flags.ok()) return Named(self, flags.status());
  o->notify_keyspace_events = *flags;
  return Status::Ok();
}

Status ParseKafka(const Setting& self, std::string_view text, O* o) {
  QUIVER_ASSIGN_OR_RETURN(o->kafka.config, ParseKafkaConfig(text));
  return Status::Ok();
}

// Adds what a declaration does not say: its Redis name, whether CONFIG SET
// may change it.
constexpr Setting With(Setting s, std::string_view redis_name, bool runtime) {
  s.redis_name = redis_name;
  s.runtime = runtime;
  return s;
}

using K = KafkaOptions;
using C = ClusterOptions;

const Setting kSettings[] = {
    With(String<&O::bind>("bind", "Address the native and RESP ports listen on"), "bind", false),
    OptionalPort<&O::port>("port",
                           "Native protocol port (0 = any free port; off = none, with TLS only)"),
    With(OptionalPort<&O::resp_port>("resp_port",
                                     "Redis protocol (RESP) port (0 = any free port; off = none)"),
         "port", false),
    OptionalPort<&O::http_port>(
        "http_port", "HTTP port: /health, /metrics, JSON reads (0 = any free port; off = none)"),
    String<&O::http_bind>("http_bind",
                          "Address the HTTP port listens on (127.0.0.1: loopback only)"),
    With(String<&O::requirepass>("requirepass",
                                 "Password of every port, as Redis's requirepass (empty: none)"),
         "requirepass", true),
    Declare("requirepass_file", Type::kString,
            "Read requirepass from the first line of this file, so that ps does not show it",
            ParseRequirepassFile, [](const O& o) { return o.requirepass_file; }),
    With(String<&O::aclfile>("aclfile",
                             "File of the users (ACL SAVE, ACL LOAD, read at start), as Redis's "
                             "aclfile (empty: kept in the data directory)"),
         "aclfile", false),
    With(Integer<&O::acllog_max_len>(
             "acllog_max_len", "Entries ACL LOG keeps, as Redis's acllog-max-len", 0, 1'000'000),
         "acllog-max-len", true),
    With(OptionalPort<&O::tls_port>("tls_port",
                                    "RESP port over TLS, as Redis's tls-port (0 = any "
                                    "free port; off = none)"),
         "tls-port", false),
    OptionalPort<&O::tls_native_port>(
        "tls_native_port", "Native protocol port over TLS (0 = any free port; off = none)"),
    OptionalPort<&O::tls_http_port>("tls_http_port",
                                    "HTTPS port, on http_bind (0 = any free port; off = none)"),
    With(String<&O::tls_cert_file>(
             "tls_cert_file", "The server's certificate (chain), PEM; as Redis's tls-cert-file"),
         "tls-cert-file", true),
    With(String<&O::tls_key_file>("tls_key_file", "The certificate's private key, PEM"),
         "tls-key-file", true),
    With(String<&O::tls_key_file_pass>("tls_key_file_pass",
                                       "Passphrase of tls_key_file, if it has one"),
         "tls-key-file-pass", true),
    Declare("tls_key_file_pass_file", Type::kString,
            "Read tls_key_file_pass from the first line of this file, so that ps does not show it",
            ParseKeyPassFile, [](const O& o) { return o.tls_key_file_pass_file; }),
    With(String<&O::tls_ca_cert_file>(
             "tls_ca_cert_file", "CA certificates (PEM) that client certificates must chain to"),
         "tls-ca-cert-file", true),
    With(String<&O::tls_ca_cert_dir>("tls_ca_cert_dir", "Directory of CA certificates (c_rehash)"),
         "tls-ca-cert-dir", true),
    With(Declare(
             "tls_auth_clients", Type::kString,
             "Whether clients must show a certificate the CA signed: yes, no or optional",
             [](const Setting& self, std::string_view text, O* o) {
               return ParseChoice<&O::tls_auth_clients>(self, text, o, {"yes", "no", "optional"},
                                                        "yes, no or optional");
             },
             [](const O& o) { return o.tls_auth_clients; }),
         "tls-auth-clients", true),
    With(Declare(
             "tls_auth_clients_user", Type::kString,
             "CN: a client certificate's common name is the RESP user it runs as; off: not",
             [](const Setting& self, std::string_view text, O* o) {
               return ParseChoice<&O::tls_auth_clients_user>(self, text, o, {"CN", "off"},
                                                             "CN or off");
             },
             [](const O& o) { return o.tls_auth_clients_user; }),
         "tls-auth-clients-user", true),
    With(String<&O::tls_protocols>("tls_protocols",
                                   "TLS versions allowed, among TLSv1 TLSv1.1 TLSv1.2 TLSv1.3"),
         "tls-protocols", true),
    With(String<&O::tls_ciphers>("tls_ciphers",
                                 "TLSv1.2 ciphers, in OpenSSL's syntax (empty: OpenSSL's)"),
         "tls-ciphers", true),
    With(String<&O::tls_ciphersuites>(
             "tls_ciphersuites", "TLSv1.3 cipher suites, in OpenSSL's syntax (empty: OpenSSL's)"),
         "tls-ciphersuites", true),
    With(YesNo<&O::tls_prefer_server_ciphers>(
             "tls_prefer_server_ciphers",
             "Choose the cipher by the server's order rather than the client's: yes or no"),
         "tls-prefer-server-ciphers", true),
    With(YesNo<&O::protected_mode>(
             "protected_mode",
             "With no password and a non-loopback bind, serve loopback clients only: yes or no "
             "(Redis's protected-mode)"),
         "protected-mode", true),
    With(Integer<&O::databases>("databases",
                                "Number of RESP databases (SELECT 0..N-1), as Redis's databases", 1,
                                65536),
         "databases", false),
    With(Integer<&O::threads>(
             "threads",
             "I/O threads, one io_context each (0 = one per usable core but one, at least one)", 0,
             1024),
         "io-threads", false),
    Integer<&O::long_request_threads>(
        "long_request_threads",
        "Threads for requests that may run long (large training sets, History, backfills, KEYS, "
        "large EXECs), so that the I/O threads keep serving other clients",
        1, 64),
    With(String<&O::data_dir>("data_dir", "Data directory"), "dir", false),
    Declare("durability", Type::kChoice,
            "When a write is acknowledged: sync (WAL fsynced), async (WAL written), none (no WAL) "
            "or memory (no history at all)",
            ParseDurabilityMode, FormatDurabilityMode),
    Bytes<&O::history_cache>("history_cache", "RocksDB block cache for history reads, e.g. 1GB"),
    Declare("history_cache_policy", Type::kChoice,
            "Eviction of that cache: lru, or clock (lock-free, cheaper per hit when the history "
            "read fits in it)",
            ParsePolicy,
            [](const O& o) { return std::string(CachePolicyName(o.history_cache_policy)); }),
    String<&O::features>("features", "Feature definitions (YAML) applied at start"),
    With(Bytes<&O::max_memory>("max_memory",
                               "Memory limit for online rows, e.g. 4GB; writes fail beyond it, "
                               "reads go on (0 = none)"),
         "maxmemory", true),
    Bytes<&O::max_frame>("max_frame", "Largest protocol frame accepted, e.g. 64MB", 1024,
                         int64_t{1} << 31),
    With(Integer<&O::maxclients>("maxclients",
                                 "Most clients connected at once, across every port; one more "
                                 "is refused (Redis's maxclients)",
                                 1, 1'000'000),
         "maxclients", true),
    With(Integer<&O::timeout_s>(
             "timeout", "Close a client idle this many seconds (0 = never; Redis's timeout)", 0,
             int64_t{1} << 31),
         "timeout", true),
    With(Integer<&O::tcp_keepalive_s>("tcp_keepalive",
                                      "Send TCP keepalive probes to clients idle this many seconds "
                                      "(0 = none; new connections; Redis's tcp-keepalive)",
                                      0, int64_t{1} << 31),
         "tcp-keepalive", true),
    With(Declare("client_output_buffer_limit", Type::kString,
                 "Unread answers a client may hold: <class> <hard> <soft> <seconds>, classes "
                 "normal, replica, pubsub; past hard, or past soft for seconds, it is "
                 "disconnected (0 = no limit; Redis's client-output-buffer-limit)",
                 ParseOutputLimits,
                 [](const O& o) { return FormatOutputBufferLimits(o.output_limits); }),
         "client-output-buffer-limit", true),
    With(Declare("notify_keyspace_events", Type::kString,
                 "Keyspace notifications to publish: Redis's classes, e.g. KEA (empty = none; "
                 "Redis's notify-keyspace-events, docs/resp.md#keyspace-notifications)",
                 ParseNotify,
                 [](const O& o) { return FormatNotifyFlags(o.notify_keyspace_events); }),
         "notify-keyspace-events", true),
    Integer<&O::shards>("shards", "Online table shards", 1, 65536),
    Integer<&O::sweep_interval_ms>(
        "sweep_interval_ms", "How often expired rows are swept from memory, ms", 10, 86'400'000),
    String<&O::log_level>("log_level", "trace, debug, info, warn, error or off"),
    String<&O::port_file>(
        "port_file", "Once listening, write the bound native, RESP and HTTP ports to this file"),
    Bool<&O::huge_pages>("huge_pages", "Back rows with transparent huge pages: true or false"),
    Bool<&O::statistics>("statistics",
                         "Keep statistics of every written value per feature field, for "
                         "/v1/views/{view}/stats, drift and quality checks: true or false"),
    Duration<&O::max_future_skew_ms>(
        "max_future_skew",
        "Refuse event times further ahead of the server clock than this, from 1s to 365d", 1000,
        365 * 86'400'000LL),
    Duration<&O::stats_window_ms>("stats_window",
                                  "The recent window of feature statistics, from 1s to 7d", 1000,
                                  7 * 86'400'000LL),
    Bool<&O::dashboard>("dashboard",
                        "Serve the web dashboard at the HTTP port's / (docs/dashboard.md): "
                        "true or false"),
    Duration<&O::series_interval_ms>(
        "series_interval",
        "How often the time series of /v1/series and the dashboard are sampled, from 100ms to 1m",
        100, 60'000),
    Duration<&O::series_span_ms>("series_span", "How far back the time series go, from 1m to 1d",
                                 60'000, 86'400'000),
    Duration<&O::series_drift_interval_ms>(
        "series_drift_interval", "How often drift is sampled into the time series, from 1s to 1h",
        1000, 3'600'000),
    String<&O::kafka, &K::brokers>(
        "kafka_brokers",
        "Kafka bootstrap servers, host:port,...; consume the sources' topics (empty: no Kafka)"),
    String<&O::kafka, &K::group>("kafka_group", "Kafka consumer group id"),
    Declare("kafka_config", Type::kString,
            "Extra librdkafka consumer settings, key=value,... e.g. session.timeout.ms=6000",
            ParseKafka, [](const O& o) { return FormatKafkaConfig(o.kafka.config); }),
    Integer<&O::kafka, &K::max_batch_events>(
        "kafka_max_batch_events", "Most events Kafka ingestion applies in one batch", 1, 1'000'000),
    Integer<&O::kafka, &K::max_batch_ms>(
        "kafka_max_batch_ms",
        "Longest a batch of Kafka ingestion waits for more events while they keep arriving, ms "
        "(a batch is applied at once when nothing more is fetched)",
        1, 60'000),
    String<&O::cluster, &C::topic>(
        "cluster_topic",
        "The Kafka changelog topic of a replicated cluster (needs kafka_brokers): every write "
        "goes through it and every member applies it (empty: a single server)"),
    String<&O::cluster, &C::replica_id>(
        "replica_id", "This cluster member's stable name (empty: host name and RESP port)"),
    Integer<&O::cluster, &C::partitions>(
        "cluster_partitions", "Partitions of the changelog topic when quiverd creates it", 1,
        16384),
    Integer<&O::cluster, &C::replication>(
        "cluster_replication",
        "Replication factor of the changelog topic when quiverd creates it (at most the "
        "brokers' count)",
        1, 32),
    Duration<&O::cluster, &C::write_timeout_ms>(
        "cluster_write_timeout",
        "A cluster write not in the changelog and applied within this fails, from 100ms to 10m",
        100, 600'000),
    Bool<&O::cluster, &C::serve_stale>(
        "serve_stale",
        "A cluster member serves reads while it catches up with the changelog: true or false "
        "(false: they fail with LOADING until it has caught up)"),
};

}  // namespace

std::string Setting::Flag() const {
  std::string flag = "--" + std::string(name);
  std::replace(flag.begin(), flag.end(), '_', '-');
  return flag;
}

std::string Setting::DefaultForPeople() const {
  const std::string text = Default();
  if (type == Type::kBytes) {
    Result<int64_t> bytes = ParseByteSize(text);
    if (bytes.ok()) return FormatByteSize(*bytes);
  }
  return text.empty() ? "none" : text;
}

std::span<const Setting> Settings() {
  return kSettings;
}

const Setting* FindSetting(std::string_view name) {
  for (const Setting& s : kSettings) {
    if (!s.redis_name.empty() && EqualsNoCase(s.redis_name, name)) return &s;
  }
  for (const Setting& s : kSettings) {
    if (EqualsNoCase(s.name, name)) return &s;
  }
  return nullptr;
}

int DefaultIoThreads(int cores) {
  return std::max(1, cores - 1);
}

int UsableCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

void ResolveAutomatic(ServerOptions* o) {
  if (o->threads == 0) o->threads = DefaultIoThreads(UsableCores());
}

}  // namespace quiver
