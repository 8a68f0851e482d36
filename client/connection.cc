#include "client/connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace quiver::client_internal {

namespace {
void SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

}  // namespace

Status Connection::StartTls(const std::string& host, const TlsOptions& tls) {
  std::string error;
  if (!tls_.Start(fd_, host, tls, &error)) return Broken("failed in the TLS handshake: " + error);
  return Status::Ok();
}

Status Connection::Open(const std::string& host, uint16_t port, int timeout_ms, uint32_t max_frame,
                        const TlsOptions& tls) {
  Close();
  peer_ = host + ":" + std::to_string(port);
  timeout_ms_ = timeout_ms;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found); rc != 0) {
    return Status::Unavailable("cannot resolve " + host + ": " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr && fd_ < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    if (timeout_ms > 0) SetTimeouts(fd, timeout_ms);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      fd_ = fd;
    } else {
      last_error = std::strerror(errno);
      ::close(fd);
    }
  }
  freeaddrinfo(found);
  if (fd_ < 0)
    return Status::Unavailable("cannot connect to quiverd at " + peer_ + ": " + last_error);
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (tls.enabled) QUIVER_RETURN_IF_ERROR(StartTls(host, tls));
  reader_ = std::make_unique<protocol::FrameReader>(max_frame);
  return Status::Ok();
}

void Connection::Close() {
  tls_.Close();
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Status Connection::Broken(const std::string& what) {
  Close();
  return Status::Unavailable("connection to quiverd at " + peer_ + " " + what);
}

Status Connection::Failed(const char* op) {
  const int error = errno;
  if (error == EAGAIN || error == EWOULDBLOCK) {
    return Broken(std::string(op) + " timed out after " + std::to_string(timeout_ms_) +
                  " ms (the client's timeout)");
  }
  return Broken(std::string("failed on ") + op + ": " + std::strerror(error));
}

Status Connection::SendAll(std::span<const uint8_t> bytes) {
  if (fd_ < 0) return Status::Unavailable("not connected to quiverd");
  while (!bytes.empty()) {
    ssize_t n = tls_.Send(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Failed("send");
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

Result<Frame> Connection::ReceiveFrame() {
  if (fd_ < 0) return Status::Unavailable("not connected to quiverd");
  for (;;) {
    Result<std::span<const uint8_t>> next = reader_->Next();
    if (!next.ok()) {
      Close();
      return next.status();
    }
    if (!next->empty()) {
      Frame frame;
      frame.size = next->size();
      frame.storage = std::shared_ptr<uint64_t[]>(new uint64_t[(frame.size + 7) / 8]);
      std::memcpy(frame.storage.get(), next->data(), frame.size);
      return frame;
    }
    std::span<uint8_t> space = reader_->WritableSpace();
    ssize_t n = tls_.Receive(fd_, space.data(), space.size());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Broken("was closed by the server");
    if (n < 0) return Failed("receive");
    reader_->Commit(static_cast<size_t>(n));
  }
}

}  // namespace quiver::client_internal
