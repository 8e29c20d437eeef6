// In-memory TLS handshake between a server holding a certificate pair and a verifying client.
#include "pki/tls_probe.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <vector>

#include "core/status_macros.h"
#include "core/strings.h"
#include "pki/internal/openssl.h"
#include "pki/keys.h"
#include "pki/x509.h"

namespace rekey::pki {
namespace {

using internal::OpenSslError;
using internal::SslCtxPtr;
using internal::SslPtr;

// The first reason in this thread's OpenSSL error queue (clearing it), or "".
std::string TakeSslReason() {
  std::string reason;
  for (unsigned long e = ERR_get_error(); e != 0; e = ERR_get_error()) {
    if (reason.empty()) {
      char buf[256];
      ERR_error_string_n(e, buf, sizeof(buf));
      reason = buf;
    }
  }
  return reason;
}

// One step of `ssl`'s handshake: 1 done, 0 wants I/O, -1 failed.
int Step(SSL* ssl) {
  const int rc = SSL_do_handshake(ssl);
  if (rc == 1) return 1;
  const int err = SSL_get_error(ssl, rc);
  return (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) ? 0 : -1;
}

}  // namespace

absl::Status TlsHandshakeInMemory(const TlsProbe& probe) {
  if (probe.private_key == nullptr) return absl::InvalidArgumentError("no private key to probe");
  ASSIGN_OR_RETURN(internal::X509Ptr cert, ParseCertificatePem(probe.certificate));
  std::vector<internal::X509Ptr> chain;
  if (probe.chain.find("-----BEGIN") != std::string::npos) {
    ASSIGN_OR_RETURN(chain, ParseCertificatesPem(probe.chain));
  }
  ASSIGN_OR_RETURN(std::vector<internal::X509Ptr> trusted,
                   ParseCertificatesPem(probe.trust_bundle));
  ASSIGN_OR_RETURN(internal::EvpPkeyPtr key, ParsePrivateKeyPem(*probe.private_key));

  SslCtxPtr server_ctx(SSL_CTX_new(TLS_server_method()));
  SslCtxPtr client_ctx(SSL_CTX_new(TLS_client_method()));
  if (server_ctx == nullptr || client_ctx == nullptr) return OpenSslError("SSL_CTX_new");
  SSL_CTX_set_min_proto_version(server_ctx.get(), TLS1_2_VERSION);
  SSL_CTX_set_min_proto_version(client_ctx.get(), TLS1_2_VERSION);

  if (SSL_CTX_use_certificate(server_ctx.get(), cert.get()) != 1 ||
      SSL_CTX_use_PrivateKey(server_ctx.get(), key.get()) != 1 ||
      SSL_CTX_check_private_key(server_ctx.get()) != 1) {
    const std::string reason = TakeSslReason();
    return absl::FailedPreconditionError(
        rekey::StrCat("the private key does not match the certificate (", reason, ")"));
  }
  for (const internal::X509Ptr& c : chain) {
    if (SSL_CTX_add1_chain_cert(server_ctx.get(), c.get()) != 1) {
      return OpenSslError("SSL_CTX_add1_chain_cert");
    }
  }

  X509_STORE* store = SSL_CTX_get_cert_store(client_ctx.get());
  for (const internal::X509Ptr& c : trusted) {
    if (X509_STORE_add_cert(store, c.get()) != 1) internal::ClearOpenSslErrors();
  }
  SSL_CTX_set_verify(client_ctx.get(), SSL_VERIFY_PEER, nullptr);
  X509_VERIFY_PARAM_set_time(SSL_CTX_get0_param(client_ctx.get()),
                             static_cast<time_t>(absl::ToUnixSeconds(probe.at)));

  SslPtr server(SSL_new(server_ctx.get()));
  SslPtr client(SSL_new(client_ctx.get()));
  if (server == nullptr || client == nullptr) return OpenSslError("SSL_new");
  if (!probe.server_name.empty()) {
    X509_VERIFY_PARAM* param = SSL_get0_param(client.get());
    const int ok = IsIpAddress(probe.server_name)
                       ? X509_VERIFY_PARAM_set1_ip_asc(param, probe.server_name.c_str())
                       : SSL_set1_host(client.get(), probe.server_name.c_str());
    if (ok != 1) return OpenSslError("setting the server name to verify");
    if (!IsIpAddress(probe.server_name)) {
      SSL_set_tlsext_host_name(client.get(), probe.server_name.c_str());
    }
  }
  BIO* client_io = nullptr;
  BIO* server_io = nullptr;
  if (BIO_new_bio_pair(&client_io, 0, &server_io, 0) != 1) return OpenSslError("BIO_new_bio_pair");
  SSL_set_bio(client.get(), client_io, client_io);  // each SSL now owns its end
  SSL_set_bio(server.get(), server_io, server_io);
  SSL_set_connect_state(client.get());
  SSL_set_accept_state(server.get());

  int client_state = 0;
  int server_state = 0;
  for (int round = 0; round < 64 && (client_state != 1 || server_state != 1); ++round) {
    if (client_state != 1) client_state = Step(client.get());
    if (client_state < 0) break;
    if (server_state != 1) server_state = Step(server.get());
    if (server_state < 0) break;
  }
  if (client_state != 1 || server_state != 1) {
    const long verify = SSL_get_verify_result(client.get());
    const std::string reason = TakeSslReason();
    if (verify != X509_V_OK) {
      return absl::FailedPreconditionError(
          rekey::StrCat("TLS handshake failed: the client rejected the certificate: ",
                        X509_verify_cert_error_string(verify)));
    }
    return absl::FailedPreconditionError(
        rekey::StrCat("TLS handshake failed: ", reason.empty() ? "no progress" : reason));
  }

  // One application record each way proves the keys agreed.
  static constexpr char kPing[] = "rekey-probe";
  char buf[sizeof(kPing)] = {0};
  bool echoed = SSL_write(client.get(), kPing, sizeof(kPing)) == sizeof(kPing) &&
                SSL_read(server.get(), buf, sizeof(buf)) == sizeof(kPing) &&
                std::string_view(buf, sizeof(buf)) == std::string_view(kPing, sizeof(kPing));
  if (echoed) {
    echoed = SSL_write(server.get(), buf, sizeof(buf)) == sizeof(buf) &&
             SSL_read(client.get(), buf, sizeof(buf)) == sizeof(buf);
  }
  if (!echoed) {
    return absl::FailedPreconditionError(
        rekey::StrCat("TLS handshake finished but data did not pass: ", TakeSslReason()));
  }
  internal::ClearOpenSslErrors();
  return absl::OkStatus();
}

}  // namespace rekey::pki
