// RespConnection: one client connection of the RESP port. Reads requests
// and runs each in order on the io_context thread that owns the socket
// (pipelines of any depth); the socket side is StreamConnection's.
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "protocol/resp.h"
#include "server/resp_command.h"
#include "server/stream_connection.h"

namespace quiver {

class RespConnection : public StreamConnection {
 public:
  RespConnection(boost::asio::ip::tcp::socket socket, KeySpace& keyspace, FeatureStore& store,
                 resp::Shared& shared);
  ~RespConnection() override;

 private:
  std::span<char> ReadSpace() override { return reader_.WritableSpace(); }
  void Received(size_t n) override;
  void Started() override;
  void Written(size_t bytes) override;
  void ProcessRequests();
  // Parses up to kBatch requests into batch_; returns how many. A protocol
  // error (after them) goes to *error.
  size_t ParseBatch(Status* error);
  // Looks up the commands of batch_'s first n requests (into commands_)
  // and starts fetching the first key each names.
  void PrefetchKeys(size_t n);
  static constexpr size_t kBatch = 16;

  KeySpace& keyspace_;
  FeatureStore& store_;
  resp::Shared& shared_;
  protocol::RespReader reader_;
  protocol::RespWriter writer_{&pending()};
  resp::Session session_;
  std::vector<std::vector<std::string_view>> batch_;  // parsed requests
  std::vector<const resp::Command*> commands_;        // their commands (nullptr: unknown)
  std::vector<std::string_view> keys_;                // their first keys
};

}  // namespace quiver
