#include "server/resp/info.h"

#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <vector>

#include "server/cluster/changelog.h"
#include "server/resp/arguments.h"
#include "util/allocator.h"

namespace quiver::resp {

std::string Human(int64_t bytes) {
  const char* units[] = {"B", "K", "M", "G", "T"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), u == 0 ? "%.0f%s" : "%.2f%s", v, units[u]);
  return buf;
}

int64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  int64_t pages = 0, resident = 0;
  statm >> pages >> resident;
  return resident * sysconf(_SC_PAGESIZE);
}

namespace {

// --- INFO -------------------------------------------------------------

class Section {
 public:
  Section(std::string* out, std::string_view title) : out_(out) {
    if (!out_->empty()) out_->append("\r\n");
    out_->append("# ").append(title).append("\r\n");
  }
  void Field(std::string_view name, std::string_view value) {
    out_->append(name).append(":").append(value).append("\r\n");
  }
  void Field(std::string_view name, int64_t value) { Field(name, std::to_string(value)); }

 private:
  std::string* out_;
};

void ServerSection(Context& ctx, std::string* out) {
  Section s(out, "Server");
  utsname u{};
  uname(&u);
  const int64_t uptime = (ctx.now() - ctx.shared.start_ms) / 1000;
  s.Field("redis_version", kRedisCompatVersion);
  s.Field("redis_git_sha1", "00000000");
  s.Field("redis_git_dirty", 0);
  s.Field("redis_mode", "standalone");
  s.Field("quiver_version", ctx.shared.version);
  s.Field("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  s.Field("arch_bits", 64);
  s.Field("multiplexing_api", "epoll");
  s.Field("process_id", static_cast<int64_t>(getpid()));
  const ServerOptions options = ctx.shared.config.Snapshot();
  s.Field("tcp_port", std::max(options.resp_port, 0));
  s.Field("server_time_usec", ctx.now() * 1000);
  s.Field("uptime_in_seconds", uptime);
  s.Field("uptime_in_days", uptime / 86400);
  s.Field("hz", 10);
  s.Field("io_threads_active", options.threads > 1 ? 1 : 0);
}

void ClientsSection(Context& ctx, std::string* out) {
  size_t connected;
  {
    std::lock_guard<std::mutex> lock(ctx.shared.clients_mu);
    connected = ctx.shared.clients.size();
  }
  Section s(out, "Clients");
  s.Field("connected_clients", static_cast<int64_t>(connected));
  s.Field("cluster_connections", 0);
  s.Field("maxclients", ctx.shared.config.Snapshot().maxclients);
  s.Field("blocked_clients", static_cast<int64_t>(ctx.shared.blocked.size()));
  s.Field("tracking_clients", 0);
  s.Field("clients_in_timeout_table", 0);
}

void MemorySection(Context& ctx, std::string* out) {
  // used_memory is what --max-memory bounds: every part of the budget.
  const MemoryBudget& budget = ctx.ks.table().budget();
  const int64_t used = budget.total();
  const int64_t rss = RssBytes();
  const int64_t max = budget.limit();
  Section s(out, "Memory");
  s.Field("used_memory", used);
  s.Field("used_memory_human", Human(used));
  s.Field("used_memory_rss", rss);
  s.Field("used_memory_rss_human", Human(rss));
  s.Field("used_memory_dataset", budget.bytes(MemoryPart::kRows));
  s.Field("mem_clients_normal", budget.bytes(MemoryPart::kClients));
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const auto part = static_cast<MemoryPart>(i);
    s.Field("quiver_memory_" + std::string(MemoryPartName(part)), budget.bytes(part));
  }
  s.Field("maxmemory", max);
  s.Field("maxmemory_human", Human(max));
  s.Field("maxmemory_policy", "noeviction");
  char ratio[32];
  std::snprintf(ratio, sizeof(ratio), "%.2f", used > 0 ? double(rss) / double(used) : 0.0);
  s.Field("mem_fragmentation_ratio", ratio);
  s.Field("mem_allocator", AllocatorName());
}

// Plain keys are logged write by write (storage/keyspace/key_log.h), which is what
// Redis clients know as an append-only file.
void PersistenceSection(Context& ctx, std::string* out) {
  const KeyLog* log = ctx.ks.log();
  Section s(out, "Persistence");
  s.Field("loading", 0);
  s.Field("async_loading", 0);
  s.Field("rdb_changes_since_last_save", 0);
  s.Field("rdb_bgsave_in_progress", 0);
  s.Field("rdb_last_bgsave_status", "ok");
  s.Field("aof_enabled", log != nullptr ? 1 : 0);
  s.Field("aof_rewrite_in_progress", 0);
  s.Field("aof_last_write_status", log == nullptr || log->store().health().ok() ? "ok" : "err");
  s.Field("quiver_durability", log != nullptr ? DurabilityName(log->durability()) : "memory");
}

// INFO stats' counters since the start (commands, bytes in and out only
// with `all`).
Shared::StatCounters Counted(Shared& sh, bool all) {
  Shared::StatCounters c;
  c.commands = sh.closed_commands.load(std::memory_order_relaxed);
  c.net_in = all ? sh.closed_net_in.load(std::memory_order_relaxed) : 0;
  c.net_out = all ? sh.closed_net_out.load(std::memory_order_relaxed) : 0;
  std::lock_guard<std::mutex> lock(sh.clients_mu);
  for (const auto& [id, info] : sh.clients) {
    c.commands += info->commands.load(std::memory_order_relaxed);
    if (!all) continue;
    c.net_in += info->net_in.load(std::memory_order_relaxed);
    c.net_out += info->net_out.load(std::memory_order_relaxed);
  }
  return c;
}

Shared::StatCounters CountersSinceStart(Context& ctx) {
  Shared& sh = ctx.shared;
  Shared::StatCounters c = Counted(sh, true);
  c.connections_received = sh.connections_received.load(std::memory_order_relaxed);
  c.rejected_connections = sh.rejected_connections.load(std::memory_order_relaxed);
  c.keyspace_hits = sh.keyspace_hits.load(std::memory_order_relaxed) + ctx.session.hits;
  c.keyspace_misses = sh.keyspace_misses.load(std::memory_order_relaxed) + ctx.session.misses;
  c.expired_keys = ctx.ks.expired();
  return c;
}

void StatsSection(Context& ctx, std::string* out) {
  Shared::StatCounters c = CountersSinceStart(ctx);
  {
    std::lock_guard<std::mutex> lock(ctx.shared.stats_base_mu);
    const Shared::StatCounters& b = ctx.shared.stats_base;
    c = {c.connections_received - b.connections_received,
         c.rejected_connections - b.rejected_connections,
         c.commands - b.commands,
         c.net_in - b.net_in,
         c.net_out - b.net_out,
         c.keyspace_hits - b.keyspace_hits,
         c.keyspace_misses - b.keyspace_misses,
         c.expired_keys - b.expired_keys};
  }
  Section s(out, "Stats");
  s.Field("total_connections_received", c.connections_received);
  s.Field("total_commands_processed", c.commands);
  s.Field("instantaneous_ops_per_sec", OpsPerSecond(ctx.shared));
  s.Field("total_net_input_bytes", c.net_in);
  s.Field("total_net_output_bytes", c.net_out);
  s.Field("rejected_connections", c.rejected_connections);
  s.Field("expired_keys", c.expired_keys);
  s.Field("evicted_keys", 0);
  s.Field("keyspace_hits", c.keyspace_hits);
  s.Field("keyspace_misses", c.keyspace_misses);
  s.Field("pubsub_channels", static_cast<int64_t>(ctx.shared.pubsub.Channels({}).size()));
  s.Field("pubsub_patterns", ctx.shared.pubsub.Patterns());
  const acl::AclLog::Counts denied = ctx.shared.acl_log.counts();
  s.Field("acl_access_denied_auth", denied.auth);
  s.Field("acl_access_denied_cmd", denied.command);
  s.Field("acl_access_denied_key", denied.key);
  s.Field("acl_access_denied_channel", denied.channel);
}

// Free text as an INFO value inside a key=value list: no ',' or line
// breaks, which would split it (clients parse such lines into maps).
std::string InfoText(std::string text) {
  for (char& c : text) {
    if (c == ',') c = ';';
    if (c == '\r' || c == '\n') c = ' ';
  }
  return text;
}

// A cluster member's changelog: the topic, and per partition what this
// server applied, the log's end and the lag between (docs/cluster.md).
void ChangelogFields(const cluster::ChangelogStatus& c, Section& s) {
  s.Field("cluster_topic", c.topic);
  s.Field("cluster_replica_id", c.replica_id);
  s.Field("cluster_caught_up", c.caught_up ? 1 : 0);
  s.Field("cluster_partitions", static_cast<int64_t>(c.partitions.size()));
  s.Field("cluster_lag", c.lag());
  s.Field("cluster_records_proposed", c.proposed);
  s.Field("cluster_records_applied", c.applied);
  s.Field("cluster_writes_refused", c.refused);
  s.Field("cluster_records_unapplicable", c.corrupt);
  s.Field("cluster_records_skipped", c.skipped);
  s.Field("cluster_writes_deduplicated", c.deduplicated);
  s.Field("cluster_write_ids", c.write_ids);
  for (const cluster::PartitionStatus& p : c.partitions) {
    std::string v = "applied=" + std::to_string(p.applied) +
                    ",log_end=" + std::to_string(p.log_end) + ",lag=" + std::to_string(p.lag()) +
                    ",clock_ms=" + std::to_string(p.clock_ms);
    if (!p.stopped.empty()) v += ",stopped=" + InfoText(p.stopped);
    if (!p.waiting.empty()) v += ",waiting=" + InfoText(p.waiting);
    s.Field("cluster_partition" + std::to_string(p.partition), v);
  }
}

void ReplicationSection(Context& ctx, std::string* out) {
  Section s(out, "Replication");
  // Every member accepts writes (they go through the changelog): each is
  // a master to a Redis client.
  s.Field("role", "master");
  s.Field("connected_slaves", 0);
  s.Field("master_replid", "0000000000000000000000000000000000000000");
  const cluster::Changelog* changelog = ctx.shared.changelog;
  if (changelog == nullptr) return s.Field("master_repl_offset", 0);
  const cluster::ChangelogStatus c = changelog->status();
  int64_t applied = 0;
  for (const cluster::PartitionStatus& p : c.partitions)
    applied += p.applied;
  s.Field("master_repl_offset", applied);
  ChangelogFields(c, s);
}

void CpuSection(Context&, std::string* out) {
  rusage self{};
  getrusage(RUSAGE_SELF, &self);
  auto seconds = [](const timeval& tv) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%ld.%06ld", static_cast<long>(tv.tv_sec),
                  static_cast<long>(tv.tv_usec));
    return std::string(buf);
  };
  Section s(out, "CPU");
  s.Field("used_cpu_sys", seconds(self.ru_stime));
  s.Field("used_cpu_user", seconds(self.ru_utime));
}

