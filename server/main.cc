// quiverd: the quiver feature server.

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <sstream>
#include <utility>

#include <spdlog/spdlog.h>
#include <boost/asio/signal_set.hpp>

#include "server/file_limits.h"
#include "server/ingest/kafka_ingest.h"
#include "server/options.h"
#include "server/server.h"
#include "storage/keyspace/key_log.h"
#include "storage/streaming/ingestor.h"
#include "util/allocator.h"
#include "util/rcu.h"
#include "util/thread_name.h"
#include "util/version.h"

namespace {

quiver::Status ApplyFile(quiver::FeatureStore& store, const std::string& path) {
  std::ifstream in(path);
  if (!in) return quiver::Status::IoError("cannot read feature definitions " + path);
  std::stringstream text;
  text << in.rdbuf();
  quiver::Result<quiver::ApplyReport> report = store.Apply(text.str());
  if (!report.ok())
    return quiver::Status(report.status().code(), path + ": " + report.status().message());
  spdlog::info("applied {}: {} created, {} updated, {} unchanged", path, report->created.size(),
               report->updated.size(), report->unchanged.size());
  return quiver::Status::Ok();
}

// The ports bound, a line each (0: none): native, RESP, HTTP, RESP over
// TLS, native over TLS, HTTPS.
quiver::Status WritePortFile(const std::string& path, const quiver::Server& server) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << server.port() << "\n"
        << server.resp_port() << "\n"
        << server.http_port() << "\n"
        << server.tls_port() << "\n"
        << server.tls_native_port() << "\n"
        << server.tls_http_port() << "\n";
    if (!out) return quiver::Status::IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: readers never see a partial file
  if (ec) return quiver::Status::IoError("cannot write " + path + ": " + ec.message());
  return quiver::Status::Ok();
}

