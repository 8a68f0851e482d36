#include "server/crash_cycle.h"

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "quiver/client.h"
#include "support/quiverd_process.h"

namespace quiver::testing {

namespace {

constexpr char kDefinitions[] =
    "entities: [{name: row, keys: [id]}]\n"
    "views: [{name: crash, entity: row, fields: [{name: v, type: int64}]}]\n";
constexpr int kRowsPerPut = 10;

std::string Key(int cycle, int writer, int64_t put, int row) {
  return "c" + std::to_string(cycle) + "-w" + std::to_string(writer) + "-" + std::to_string(put) +
         "-" + std::to_string(row);
}

Result<std::unique_ptr<Client>> ConnectTo(const QuiverdProcess& server) {
  ClientOptions options;
  options.port = server.port();
  options.timeout_ms = 5000;
  return Client::Connect(options);
}

// Writes puts until one fails; returns how many were acknowledged.
int64_t WriteUntilKilled(const QuiverdProcess& server, int cycle, int writer) {
  auto client = ConnectTo(server);
  if (!client.ok()) return 0;
  int64_t put = 0;
  for (;; ++put) {
    WriteBatch batch("crash");
    for (int r = 0; r < kRowsPerPut; ++r)
      batch.Row({Key(cycle, writer, put, r)}).Set("v", put * kRowsPerPut + r);
    if (!(*client)->Put(batch).ok()) return put;
  }
}

Status Verify(Client& client, int cycle, int writer, int64_t puts, size_t* verified) {
  for (int64_t first = 0; first < puts; first += 100) {
    GetRequest request{"crash", {}, {"v"}};
    const int64_t last = std::min(puts, first + 100);
    for (int64_t p = first; p < last; ++p) {
      for (int r = 0; r < kRowsPerPut; ++r)
        request.key_parts.push_back(Key(cycle, writer, p, r));
    }
    QUIVER_ASSIGN_OR_RETURN(GetResult got, client.Get(request));
    for (size_t i = 0; i < got.size(); ++i) {
      const int64_t expected = first * kRowsPerPut + static_cast<int64_t>(i);
      if (!got.found(i) || got.columns()[0].int64_value(i) != expected) {
        return Status::Internal("acknowledged row " + request.key_parts[i] +
                                " was lost in the crash");
      }
      ++*verified;
    }
  }
  return Status::Ok();
}

}  // namespace

Result<CrashCycleStats> RunCrashCycle(const std::string& data_dir, int cycle, int writers,
                                      int kill_after_ms) {
  CrashCycleStats stats;
  std::vector<int64_t> acknowledged(writers, 0);
  {
    QuiverdProcess server({"--durability", "sync"}, 0, data_dir);
    if (!server.ok()) return Status::Unavailable("quiverd did not start");
    QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<Client> admin, ConnectTo(server));
    QUIVER_RETURN_IF_ERROR(admin->Apply(kDefinitions).status());
    std::vector<std::thread> threads;
    for (int w = 0; w < writers; ++w) {
      threads.emplace_back([&, w] { acknowledged[w] = WriteUntilKilled(server, cycle, w); });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms));
    server.Kill();
    for (auto& t : threads)
      t.join();
  }
  QuiverdProcess restarted({"--durability", "sync"}, 0, data_dir);
  if (!restarted.ok()) return Status::Unavailable("quiverd did not restart after the crash");
  QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<Client> reader, ConnectTo(restarted));
  for (int w = 0; w < writers; ++w) {
    stats.acknowledged += static_cast<size_t>(acknowledged[w]) * kRowsPerPut;
    QUIVER_RETURN_IF_ERROR(Verify(*reader, cycle, w, acknowledged[w], &stats.verified));
  }
  return stats;
}

}  // namespace quiver::testing