void ClusterSection(Context&, std::string* out) {
  Section s(out, "Cluster");
  s.Field("cluster_enabled", 0);
}

void KeyspaceSection(Context& ctx, std::string* out) {
  Section s(out, "Keyspace");
  for (int db = 0; db < ctx.ks.databases(); ++db) {
    const int64_t keys = ctx.ks.Size(db);
    if (keys == 0) continue;
    s.Field("db" + std::to_string(db), "keys=" + std::to_string(keys) + ",expires=" +
                                           std::to_string(ctx.ks.Expiring(db)) + ",avg_ttl=0");
  }
}

// The RESP port's commands served since the start (RequestMetrics), by name.
std::vector<RequestMetrics::KindTotals> RespCommandsSinceStart(const Context& ctx) {
  std::vector<RequestMetrics::KindTotals> resp;
  if (ctx.shared.metrics == nullptr) return resp;
  for (auto& k : ctx.shared.metrics->Collect()) {
    if (k.front_end == FrontEnd::kResp && k.kind != "unknown") resp.push_back(std::move(k));
  }
  return resp;
}

// now - base, bucket by bucket. The maximum cannot be taken back: it stays
// the one since the start (it only bounds the highest percentiles).
void Subtract(const RequestMetrics::Totals& base, RequestMetrics::Totals* now) {
  now->count -= std::min(now->count, base.count);
  now->errors -= std::min(now->errors, base.errors);
  now->sum_ns -= std::min(now->sum_ns, base.sum_ns);
  for (size_t i = 0; i < now->buckets.size() && i < base.buckets.size(); ++i)
    now->buckets[i] -= std::min(now->buckets[i], base.buckets[i]);
}

