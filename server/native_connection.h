// NativeConnection: one client connection of the native protocol. Reads
// frames, answers each in order on the io_context thread that owns the
// socket (many requests may be in flight: pipelining), and writes the
// answers back in batches. Lives as long as its asynchronous operations
// hold a shared_ptr to it; touched only by its io_context's thread.
//
// Writes are applied online at once; their history goes to the group
// commit. Under durability async or sync, the answer to a write waits until
// its history is committed, and the answers after it wait behind it, so a
// client sees answers in the order it asked.
#pragma once

#include <deque>
#include <memory>
#include <vector>

#include <flatbuffers/flatbuffers.h>
#include <boost/asio/ip/tcp.hpp>

#include "protocol/frame.h"
#include "server/native_handler.h"

namespace quiver {

class NativeConnection : public std::enable_shared_from_this<NativeConnection> {
 public:
  NativeConnection(boost::asio::ip::tcp::socket socket, FeatureStore& store,
                   const NativeHandlerOptions& options);
  void Start();

 private:
  // An answer held until the commits it follows are done.
  struct Held {
    std::vector<uint8_t> bytes;
    uint64_t id = 0;
    bool awaits_commit = false;  // its own write is not committed yet
  };

  void Read();
  void OnRead(const boost::system::error_code& ec, size_t bytes);
  void ProcessFrames();
  // Queues the answer just built (and commits the writes it made).
  void Answer();
  void OnCommitted(const Status& status);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  void Close();

  boost::asio::ip::tcp::socket socket_;
  FeatureStore& store_;
  protocol::FrameReader reader_;
  NativeHandler handler_;
  flatbuffers::FlatBufferBuilder builder_;
  std::vector<uint8_t> pending_;  // answers not yet handed to the socket
  std::vector<uint8_t> writing_;  // answers being written
  std::deque<Held> held_;         // answers waiting for commits, in request order
  size_t awaiting_ = 0;           // held answers whose commit has not completed
  bool reading_ = false;
  bool writing_in_flight_ = false;
  bool closing_ = false;  // a fatal error was answered: close once written
};

}  // namespace quiver
