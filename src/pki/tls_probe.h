// An in-process TLS handshake over memory BIOs, to prove that a certificate, its chain and its
// private key work together for a client that trusts a given bundle.
#ifndef REKEY_PKI_TLS_PROBE_H_
#define REKEY_PKI_TLS_PROBE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"

namespace rekey::pki {

struct TlsProbe {
  std::string certificate;                   // the server's certificate (PEM)
  std::string chain;                         // its issuers (PEM, may be empty), sent after it
  const SecretBytes* private_key = nullptr;  // the certificate's key (PEM); not owned
  std::string trust_bundle;                  // what the client trusts (PEM)
  std::string server_name;                   // the DNS name or IP the client connects to and checks
  absl::Time at = absl::UnixEpoch();         // the client's idea of the current time
};

// Runs a TLS (1.2 or 1.3) handshake between an in-memory server presenting the probe's pair and
// an in-memory client that verifies it against the bundle, then echoes one application record.
// OK when both ends finish; kFailedPrecondition naming what failed (key does not match, the
// client's verification reason, the handshake alert); kInvalidArgument for unparseable PEM.
// Thread-safe; nothing leaves the process.
absl::Status TlsHandshakeInMemory(const TlsProbe& probe);

}  // namespace rekey::pki

#endif  // REKEY_PKI_TLS_PROBE_H_