int Fail(const quiver::Status& status) {
  std::cerr << "quiverd: " << status.message() << "\n";
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  auto parsed = quiver::ParseServerOptions(argc, argv);
  if (!parsed.ok()) return Fail(parsed.status());
  if (!parsed->has_value()) return 0;
  quiver::ServerOptions& mutable_options = **parsed;
  const quiver::ServerOptions& options = mutable_options;
  quiver::UseHugePages(options.huge_pages, argv);
  spdlog::set_level(spdlog::level::from_str(options.log_level));
  const quiver::FileBudget files = quiver::AdjustFileLimit(options.maxclients);
  if (!files.warning.empty()) spdlog::warn("{}", files.warning);
  mutable_options.maxclients = files.maxclients;

  std::error_code ec;
  std::filesystem::create_directories(options.data_dir, ec);
  if (ec)
    return Fail(quiver::Status::IoError("cannot create data dir " + options.data_dir + ": " +
                                        ec.message()));

  quiver::rcu::ThreadRegistration rcu_thread;
  quiver::Registry registry;
  // Everything that grows with data or clients counts against --max-memory.
  quiver::MemoryBudget memory(options.max_memory);
  quiver::OnlineTable table({.shards = options.shards, .budget = &memory});
  std::unique_ptr<quiver::HistoryStore> history;
  if (options.cluster.enabled() && options.kafka.group == quiver::KafkaOptions().group &&
      !options.cluster.replica_id.empty()) {
    // Every member consumes every source partition itself (docs/cluster.md).
    mutable_options.kafka.group = "quiver-" + options.cluster.replica_id;
  }
  // A member consumes every source partition itself, in no group it
  // shares: restarted after a crash, it takes them back at once.
  mutable_options.kafka.assign_all = options.cluster.enabled();
  if (options.cluster.enabled() && options.durability == quiver::Durability::kSync) {
    // The changelog is the durable copy (docs/cluster.md): a member's
    // RocksDB need not fsync what Kafka's in-sync replicas already hold.
    mutable_options.durability = quiver::Durability::kAsync;
    spdlog::info(
        "cluster member: the history commits without fsync (durability async); "
        "acknowledged writes are in the changelog's in-sync replicas");
  }
  if (options.keep_history) {
    auto opened = quiver::HistoryStore::Open({.dir = options.data_dir,
                                              .durability = options.durability,
                                              .block_cache_bytes = options.history_cache,
                                              .cache_policy = options.history_cache_policy,
                                              .max_open_files = files.rocksdb_files,
                                              .budget = &memory});
    if (!opened.ok()) return Fail(opened.status());
    history = std::move(*opened);
  }
  quiver::FeatureStore store(registry, table, history.get(),
                             {.max_future_skew_ms = options.max_future_skew_ms,
                              .now_ms = nullptr,
                              .statistics = options.statistics,
                              .stats = {.recent_ms = options.stats_window_ms}});
  if (quiver::Status s = store.Recover(); !s.ok()) return Fail(s);
  if (!options.features.empty()) {
    if (quiver::Status s = ApplyFile(store, options.features); !s.ok()) return Fail(s);
  }

  quiver::Ingestor ingestor(store);
  if (quiver::Status s = ingestor.Recover(); !s.ok()) return Fail(s);
  std::unique_ptr<quiver::KafkaIngest> kafka;
  if (!options.kafka.brokers.empty()) {
    auto started = quiver::KafkaIngest::Start(store, ingestor, options.kafka);
    if (!started.ok()) return Fail(started.status());
    kafka = std::move(*started);
  }

  const std::string durability =
      history ? std::string(quiver::DurabilityName(options.durability)) : "memory";
  std::shared_ptr<quiver::KeyLog> key_log;
  if (history) {
    auto opened = quiver::KeyLog::Open(*history);
    if (!opened.ok()) return Fail(opened.status());
    key_log = std::move(*opened);
  }
  quiver::Server server(options, store, std::move(key_log),
                        {.durability = durability, .ingestor = &ingestor, .kafka = kafka.get()});
  server.LimitClients(files.rocksdb_files);
  if (quiver::Status s = server.Start(); !s.ok()) return Fail(s);
  if (!options.port_file.empty()) {
    if (quiver::Status s = WritePortFile(options.port_file, server); !s.ok()) return Fail(s);
  }
  std::string ports;  // "7070 (native protocol), 6379 (RESP)"
  for (auto [p, what] :
       {std::pair{server.port(), "native protocol"}, std::pair{server.resp_port(), "RESP"},
        std::pair{server.tls_port(), "RESP over TLS"},
        std::pair{server.tls_native_port(), "native protocol over TLS"}}) {
    if (p != 0) ports += (ports.empty() ? "" : ", ") + std::to_string(p) + " (" + what + ")";
  }
  spdlog::info(
      "quiverd {} listening on {}:{}{}, {} I/O thread{}, durability {}{}", quiver::kQuiverVersion,
      options.bind, ports,
      (server.http_port() != 0
           ? ", " + options.http_bind + ":" + std::to_string(server.http_port()) + " (HTTP)"
           : std::string()) +
          (server.tls_http_port() != 0 ? ", " + options.http_bind + ":" +
                                             std::to_string(server.tls_http_port()) + " (HTTPS)"
                                       : std::string()),
      options.threads, options.threads == 1 ? "" : "s", durability,
      history ? ", data in " + options.data_dir : std::string());

  boost::asio::io_context signal_context;
  boost::asio::signal_set signals(signal_context, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code& e, int signal) {
    if (e) return;
    spdlog::info("signal {} received, shutting down", signal);
    server.Stop();
  });
  // SIGHUP: the TLS certificates and keys are read again.
  boost::asio::signal_set hangups(signal_context, SIGHUP);
  std::function<void()> await_hangup = [&] {
    hangups.async_wait([&](const boost::system::error_code& e, int) {
      if (e) return;
      (void)server.ReloadTls();
      await_hangup();
    });
  };
  await_hangup();
  std::thread signal_thread([&] {
    quiver::NameThisThread("signals");
    signal_context.run();
  });
  server.Run();
  kafka.reset();  // applies and commits what it consumed, leaves the group
  // Commit what is queued (or, while the disk refuses writes, fail it)
  // while the connections' contexts still exist.
  if (history) history->Shutdown();
  signal_context.stop();
  signal_thread.join();
  spdlog::info("quiverd stopped");
  return 0;
}
