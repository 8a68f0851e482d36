#include "security/tls/tls_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <utility>

#include "util/ascii.h"

namespace quiver::tls {

namespace {

// OpenSSL's reasons for the last failure, oldest first.
std::string OpenSslErrors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char text[256];
    ERR_error_string_n(e, text, sizeof(text));
    if (!out.empty()) out += "; ";
    out += text;
  }
  return out.empty() ? "no reason given" : out;
}

Status Failed(std::string what) {
  return Status::InvalidArgument(std::move(what) + ": " + OpenSslErrors());
}

// The versions tls-protocols allows, as OpenSSL's lowest and highest.
Status SetProtocols(SSL_CTX* ctx, std::string_view protocols) {
  int low = 0, high = 0;
  size_t start = 0;
  if (protocols.empty()) protocols = "TLSv1.2 TLSv1.3";
  while (start < protocols.size()) {
    size_t end = protocols.find(' ', start);
    if (end == std::string_view::npos) end = protocols.size();
    const std::string_view name = protocols.substr(start, end - start);
    start = end + 1;
    if (name.empty()) continue;
    int version = 0;
    if (EqualsNoCase(name, "TLSv1")) version = TLS1_VERSION;
    if (EqualsNoCase(name, "TLSv1.1")) version = TLS1_1_VERSION;
    if (EqualsNoCase(name, "TLSv1.2")) version = TLS1_2_VERSION;
    if (EqualsNoCase(name, "TLSv1.3")) version = TLS1_3_VERSION;
    if (version == 0) {
      return Status::InvalidArgument("tls-protocols: unknown protocol '" + std::string(name) +
                                     "' (TLSv1, TLSv1.1, TLSv1.2 or TLSv1.3)");
    }
    low = low == 0 ? version : std::min(low, version);
    high = std::max(high, version);
  }
  if (low == 0) return Status::InvalidArgument("tls-protocols: no protocol named");
  if (!SSL_CTX_set_min_proto_version(ctx, low) || !SSL_CTX_set_max_proto_version(ctx, high))
    return Failed("tls-protocols");
  return Status::Ok();
}

Status LoadIdentity(Context& context, const Options& o) {
  SSL_CTX* ctx = context.native_handle();
  if (o.cert_file.empty() || o.key_file.empty())
    return Status::InvalidArgument("TLS needs tls-cert-file and tls-key-file");
  if (!o.key_file_pass.empty()) {
    boost::system::error_code ec;
    context.set_password_callback(
        [pass = o.key_file_pass](size_t, Context::password_purpose) { return pass; }, ec);
  }
  if (SSL_CTX_use_certificate_chain_file(ctx, o.cert_file.c_str()) != 1)
    return Failed("tls-cert-file " + o.cert_file);
  if (SSL_CTX_use_PrivateKey_file(ctx, o.key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    if (ERR_GET_REASON(ERR_peek_last_error()) == X509_R_KEY_VALUES_MISMATCH) {
      ERR_clear_error();
      return Status::InvalidArgument("tls-key-file " + o.key_file +
                                     " does not match tls-cert-file " + o.cert_file);
    }
    return Failed("tls-key-file " + o.key_file);
  }
  return Status::Ok();
}

Status SetVerification(SSL_CTX* ctx, const Options& o) {
  const bool have_ca = !o.ca_cert_file.empty() || !o.ca_cert_dir.empty();
  if (have_ca &&
      SSL_CTX_load_verify_locations(ctx, o.ca_cert_file.empty() ? nullptr : o.ca_cert_file.c_str(),
                                    o.ca_cert_dir.empty() ? nullptr : o.ca_cert_dir.c_str()) != 1)
    return Failed("tls-ca-cert-file/tls-ca-cert-dir");
  if (o.auth_clients != ClientAuth::kNo && !have_ca) {
    return Status::InvalidArgument(
        "tls-auth-clients is yes or optional but neither tls-ca-cert-file nor tls-ca-cert-dir "
        "names a CA to verify clients with (or set tls-auth-clients no)");
  }
  int mode = SSL_VERIFY_NONE;
  if (o.auth_clients == ClientAuth::kYes) mode = SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
  if (o.auth_clients == ClientAuth::kOptional) mode = SSL_VERIFY_PEER;
  SSL_CTX_set_verify(ctx, mode, nullptr);
  // Sessions resumed with client certificates need an id context.
  static constexpr unsigned char kId[] = "quiverd";
  SSL_CTX_set_session_id_context(ctx, kId, sizeof(kId) - 1);
  return Status::Ok();
}

Status SetCiphers(SSL_CTX* ctx, const Options& o) {
  if (!o.ciphers.empty() && SSL_CTX_set_cipher_list(ctx, o.ciphers.c_str()) != 1)
    return Failed("tls-ciphers '" + o.ciphers + "'");
  if (!o.ciphersuites.empty() && SSL_CTX_set_ciphersuites(ctx, o.ciphersuites.c_str()) != 1)
    return Failed("tls-ciphersuites '" + o.ciphersuites + "'");
  if (o.prefer_server_ciphers) SSL_CTX_set_options(ctx, SSL_OP_CIPHER_SERVER_PREFERENCE);
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<Context>> MakeServerContext(const Options& o) {
  ERR_clear_error();
  auto context = std::make_shared<Context>(Context::tls_server);
  SSL_CTX* ctx = context->native_handle();
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  QUIVER_RETURN_IF_ERROR(SetProtocols(ctx, o.protocols));
  QUIVER_RETURN_IF_ERROR(LoadIdentity(*context, o));
  QUIVER_RETURN_IF_ERROR(SetVerification(ctx, o));
  QUIVER_RETURN_IF_ERROR(SetCiphers(ctx, o));
  return context;
}

Status ServerContext::Reload(const Options& options) {
  QUIVER_ASSIGN_OR_RETURN(std::shared_ptr<Context> context, MakeServerContext(options));
  std::lock_guard lock(mu_);
  context_ = std::move(context);
  return Status::Ok();
}

std::shared_ptr<Context> ServerContext::Get() const {
  std::lock_guard lock(mu_);
  return context_;
}

std::string PeerCommonName(const SSL* ssl) {
  if (SSL_get_verify_result(ssl) != X509_V_OK) return {};
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return {};
  std::string name;
  X509_NAME* subject = X509_get_subject_name(cert);
  const int at = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
  if (at >= 0) {
    const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, at));
    name.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(data)),
                static_cast<size_t>(ASN1_STRING_length(data)));
  }
  X509_free(cert);
  return name;
}

}  // namespace quiver::tls
