// TLS for quiverd's ports: a server context built from Redis's settings
// (tls-cert-file, tls-key-file, tls-key-file-pass, tls-ca-cert-file,
// tls-ca-cert-dir, tls-auth-clients, tls-protocols, tls-ciphers,
// tls-ciphersuites, tls-prefer-server-ciphers), and the holder every TLS
// port takes it from, which a reload (CONFIG SET tls-*, SIGHUP) replaces
// whole: connections keep the context they started with.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <boost/asio/ssl/context.hpp>

#include "quiver/status.h"

namespace quiver::tls {

// tls-auth-clients: whether a client must show a certificate the CA signed.
enum class ClientAuth { kNo, kYes, kOptional };

struct Options {
  std::string cert_file, key_file;
  std::string key_file_pass;  // the private key's passphrase, if it has one
  std::string ca_cert_file, ca_cert_dir;
  ClientAuth auth_clients = ClientAuth::kYes;
  std::string protocols;     // "TLSv1.2 TLSv1.3"; empty: TLSv1.2 and TLSv1.3
  std::string ciphers;       // TLSv1.2's cipher list (OpenSSL's syntax); empty: OpenSSL's
  std::string ciphersuites;  // TLSv1.3's; empty: OpenSSL's
  bool prefer_server_ciphers = false;
};

using Context = boost::asio::ssl::context;

// A server context, or why not: a file that cannot be read, a key that
// does not match its certificate, an unknown protocol or cipher, clients
// to verify without a CA.
Result<std::shared_ptr<Context>> MakeServerContext(const Options& options);

class ServerContext {
 public:
  // Builds a context from `options` and, if that worked, makes it the one
  // new connections take. On failure the old one stays.
  Status Reload(const Options& options);
  // The current context; null before the first Reload that worked.
  std::shared_ptr<Context> Get() const;

 private:
  mutable std::mutex mu_;
  std::shared_ptr<Context> context_;  // guarded by mu_
};

// The common name (CN) of the certificate the peer showed and the context
// verified; empty if none.
std::string PeerCommonName(const SSL* ssl);

}  // namespace quiver::tls
