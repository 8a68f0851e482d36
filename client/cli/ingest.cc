// `quiver status` and `quiver compact`.
#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <thread>

#include "client/cli/commands.h"
#include "client/json.h"
#include "protocol/timestamp.h"

namespace quiver::cli {

namespace {

void PrintLatency(const char* name, const LatencySummary& l) {
  std::cout << "  " << std::left << std::setw(20) << name << std::right;
  if (l.count == 0) {
    std::cout << "no events yet\n";
    return;
  }
  auto ms = [](int64_t us) {
    std::ostringstream s;
    s << std::fixed << std::setprecision(1) << us / 1000.0 << " ms";
    return s.str();
  };
  std::cout << "p50 " << ms(l.p50_us) << "  p90 " << ms(l.p90_us) << "  p99 " << ms(l.p99_us)
            << "  p999 " << ms(l.p999_us) << "  max " << ms(l.max_us) << "  (" << l.count
            << " events)\n";
}

std::string CompactionJson(const CompactionStatus& c) {
  std::ostringstream s;
  s << "{\"running\":" << (c.running ? "true" : "false") << ",\"started_ms\":" << c.started_ms
    << ",\"finished\":" << c.finished << ",\"last_seconds\":" << c.last_seconds
    << ",\"last_error\":";
  std::string error;
  AppendJsonString(c.last_error, &error);
  return s.str() + error + "}";
}

// One line on the history's compactions.
std::string CompactionText(const CompactionStatus& c, int64_t now_ms) {
  std::ostringstream s;
  s << std::fixed << std::setprecision(1);
  if (c.running) {
    s << "compaction running for " << (now_ms - c.started_ms) / 1000.0 << " s";
  } else if (c.finished == 0) {
    s << "no compaction since the server started (quiver compact)";
  } else if (!c.last_error.empty()) {
    s << "the last compaction failed after " << c.last_seconds << " s: " << c.last_error;
  } else {
    s << "last compaction took " << c.last_seconds << " s, started "
      << FormatTimestampMs(c.started_ms);
  }
  return s.str();
}

std::string LatencyJson(const LatencySummary& l) {
  return "{\"count\":" + std::to_string(l.count) + ",\"p50_us\":" + std::to_string(l.p50_us) +
         ",\"p90_us\":" + std::to_string(l.p90_us) + ",\"p99_us\":" + std::to_string(l.p99_us) +
         ",\"p999_us\":" + std::to_string(l.p999_us) + ",\"max_us\":" + std::to_string(l.max_us) +
         "}";
}

std::string KafkaJson(const KafkaStatus& k) {
  std::string out = "{\"running\":" + std::string(k.running ? "true" : "false") + ",\"paused\":";
  AppendJsonString(k.paused, &out);
  out += ",\"brokers\":";
  AppendJsonString(k.brokers, &out);
  out += ",\"group\":";
  AppendJsonString(k.group, &out);
  const std::pair<const char*, uint64_t> counters[] = {
      {"messages", k.messages}, {"events", k.events},   {"versions", k.versions},
      {"too_late", k.too_late}, {"batches", k.batches}, {"dead_lettered", k.dead_lettered},
      {"pauses", k.pauses}};
  for (const auto& [name, value] : counters)
    out += ",\"" + std::string(name) + "\":" + std::to_string(value);
  out += ",\"malformed\":{";
  for (size_t i = 0; i < k.malformed.size(); ++i) {
    out += (i ? "," : "") + std::string("\"") + k.malformed[i].first +
           "\":" + std::to_string(k.malformed[i].second);
  }
  out += "},\"event_to_visible\":" + LatencyJson(k.event_to_visible) +
         ",\"consume_to_visible\":" + LatencyJson(k.consume_to_visible) + ",\"partitions\":[";
  for (size_t i = 0; i < k.partitions.size(); ++i) {
    const KafkaPartitionStatus& p = k.partitions[i];
    out += (i ? "," : "") + std::string("{\"topic\":");
    AppendJsonString(p.topic, &out);
    out += ",\"partition\":" + std::to_string(p.partition) +
           ",\"next_offset\":" + std::to_string(p.next_offset) +
           ",\"high_watermark\":" + std::to_string(p.high_watermark) +
           ",\"lag\":" + std::to_string(p.lag) +
           ",\"max_event_time_ms\":" + std::to_string(p.max_event_time_ms) + "}";
  }
  return out + "],\"windows_through_ms\":" + std::to_string(k.windows_through_ms) + "}";
}

void PrintKafka(const KafkaStatus& k) {
  std::cout << "kafka           " << (k.running ? "consuming" : "stopped") << " from " << k.brokers
            << " as group " << k.group << "\n";
  if (!k.paused.empty()) std::cout << "  paused: " << k.paused << "\n";
  std::cout << "  messages " << k.messages << "  events " << k.events << "  versions " << k.versions
            << "  batches " << k.batches << "  too late " << k.too_late << "  dead-lettered "
            << k.dead_lettered << "\n";
  std::cout << "  malformed";
  for (const auto& [kind, count] : k.malformed)
    std::cout << "  " << kind << " " << count;
  std::cout << "\n";
  std::cout << "  windows through  "
            << (k.windows_through_ms > 0 ? FormatTimestampMs(k.windows_through_ms) : "-") << "\n";
  PrintLatency("event to visible", k.event_to_visible);
  PrintLatency("consume to visible", k.consume_to_visible);
  std::cout << "  " << std::left << std::setw(24) << "topic/partition" << std::right
            << std::setw(14) << "next offset" << std::setw(14) << "end" << std::setw(10) << "lag"
            << "  newest event\n";
  for (const KafkaPartitionStatus& p : k.partitions) {
    std::cout << "  " << std::left << std::setw(24) << (p.topic + "/" + std::to_string(p.partition))
              << std::right << std::setw(14) << p.next_offset << std::setw(14) << p.high_watermark
              << std::setw(10) << p.lag << "  "
              << (p.max_event_time_ms > 0 ? FormatTimestampMs(p.max_event_time_ms) : "-") << "\n";
  }
}

// {"total":N,"max_memory":N,"rows":N,...}
std::string MemoryJson(const ServerStatus& s) {
  int64_t total = 0;
  std::string parts;
  for (const auto& [part, bytes] : s.memory) {
    total += bytes;
    parts += ",\"" + part + "\":" + std::to_string(bytes);
  }
  return "{\"total\":" + std::to_string(total) + ",\"max_memory\":" + std::to_string(s.max_memory) +
         parts + "}";
}

std::string MiB(int64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof text, "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// "12.0 MiB of 1024.0 MiB (--max-memory): rows 10.0 MiB, history 2.0 MiB"
std::string MemoryText(const ServerStatus& s) {
  int64_t total = 0;
  std::string parts;
  for (const auto& [part, bytes] : s.memory) {
    total += bytes;
    if (bytes != 0) parts += (parts.empty() ? "" : ", ") + part + " " + MiB(bytes);
  }
  return MiB(total) +
         (s.max_memory > 0 ? " of " + MiB(s.max_memory) + " (--max-memory)"
                           : " (no --max-memory)") +
         (parts.empty() ? "" : ": " + parts);
}

std::string ClusterJson(const ClusterStatus& c) {
  std::string out = "{\"topic\":";
  AppendJsonString(c.topic, &out);
  out += ",\"replica_id\":";
  AppendJsonString(c.replica_id, &out);
  out += std::string(",\"caught_up\":") + (c.caught_up ? "true" : "false") +
         ",\"proposed\":" + std::to_string(c.proposed) +
         ",\"applied\":" + std::to_string(c.applied) + ",\"refused\":" + std::to_string(c.refused) +
         ",\"unapplicable\":" + std::to_string(c.unapplicable) + ",\"partitions\":[";
  for (const ClusterPartitionStatus& p : c.partitions) {
    if (out.back() != '[') out += ",";
    out += "{\"partition\":" + std::to_string(p.partition) +
           ",\"applied\":" + std::to_string(p.applied) +
           ",\"log_end\":" + std::to_string(p.log_end) + ",\"lag\":" + std::to_string(p.lag) +
           ",\"waiting\":";
    AppendJsonString(p.waiting, &out);
    out += ",\"stopped\":";
    AppendJsonString(p.stopped, &out);
    out += "}";
  }
  return out + "]}";
}

void PrintCluster(const ClusterStatus& c) {
  int64_t lag = 0;
  for (const ClusterPartitionStatus& p : c.partitions)
    lag += std::max<int64_t>(0, p.lag);
  std::cout << "cluster         topic " << c.topic << ", replica " << c.replica_id << ", "
            << (c.caught_up ? "caught up" : "catching up") << ", lag " << lag << ", " << c.applied
            << " records applied\n";
  std::cout << "  partition     applied     log end         lag\n";
  for (const ClusterPartitionStatus& p : c.partitions) {
    std::cout << "  " << std::setw(9) << p.partition << std::setw(12) << p.applied << std::setw(12)
              << p.log_end << std::setw(12) << p.lag;
    if (!p.waiting.empty()) std::cout << "  waiting: " << p.waiting;
    if (!p.stopped.empty()) std::cout << "  STOPPED: " << p.stopped;
    std::cout << "\n";
  }
}

}  // namespace

int ShowStatus(const ClientOptions& options, bool json) {
  auto client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  Result<ServerStatus> s = (*client)->GetStatus();
  if (!s.ok()) return Fail(s.status());
  if (json) {
    std::string out = "{\"server_version\":";
    AppendJsonString(s->server_version, &out);
    out += ",\"durability\":";
    AppendJsonString(s->durability, &out);
    out += ",\"server_time_ms\":" + std::to_string(s->server_time_ms) +
           ",\"rows\":" + std::to_string(s->rows) +
           ",\"memory_bytes\":" + std::to_string(s->memory_bytes) +
           ",\"window_entities\":" + std::to_string(s->window_entities) +
           ",\"window_bytes\":" + std::to_string(s->window_bytes) +
           ",\"memory\":" + MemoryJson(*s) +
           ",\"kafka\":" + (s->kafka ? KafkaJson(*s->kafka) : "null") +
           ",\"compaction\":" + (s->compaction ? CompactionJson(*s->compaction) : "null") +
           ",\"cluster\":" + (s->cluster ? ClusterJson(*s->cluster) : "null") + "}";
    std::cout << out << "\n";
    return 0;
  }
  std::cout << "quiverd         " << s->server_version << ", durability " << s->durability << "\n";
  std::cout << "online rows     " << s->rows << " (" << s->memory_bytes / (1 << 20) << " MiB)\n";
  std::cout << "window states   " << s->window_entities << " entities ("
            << s->window_bytes / (1 << 20) << " MiB)\n";
  std::cout << "memory          " << MemoryText(*s) << "\n";
  if (s->compaction) {
    std::cout << "history         " << CompactionText(*s->compaction, s->server_time_ms) << "\n";
  }
  if (s->kafka) {
    PrintKafka(*s->kafka);
  } else {
    std::cout << "kafka           not configured (--kafka-brokers)\n";
  }
  if (s->cluster) PrintCluster(*s->cluster);
  return 0;
}

int Checkpoint(const ClientOptions& options, const std::string& dir) {
  auto client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  Result<std::string> written = (*client)->Checkpoint(dir);
  if (!written.ok()) return Fail(written.status());
  std::cout << "checkpoint of " << (*client)->server() << " written to " << *written
            << " (on the server's machine)\n";
  return 0;
}

int Compact(const ClientOptions& options, bool wait) {
  auto client = Client::Connect(options);
  if (!client.ok()) return Fail(client.status());
  Result<uint64_t> before = (*client)->Compact();
  if (!before.ok()) return Fail(before.status());
  if (!wait) {
    std::cout << "compaction started (quiver status shows its progress)\n";
    return 0;
  }
  for (;;) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Result<ServerStatus> s = (*client)->GetStatus();
    if (!s.ok()) return Fail(s.status());
    const CompactionStatus& c = s->compaction.value_or(CompactionStatus{});
    if (c.running || c.finished <= *before) continue;
    if (!c.last_error.empty()) return Fail(Status::Internal("compaction failed: " + c.last_error));
    std::cout << "history compacted in " << std::fixed << std::setprecision(1) << c.last_seconds
              << " s\n";
    return 0;
  }
}

}  // namespace quiver::cli