// The RESP port's commands served since the last CONFIG RESETSTAT.
std::vector<RequestMetrics::KindTotals> RespCommandTotals(Context& ctx) {
  std::vector<RequestMetrics::KindTotals> since = RespCommandsSinceStart(ctx);
  std::lock_guard<std::mutex> lock(ctx.shared.stats_base_mu);
  const auto& base = ctx.shared.command_base;
  std::erase_if(since, [&](RequestMetrics::KindTotals& k) {
    auto it = base.find(k.kind);
    if (it != base.end()) Subtract(it->second, &k.totals);
    return k.totals.count == 0;
  });
  return since;
}

std::string Fixed(double v, int decimals) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*f", decimals, v);
  return buf;
}

// Redis's INFO commandstats: calls, time and failures per command.
// Refused calls (arity, AUTH, OOM) count as failed_calls.
void CommandStatsSection(Context& ctx, std::string* out) {
  Section s(out, "Commandstats");
  for (const auto& k : RespCommandTotals(ctx)) {
    const double usec = static_cast<double>(k.totals.sum_ns) / 1000.0;
    s.Field("cmdstat_" + std::string(k.kind),
            "calls=" + std::to_string(k.totals.count) +
                ",usec=" + std::to_string(static_cast<int64_t>(usec)) +
                ",usec_per_call=" + Fixed(usec / static_cast<double>(k.totals.count), 2) +
                ",rejected_calls=0,failed_calls=" + std::to_string(k.totals.errors));
  }
}

