// TlsSocket: TLS (OpenSSL) over a connected, blocking socket, for the
// blocking clients: the native client library and the RESP client of
// `quiver import-redis`. Verifies the server against the CA given (or the
// system's) and its name or IP address, offers a client certificate if
// one is given. Header-only: each client library compiles it in.
#pragma once

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>

#include <algorithm>
#include <string>

#include "quiver/client.h"

namespace quiver::client_internal {

class TlsSocket {
 public:
  TlsSocket() = default;
  ~TlsSocket() { Close(); }
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  bool on() const { return ssl_ != nullptr; }

  // Shakes hands over fd with the server at `host`; false with *error
  // saying why (the server's certificate could not be verified, ...).
  bool Start(int fd, const std::string& host, const TlsOptions& tls, std::string* error) {
    context_ = MakeContext(tls, error);
    if (context_ == nullptr) return false;
    ssl_ = SSL_new(context_);
    const std::string name = tls.server_name.empty() ? host : tls.server_name;
    SSL_set_fd(ssl_, fd);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (IsIpAddress(name)) {
      X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str());
    } else {
      SSL_set_tlsext_host_name(ssl_, name.c_str());
      X509_VERIFY_PARAM_set1_host(param, name.c_str(), 0);
    }
    if (SSL_connect(ssl_) == 1) return true;
    const long verified = SSL_get_verify_result(ssl_);
    *error = verified != X509_V_OK
                 ? std::string("the server's certificate could not be verified: ") +
                       X509_verify_cert_error_string(verified)
                 : Errors();
    Close();
    return false;
  }

  // As send(2) and recv(2) (0: the peer closed), through TLS if it is on.
  ssize_t Send(int fd, const void* data, size_t n) {
    if (ssl_ == nullptr) return ::send(fd, data, n, MSG_NOSIGNAL);
    const int sent = SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    return sent > 0 ? sent : -1;
  }
  ssize_t Receive(int fd, void* data, size_t n) {
    if (ssl_ == nullptr) return ::recv(fd, data, n, 0);
    const int got = SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(n, 1 << 30)));
    if (got > 0) return got;
    return SSL_get_error(ssl_, got) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
  }
  // Bytes decrypted and not yet read: ready without waiting on the socket.
  bool Pending() const { return ssl_ != nullptr && SSL_pending(ssl_) > 0; }

  void Close() {
    if (ssl_ != nullptr) SSL_free(ssl_);
    if (context_ != nullptr) SSL_CTX_free(context_);
    ssl_ = nullptr;
    context_ = nullptr;
  }

 private:
  static std::string Errors() {
    std::string out;
    while (unsigned long e = ERR_get_error()) {
      char text[256];
      ERR_error_string_n(e, text, sizeof(text));
      out += (out.empty() ? "" : "; ") + std::string(text);
    }
    return out.empty() ? "no reason given" : out;
  }

  static bool IsIpAddress(const std::string& host) {
    unsigned char buf[sizeof(in6_addr)];
    return inet_pton(AF_INET, host.c_str(), buf) == 1 ||
           inet_pton(AF_INET6, host.c_str(), buf) == 1;
  }

  static SSL_CTX* MakeContext(const TlsOptions& tls, std::string* error) {
    SSL_CTX* ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == nullptr) {
      *error = Errors();
      return nullptr;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    const char* file = tls.ca_file.empty() ? nullptr : tls.ca_file.c_str();
    const char* dir = tls.ca_dir.empty() ? nullptr : tls.ca_dir.c_str();
    const bool loaded = file == nullptr && dir == nullptr
                            ? SSL_CTX_set_default_verify_paths(ctx) == 1
                            : SSL_CTX_load_verify_locations(ctx, file, dir) == 1;
    const bool identity =
        tls.cert_file.empty() ||
        (SSL_CTX_use_certificate_chain_file(ctx, tls.cert_file.c_str()) == 1 &&
         SSL_CTX_use_PrivateKey_file(ctx, tls.key_file.c_str(), SSL_FILETYPE_PEM) == 1);
    if (!loaded || !identity) {
      *error = (loaded ? "the client certificate or key: " : "the CA certificates: ") + Errors();
      SSL_CTX_free(ctx);
      return nullptr;
    }
    SSL_CTX_set_verify(ctx, tls.verify ? SSL_VERIFY_PEER : SSL_VERIFY_NONE, nullptr);
    return ctx;
  }

  SSL_CTX* context_ = nullptr;
  SSL* ssl_ = nullptr;
};

}  // namespace quiver::client_internal
