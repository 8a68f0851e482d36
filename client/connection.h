// Connection: a blocking TCP connection, plain or over TLS (OpenSSL), that
// sends bytes and receives whole native-protocol frames. Internal to the
// client library; one thread.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "client/tls_socket.h"
#include "protocol/frame.h"
#include "quiver/client.h"
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

  Status Open(const std::string& host, uint16_t port, int timeout_ms, uint32_t max_frame,
              const TlsOptions& tls = {});
  bool is_open() const { return fd_ >= 0; }
  void Close();

  // Any failure closes the connection and returns Unavailable.
  Status SendAll(std::span<const uint8_t> bytes);
  Result<Frame> ReceiveFrame();

 private:
  Status Broken(const std::string& what);
  // A failed send or recv: "timed out after N ms" for a socket timeout.
  Status Failed(const char* op);
  Status StartTls(const std::string& host, const TlsOptions& tls);

  int fd_ = -1;
  TlsSocket tls_;  // on if the connection speaks TLS
  std::string peer_;
  int timeout_ms_ = 0;
  std::unique_ptr<protocol::FrameReader> reader_;
};

}  // namespace quiver::client_internal
