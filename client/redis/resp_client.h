// A small blocking client of the Redis protocol (RESP2), for tools that
// talk to a Redis server or to quiverd's RESP port: `quiver import-redis`.
// Commands are buffered and sent together (pipelining), replies read in
// order. Replies are untrusted input: sizes are bounded and nesting is
// limited before anything is allocated.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client/tls_socket.h"
#include "quiver/status.h"

namespace quiver::redis {

struct Reply {
  enum class Kind { kStatus, kError, kInteger, kBulk, kNil, kArray };
  Kind kind = Kind::kNil;
  std::string text;  // a status, an error, a bulk string
  int64_t integer = 0;
  std::vector<Reply> elements;  // an array's

  bool is_error() const { return kind == Kind::kError; }
};

// Parses one reply from the front of `in`: the reply and the bytes it took,
// 0 if `in` holds only part of one. An error for bytes that are no reply.
Result<size_t> ParseReply(std::string_view in, Reply* out);

class RespClient {
 public:
  struct Options {
    std::string host = "127.0.0.1";
    int port = 6379;
    int timeout_ms = 10'000;  // each connect, send and receive
    std::string user;         // AUTH user password (Redis 6 ACLs), or
    std::string password;     // AUTH password alone (requirepass); empty: none
    TlsOptions tls;           // over TLS if tls.enabled (redis-server --tls-port)
  };
  // Connects and authenticates.
  static Result<std::unique_ptr<RespClient>> Connect(const Options& options);
  ~RespClient();
  RespClient(const RespClient&) = delete;
  RespClient& operator=(const RespClient&) = delete;

  // Buffers a command; Flush sends what is buffered.
  void Append(std::span<const std::string_view> args);
  void Append(std::initializer_list<std::string_view> args) {
    Append(std::span(args.begin(), args.size()));
  }
  Status Flush();
  // The next reply (Flush first).
  Result<Reply> Read();
  // Append, Flush and Read: one command's reply.
  Result<Reply> Call(std::initializer_list<std::string_view> args);

 private:
  explicit RespClient(int fd, int timeout_ms) : fd_(fd), timeout_ms_(timeout_ms) {}
  Status Receive();

  int fd_;
  client_internal::TlsSocket tls_;  // on over TLS
  int timeout_ms_;
  std::string out_;  // commands not yet sent
  std::string in_;   // bytes received, from in_pos_
  size_t in_pos_ = 0;
};

}  // namespace quiver::redis
