// Connection: a blocking TCP connection that sends bytes and receives whole
// native-protocol frames. Internal to the client library; one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "protocol/frame.h"
#include "quiver/status.h"

namespace quiver::client_internal {

// One received frame, owning its 8-aligned bytes.
struct Frame {
  std::shared_ptr<uint64_t[]> storage;
  size_t size = 0;
  std::span<const uint8_t> bytes() const {
    return {reinterpret_cast<const uint8_t*>(storage.get()), size};
  }
};

class Connection {
 public:
  Connection() = default;
  ~Connection() { Close(); }
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  Status Open(const std::string& host, uint16_t port, int timeout_ms, uint32_t max_frame);
  bool is_open() const { return fd_ >= 0; }
  void Close();

  // Any failure closes the connection and returns Unavailable.
  Status SendAll(std::span<const uint8_t> bytes);
  Result<Frame> ReceiveFrame();

 private:
  Status Broken(const std::string& what);
  // A failed send or recv: "timed out after N ms" for a socket timeout.
  Status Failed(const char* op);

  int fd_ = -1;
  std::string peer_;
  int timeout_ms_ = 0;
  std::unique_ptr<protocol::FrameReader> reader_;
};

}  // namespace quiver::client_internal
