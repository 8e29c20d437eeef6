// The checks a rotator makes before promoting a certificate it obtained (pki, acme): the pair
// parses and matches, is valid now, carries the names asked for, chains to the trust bundle and
// completes an in-memory TLS handshake.
#ifndef REKEY_PKI_DEPLOY_CHECK_H_
#define REKEY_PKI_DEPLOY_CHECK_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "core/secret_bytes.h"
#include "pki/x509.h"

namespace rekey::pki {

struct DeployCheck {
  std::string_view certificate;                 // the leaf (PEM)
  std::string_view chain;                       // its issuers (PEM, may be empty)
  const SecretBytes* private_key = nullptr;     // the leaf's key (PEM); not owned
  std::string_view trust_bundle;                // what clients trust (PEM)
  std::string trust_name = "the trust bundle";  // how a chain failure names the bundle
  absl::Time now = absl::UnixEpoch();
  // A leaf that starts at most this long after `now` is checked as of its start (a CA whose
  // clock runs a little ahead, e.g. pebble, which does not backdate).
  absl::Duration start_skew = absl::ZeroDuration();
  std::string common_name;         // the subject CN the leaf must have; "" = any
  std::vector<std::string> names;  // each must be a SAN: DNS name, or IP address for a literal
  // The name the handshake's client asks for; "" = the leaf's first non-wildcard DNS name, else
  // its first IP address.
  std::string server_name;
};

struct DeployCheckResult {
  CertificateInfo info;
  absl::Time checked_at;    // `now`, or the leaf's start when within start_skew
  std::string server_name;  // the name the handshake used ("" = none)
};

// OK with what was checked, or kFailedPrecondition saying what failed ("the private key does
// not match the certificate", "it lacks SAN \"a.example\"", "it does not chain to <trust_name>:
// ...", the handshake's reason). Never includes key material.
absl::StatusOr<DeployCheckResult> CheckForDeployment(const DeployCheck& check);

}  // namespace rekey::pki

#endif  // REKEY_PKI_DEPLOY_CHECK_H_