// Redis 7's INFO latencystats: percentiles per command, in microseconds.
void LatencyStatsSection(Context& ctx, std::string* out) {
  Section s(out, "Latencystats");
  for (const auto& k : RespCommandTotals(ctx)) {
    const Histogram::Summary p = k.totals.Summarize();
    auto us = [](int64_t ns) { return Fixed(static_cast<double>(ns) / 1000.0, 3); };
    s.Field("latency_percentiles_usec_" + std::string(k.kind),
            "p50=" + us(p.p50) + ",p99=" + us(p.p99) + ",p99.9=" + us(p.p999));
  }
}

}  // namespace

void SampleOps(Shared& shared, int64_t now_ms) {
  const int64_t commands = Counted(shared, false).commands;
  std::lock_guard<std::mutex> lock(shared.ops_mu);
  const size_t slots = shared.ops_samples.size();
  shared.ops_samples[shared.ops_taken % slots] = {now_ms, commands};
  ++shared.ops_taken;
}

int64_t OpsPerSecond(Shared& shared) {
  std::lock_guard<std::mutex> lock(shared.ops_mu);
  const uint64_t taken = shared.ops_taken;
  if (taken < 2) return 0;
  const size_t slots = shared.ops_samples.size();
  const auto& [t1, n1] = shared.ops_samples[(taken - 1) % slots];
  const auto& [t0, n0] = shared.ops_samples[taken < slots ? 0 : taken % slots];
  return t1 > t0 ? (n1 - n0) * 1000 / (t1 - t0) : 0;
}

void ResetStats(Context& ctx) {
  const Shared::StatCounters counters = CountersSinceStart(ctx);
  std::vector<RequestMetrics::KindTotals> commands = RespCommandsSinceStart(ctx);
  std::lock_guard<std::mutex> lock(ctx.shared.stats_base_mu);
  ctx.shared.stats_base = counters;
  ctx.shared.command_base.clear();
  for (auto& k : commands)
    ctx.shared.command_base.emplace(std::string(k.kind), std::move(k.totals));
}

namespace {

struct InfoSection {
  std::string_view name;
  void (*write)(Context&, std::string*);
  bool in_default = true;  // part of a plain INFO (else only named, all or everything)
};

constexpr InfoSection kSections[] = {
    {"server", ServerSection, true},
    {"clients", ClientsSection, true},
    {"memory", MemorySection, true},
    {"persistence", PersistenceSection, true},
    {"stats", StatsSection, true},
    {"replication", ReplicationSection, true},
    {"cpu", CpuSection, true},
    {"commandstats", CommandStatsSection, false},
    {"latencystats", LatencyStatsSection, false},
    {"cluster", ClusterSection, true},
    {"keyspace", KeyspaceSection, true},
};

bool Wanted(Args args, const InfoSection& section) {
  if (args.size() < 2) return section.in_default;
  for (size_t i = 1; i < args.size(); ++i) {
    if (EqualsNoCase(args[i], section.name) || EqualsNoCase(args[i], "all") ||
        EqualsNoCase(args[i], "everything") ||
        (section.in_default && EqualsNoCase(args[i], "default"))) {
      return true;
    }
  }
  return false;
}

}  // namespace

void Info(Context& ctx, Args args) {
  std::string text;
  for (const InfoSection& s : kSections) {
    if (Wanted(args, s)) s.write(ctx, &text);
  }
  ctx.out.Verbatim(text);
}

}  // namespace quiver::resp
