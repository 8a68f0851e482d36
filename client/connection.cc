#include "client/connection.h"

#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cerrno>
#include <cstring>

namespace quiver::client_internal {

namespace {
void SetTimeouts(int fd, int timeout_ms) {
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    out += (out.empty() ? "" : "; ") + std::string(text);
  }
  return out.empty() ? "no reason given" : out;
}

bool IsIpAddress(const std::string& host) {
  unsigned char buf[sizeof(in6_addr)];
  return inet_pton(AF_INET, host.c_str(), buf) == 1 || inet_pton(AF_INET6, host.c_str(), buf) == 1;
}

// The client's context: the CA to verify the server with, the client's
// own certificate, the name the server's must carry.
SSL_CTX* MakeContext(const TlsOptions& tls, std::string* error) {
  SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
  if (ctx == nullptr) return nullptr;
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  const bool loaded =
      tls.ca_file.empty() && tls.ca_dir.empty()
          ? SSL_CTX_set_default_verify_paths(ctx) == 1
          : SSL_CTX_load_verify_locations(ctx, tls.ca_file.empty() ? nullptr : tls.ca_file.c_str(),
                                          tls.ca_dir.empty() ? nullptr : tls.ca_dir.c_str()) == 1;
  const bool identity =
      tls.cert_file.empty() ||
      (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) == 1 &&
       SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) == 1);
  if (!loaded || !identity) {
    *error =
        (loaded ? "the client certificate or key: " : "the CA certificates: ") + OpenSslErrors();
    SSL_CTX_free(ctx);
    return nullptr;
  }
  SSL_CTX_set_verify(ctx, tls.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
  return ctx;
}
}  // namespace

Status Connection::StartTls(const std::string& host, const TlsOptions& tls) {
  std::string error;
  tls_context_ = MakeContext(tls, &error);
  if (tls_context_ == nullptr) return Broken("could not start TLS: " + error);
  tls_ = SSL_new(tls_context_);
  const std::string name = tls.server_name.empty() ? host : tls.server_name;
  SSL_set_fd(tls_, fd_);
  if (!IsIpAddress(name)) SSL_set_tlsext_host_name(tls_, name.c_str());
  X509_VERIFY_PARAM* param = SSL_get0_param(tls_);
  if (IsIpAddress(name)) {
    X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
  } else {
    X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
  }
  if (SSL_connect(tls_) != 1) {
    const long verified = SSL_get_verify_result(tls_);
    const std::string why = verified != X509_V_OK
                                ? std::string("the server's certificate could not be verified: ") +
                                      X509_verify_cert_error_string(verified)
                                : OpenSslErrors();
    return Broken("failed in the TLS handshake: " + why);
  }
  return Status::Ok();
}

ssize_t Connection::SendSome(const uint8_t* data, size_t n) {
  if (tls_ == nullptr) return ::send(fd_, data, n, MSG_NOSIGNAL);
  const int sent = SSL_write(tls_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  return sent > 0 ? sent : -1;
}

ssize_t Connection::ReceiveSome(uint8_t* data, size_t n) {
  if (tls_ == nullptr) return ::recv(fd_, data, n, 0);
  const int got = SSL_read(tls_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
  if (got > 0) return got;
  const int error = SSL_get_error(tls_, got);
  return error == SSL_ERROR_ZERO_RETURN ? 0 : -1;  // a close_notify: as an end of stream
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
  if (tls_ != nullptr) SSL_free(tls_);
  if (tls_context_ != nullptr) SSL_CTX_free(tls_context_);
  tls_ = nullptr;
  tls_context_ = nullptr;
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
    ssize_t n = SendSome(bytes.data(), bytes.size());
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
    ssize_t n = ReceiveSome(space.data(), space.size());
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) return Broken("was closed by the server");
    if (n < 0) return Failed("receive");
    reader_->Commit(static_cast<size_t>(n));
  }
}

}  // namespace quiver::client_internal
