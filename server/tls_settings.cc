// The TLS ports' settings: Redis's tls-* names into a context
// (security/tls), checked before CONFIG SET changes them and applied after,
// and reloaded from their files on SIGHUP.
#include <spdlog/spdlog.h>

#include "server/server.h"

namespace quiver {

namespace {

tls::ClientAuth ClientAuthOf(const std::string& text) {
  if (text == "no") return tls::ClientAuth::kNo;
  if (text == "optional") return tls::ClientAuth::kOptional;
  return tls::ClientAuth::kYes;
}

constexpr const char* kContextSettings[] = {
    "tls_cert_file",     "tls_key_file",
    "tls_key_file_pass", "tls_ca_cert_file",
    "tls_ca_cert_dir",   "tls_auth_clients",
    "tls_protocols",     "tls_ciphers",
    "tls_ciphersuites",  "tls_prefer_server_ciphers",
};

}  // namespace

tls::Options TlsOptionsOf(const ServerOptions& o) {
  return {.cert_file = o.tls_cert_file,
          .key_file = o.tls_key_file,
          .key_file_pass = o.tls_key_file_pass,
          .ca_cert_file = o.tls_ca_cert_file,
          .ca_cert_dir = o.tls_ca_cert_dir,
          .auth_clients = ClientAuthOf(o.tls_auth_clients),
          .protocols = o.tls_protocols,
          .ciphers = o.tls_ciphers,
          .ciphersuites = o.tls_ciphersuites,
          .prefer_server_ciphers = o.tls_prefer_server_ciphers};
}

void Server::WatchTlsSettings() {
  for (const char* name : kContextSettings) {
    // A change that would make no context is refused, the old one kept.
    config_.OnCheck(name, [](const ServerOptions& o) {
      Result<std::shared_ptr<tls::Context>> made = tls::MakeServerContext(TlsOptionsOf(o));
      return made.ok() ? Status::Ok() : made.status();
    });
    config_.OnChange(name, [this](const ServerOptions& o) {
      if (Status s = tls_.Reload(TlsOptionsOf(o)); !s.ok()) spdlog::error("TLS: {}", s.message());
    });
  }
}

Status Server::ReloadTls() {
  if (!UsesTls()) return Status::Ok();
  Status s = tls_.Reload(TlsOptionsOf(config_.Snapshot()));
  if (s.ok()) {
    spdlog::info("TLS certificates and keys read again");
  } else {
    spdlog::error("TLS files not read again, the old ones kept: {}", s.message());
  }
  return s;
}

}  // namespace quiver
