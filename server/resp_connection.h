// RespConnection: one client connection of the RESP port. Reads requests,
// runs each in order on the io_context thread that owns the socket
// (pipelines of any depth), and writes the replies back in batches. Lives
// as long as its asynchronous operations hold a shared_ptr to it.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>

#include "protocol/resp.h"
#include "server/resp_command.h"

namespace quiver {

class RespConnection : public std::enable_shared_from_this<RespConnection> {
 public:
  RespConnection(boost::asio::ip::tcp::socket socket, KeySpace& keyspace, FeatureStore& store,
                 resp::Shared& shared);
  ~RespConnection();
  void Start();

 private:
  void Read();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void ProcessRequests();
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  void Close();

  boost::asio::ip::tcp::socket socket_;
  KeySpace& keyspace_;
  FeatureStore& store_;
  resp::Shared& shared_;
  protocol::RespReader reader_;
  std::string pending_;  // replies not yet handed to the socket
  std::string writing_;  // replies being written
  protocol::RespWriter writer_{&pending_};
  resp::Session session_;
  std::vector<std::string_view> args_;
  bool reading_ = false;
  bool writing_in_flight_ = false;
  bool closed_ = false;
};

}  // namespace quiver
