// GET /metrics: quiverd's metrics in the Prometheus text format
// (docs/monitoring.md#metrics lists them).
#include <string>

#include "server/http/api.h"

#include "protocol/json_text.h"
#include "service/drift_report.h"
#include "service/feature_report.h"
#include "service/ingest_status.h"
#include "service/prometheus.h"
#include "util/rcu.h"

namespace quiver {

namespace {

void AppendRequests(const RequestMetrics& metrics, PrometheusText& out) {
  const std::vector<RequestMetrics::KindTotals> kinds = metrics.Collect();
  out.Family("quiver_requests_total", "counter", "Requests served, by front end and kind.");
  for (const auto& k : kinds) {
    out.Sample("quiver_requests_total",
               {{"front_end", FrontEndName(k.front_end)}, {"kind", k.kind}},
               static_cast<double>(k.totals.count));
  }
  out.Family("quiver_request_errors_total", "counter",
             "Requests answered with an error, by front end and kind.");
  for (const auto& k : kinds) {
    out.Sample("quiver_request_errors_total",
               {{"front_end", FrontEndName(k.front_end)}, {"kind", k.kind}},
               static_cast<double>(k.totals.errors));
  }
  out.Family("quiver_request_duration_seconds", "histogram",
             "Server time per request, from decoding it to its answer being ready "
             "(a write's commit wait excluded).");
  for (const auto& k : kinds) {
    out.HistogramSamples("quiver_request_duration_seconds",
                         {{"front_end", FrontEndName(k.front_end)}, {"kind", k.kind}}, k.totals);
  }
  out.Family("quiver_commit_wait_seconds", "histogram",
             "Time a write's answer waited for its commit (durability async or sync).");
  for (size_t f = 0; f < kFrontEnds; ++f) {
    const auto front_end = static_cast<FrontEnd>(f);
    out.HistogramSamples("quiver_commit_wait_seconds", {{"front_end", FrontEndName(front_end)}},
                         metrics.CommitWaits(front_end));
  }
}

void AppendKafka(const IngestStatus& s, PrometheusText& out) {
  out.Family("quiver_kafka_running", "gauge", "1 while the Kafka consumer runs.");
  out.Sample("quiver_kafka_running", {}, s.running ? 1 : 0);
  out.Family("quiver_kafka_paused", "gauge",
             "1 while ingestion waits because writes are refused (disk failed, memory full).");
  out.Sample("quiver_kafka_paused", {}, s.paused.empty() ? 0 : 1);
  struct Counter {
    const char* name;
    const char* help;
    uint64_t value;
  };
  const Counter counters[] = {
      {"quiver_kafka_messages_total", "Kafka messages consumed.", s.messages},
      {"quiver_kafka_events_total",
       "Events applied to a view (an event feeding two views counts twice).", s.events},
      {"quiver_kafka_versions_total", "Feature rows written by ingestion.", s.versions},
      {"quiver_kafka_batches_total", "Batches of events applied and committed.", s.batches},
      {"quiver_kafka_too_late_total", "Events older than every window they could join.",
       s.too_late},
      {"quiver_kafka_dead_lettered_total", "Malformed events copied to a dead-letter topic.",
       s.dead_lettered},
      {"quiver_kafka_pauses_total", "Times ingestion waited while writes were refused.", s.pauses},
  };
  for (const Counter& c : counters) {
    out.Family(c.name, "counter", c.help);
    out.Sample(c.name, {}, static_cast<double>(c.value));
  }
  out.Family("quiver_kafka_malformed_total", "counter", "Events refused, by kind of fault.");
  for (size_t e = 0; e < s.malformed.size(); ++e) {
    out.Sample("quiver_kafka_malformed_total",
               {{"kind", EventErrorName(static_cast<EventError>(e))}},
               static_cast<double>(s.malformed[e]));
  }
  out.Family("quiver_kafka_consumer_lag", "gauge",
             "Messages between a partition's end and what is applied and durable.");
  for (const PartitionStatus& p : s.partitions) {
    if (p.lag < 0) continue;
    out.Sample("quiver_kafka_consumer_lag",
               {{"topic", p.topic}, {"partition", std::to_string(p.partition)}},
               static_cast<double>(p.lag));
  }
  const std::pair<const char*, const Histogram::Summary*> latencies[] = {
      {"quiver_kafka_event_to_visible_seconds", &s.event_to_visible_us},
      {"quiver_kafka_consume_to_visible_seconds", &s.consume_to_visible_us},
  };
  for (const auto& [name, summary] : latencies) {
    out.Family(name, "summary", "Kafka event latency to being served (quantiles within 6.25%).");
    const std::pair<const char*, int64_t> quantiles[] = {{"0.5", summary->p50},
                                                         {"0.9", summary->p90},
                                                         {"0.99", summary->p99},
                                                         {"0.999", summary->p999}};
    for (const auto& [q, us] : quantiles)
      out.Sample(name, {{"quantile", q}}, static_cast<double>(us) / 1e6);
    out.Sample(std::string(name) + "_count", {}, static_cast<double>(summary->count));
  }
}

}  // namespace

void HttpApi::AppendServing(PrometheusText& out) const {
  const OnlineTable& table = d_.keyspace.table();
  out.Family("quiver_online_rows", "gauge",
             "Rows and keys held online (feature rows and RESP keys).");
  out.Sample("quiver_online_rows", {}, static_cast<double>(table.size()));
  out.Family("quiver_online_memory_bytes", "gauge", "Bytes held by online rows and keys.");
  out.Sample("quiver_online_memory_bytes", {}, static_cast<double>(table.memory_bytes()));
  const MemoryBudget& budget = table.budget();
  out.Family("quiver_memory_bytes", "gauge",
             "What --max-memory counts, by part: rows (online rows and keys), windows, history "
             "(RocksDB), clients (connection buffers), transactions (MULTI, WATCH), dead_letters.");
  for (size_t i = 0; i < kMemoryParts; ++i) {
    const auto part = static_cast<MemoryPart>(i);
    out.Sample("quiver_memory_bytes", {{"part", std::string(MemoryPartName(part))}},
               static_cast<double>(budget.bytes(part)));
  }
  out.Family("quiver_memory_used_bytes", "gauge", "Every part together: what max_memory bounds.");
  out.Sample("quiver_memory_used_bytes", {}, static_cast<double>(budget.total()));
  out.Family("quiver_max_memory_bytes", "gauge", "The memory limit (max_memory); 0: none.");
  out.Sample("quiver_max_memory_bytes", {}, static_cast<double>(table.max_memory_bytes()));
  if (d_.long_requests != nullptr) {
    out.Family("quiver_long_requests", "gauge",
               "Requests that may run long (large training sets, KEYS, ...) running or queued on "
               "their own threads (--long-request-threads).");
    out.Sample("quiver_long_requests", {}, static_cast<double>(d_.long_requests->busy()));
  }
  out.Family("quiver_resp_keys", "gauge", "Plain keys of each non-empty RESP database.");
  for (int db = 0; db < d_.keyspace.databases(); ++db) {
    const int64_t keys = d_.keyspace.Size(db);
    if (keys > 0) out.Sample("quiver_resp_keys", {{"db", std::to_string(db)}}, keys);
  }
  if (d_.ingestor != nullptr) {
    out.Family("quiver_window_states", "gauge", "Entities with a window state (Kafka, backfill).");
    out.Sample("quiver_window_states", {}, static_cast<double>(d_.ingestor->entities()));
    out.Family("quiver_window_state_bytes", "gauge",
               "About how much memory the window states hold (counted in max_memory).");
    out.Sample("quiver_window_state_bytes", {}, static_cast<double>(d_.ingestor->memory_bytes()));
  }
  if (HistoryStore* history = d_.store.history()) {
    out.Family("quiver_history_healthy", "gauge",
               "1 while RocksDB accepts writes; 0 while they are refused after a disk failure (see "
               "/health).");
    out.Sample("quiver_history_healthy", {}, history->health().ok() ? 1 : 0);
    out.Family("quiver_history_recoveries_total", "counter",
               "Times the history took writes again after a disk failure.");
    out.Sample("quiver_history_recoveries_total", {}, static_cast<double>(history->recoveries()));
  }
}

void HttpApi::AppendViews(PrometheusText& out) const {
  const std::vector<ViewFreshness> views = Freshness();
  struct Gauge {
    const char* name;
    const char* help;
    double (*value)(const ViewFreshness&);
  };
  static constexpr Gauge kGauges[] = {
      {"quiver_view_rows", "Rows a view serves (within their TTL).",
       [](const ViewFreshness& f) { return static_cast<double>(f.rows); }},
      {"quiver_view_expired_rows", "Rows past their TTL, not served, not yet swept.",
       [](const ViewFreshness& f) { return static_cast<double>(f.expired); }},
      {"quiver_view_memory_bytes", "Bytes a view's rows hold.",
       [](const ViewFreshness& f) { return static_cast<double>(f.memory_bytes); }},
  };
  for (const Gauge& g : kGauges) {
    out.Family(g.name, "gauge", g.help);
    for (const ViewFreshness& f : views)
      out.Sample(g.name, {{"view", f.view}}, g.value(f));
  }
  out.Family("quiver_view_freshness_sla_seconds", "gauge",
             "A view's freshness SLA, if it has one.");
  for (const ViewFreshness& f : views) {
    if (f.sla_ms > 0)
      out.Sample("quiver_view_freshness_sla_seconds", {{"view", f.view}}, f.sla_ms / 1e3);
  }
  out.Family("quiver_view_past_sla_rows", "gauge",
             "Served rows older than their view's freshness SLA (views with one).");
  for (const ViewFreshness& f : views) {
    if (f.sla_ms > 0) out.Sample("quiver_view_past_sla_rows", {{"view", f.view}}, f.past_sla);
  }
  out.Family("quiver_view_age_seconds", "summary",
             "Age of a view's served values (now - event time); quantiles within 6.25%.");
  for (const ViewFreshness& f : views) {
    const std::pair<const char*, int64_t> quantiles[] = {
        {"0.5", f.age_ms.p50}, {"0.9", f.age_ms.p90}, {"0.99", f.age_ms.p99}, {"1", f.age_ms.max}};
    for (const auto& [q, ms] : quantiles)
      out.Sample("quiver_view_age_seconds", {{"view", f.view}, {"quantile", q}}, ms / 1e3);
    out.Sample("quiver_view_age_seconds_count", {{"view", f.view}}, f.rows);
  }
}

namespace {

// count, errors (unless null) and percentiles in microseconds, within the
// histograms' 6.25%.
void WriteLatency(const RequestMetrics::Totals& t, const uint64_t* errors, JsonWriter& w) {
  const Histogram::Summary s = t.Summarize();
  w.Key("count").Uint(s.count);
  if (errors != nullptr) w.Key("errors").Uint(*errors);
  const std::pair<const char*, int64_t> percentiles[] = {
      {"p50", s.p50}, {"p90", s.p90}, {"p99", s.p99}, {"p999", s.p999}, {"max", s.max}};
  for (const auto& [name, ns] : percentiles)
    w.Key(name).Number(static_cast<double>(ns) / 1e3);
}

}  // namespace

HttpReply HttpApi::Latency() const {
  std::string out;
  JsonWriter w(&out);
  w.Open('{').Key("unit").String("us").Key("requests").Open('[');
  for (const auto& k : d_.metrics.Collect()) {
    w.Open('{').Key("front_end").String(FrontEndName(k.front_end)).Key("kind").String(k.kind);
    WriteLatency(k.totals, &k.totals.errors, w);
    w.Close();
  }
  w.Close().Key("commit_waits").Open('[');
  for (size_t f = 0; f < kFrontEnds; ++f) {
    const auto front_end = static_cast<FrontEnd>(f);
    w.Open('{').Key("front_end").String(FrontEndName(front_end));
    WriteLatency(d_.metrics.CommitWaits(front_end), nullptr, w);
    w.Close();
  }
  w.Close().Close();
  out.push_back('\n');
  return {.status = 200, .content_type = "application/json", .body = std::move(out)};
}

void AppendCluster(const cluster::ChangelogStatus& c, PrometheusText& out) {
  out.Family("quiver_cluster_caught_up", "gauge",
             "1 once this member applied what every changelog partition held when it started.");
  out.Sample("quiver_cluster_caught_up", {}, c.caught_up ? 1 : 0);
  out.Family("quiver_cluster_write_ids", "gauge",
             "Write ids this member remembers, to answer their retries without applying them.");
  out.Sample("quiver_cluster_write_ids", {}, static_cast<double>(c.write_ids));
  struct Counter {
    const char* name;
    const char* help;
    int64_t value;
  };
  const Counter counters[] = {
      {"quiver_cluster_records_proposed_total", "Writes this member proposed to the changelog.",
       c.proposed},
      {"quiver_cluster_records_applied_total", "Changelog records this member applied.", c.applied},
      {"quiver_cluster_writes_refused_total",
       "Proposed writes the changelog did not take in time (answered CLUSTERDOWN).", c.refused},
      {"quiver_cluster_records_unapplicable_total",
       "Changelog records this member cannot apply (their partition stopped).", c.corrupt},
      {"quiver_cluster_records_skipped_total",
       "Records an operator skipped (CHANGELOG SKIP) on this member.", c.skipped},
      {"quiver_cluster_writes_deduplicated_total",
       "Retried writes (a write id applied already) answered without applying them again.",
       c.deduplicated},
  };
  for (const Counter& k : counters) {
    out.Family(k.name, "counter", k.help);
    out.Sample(k.name, {}, static_cast<double>(k.value));
  }
  struct PerPartition {
    const char* name;
    const char* help;
    int64_t (*value)(const cluster::PartitionStatus&);
  };
  static constexpr PerPartition kGauges[] = {
      {"quiver_cluster_applied_offset", "The next changelog offset this member applies.",
       [](const cluster::PartitionStatus& p) { return p.applied; }},
      {"quiver_cluster_lag", "Changelog records not yet applied (-1: end not known yet).",
       [](const cluster::PartitionStatus& p) { return p.lag(); }},
      {"quiver_cluster_waiting", "1 while the partition's next record waits (see INFO).",
       [](const cluster::PartitionStatus& p) { return int64_t{!p.waiting.empty()}; }},
      {"quiver_cluster_stopped", "1 once the partition met a record it cannot apply.",
       [](const cluster::PartitionStatus& p) { return int64_t{!p.stopped.empty()}; }},
  };
  for (const PerPartition& g : kGauges) {
    out.Family(g.name, "gauge", g.help);
    for (const cluster::PartitionStatus& p : c.partitions) {
      const std::string partition = std::to_string(p.partition);
      out.Sample(g.name, {{"partition", partition}}, static_cast<double>(g.value(p)));
    }
  }
}

HttpReply HttpApi::Metrics() const {
  PrometheusText out;
  out.Family("quiver_build_info", "gauge", "quiverd's version and durability mode.");
  out.Sample("quiver_build_info", {{"version", d_.version}, {"durability", d_.durability}}, 1);
  out.Family("quiver_uptime_seconds", "gauge", "Seconds since quiverd started.");
  out.Sample("quiver_uptime_seconds", {},
             static_cast<double>(d_.store.NowMs() - d_.start_ms) / 1000.0);
  AppendRequests(d_.metrics, out);
  AppendServing(out);
  AppendViews(out);
  {
    rcu::ReadLock lock;
    const std::vector<ViewStatsSample> views = SnapshotViews(d_.store);
    AppendFeatureMetrics(views, out);
    AppendDriftMetrics(d_.store, views, out);
  }
  if (d_.kafka != nullptr) AppendKafka(d_.kafka->status(), out);
  if (changelog_ != nullptr) AppendCluster(changelog_->status(), out);
  return {.status = 200,
          .content_type = "text/plain; version=0.0.4; charset=utf-8",
          .body = out.text()};
}

}  // namespace quiver
