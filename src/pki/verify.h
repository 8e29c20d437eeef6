// Chain building and verification with OpenSSL's X509_STORE: what tests, the pki rotator's test
// step and the CA service use to prove that a certificate is trusted.
#ifndef REKEY_PKI_VERIFY_H_
#define REKEY_PKI_VERIFY_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "pki/internal/openssl.h"

namespace rekey::pki {

struct VerifyOptions {
  absl::Time at = absl::UnixEpoch();  // the verification time (certificates must be valid then)
  // When set, the leaf must be valid for this DNS name or IP address.
  std::string name;
  // Certificates are checked against these CRLs (not owned); each CA below the trust anchor
  // must have one when crl_check_all, only the leaf's issuer otherwise.
  std::vector<const X509_CRL*> crls;
  bool crl_check_all = false;
};

// OK when `leaf` chains through `untrusted` (intermediates, any order) to a certificate of
// `trusted` at options.at, with a self-signed root among `trusted`. kFailedPrecondition with
// OpenSSL's reason and the depth ("certificate has expired at depth 0") otherwise.
absl::Status VerifyCertificate(const X509* leaf, const std::vector<internal::X509Ptr>& untrusted,
                               const std::vector<internal::X509Ptr>& trusted,
                               const VerifyOptions& options);
// The same over PEM text: `chain_pem` may be empty; kInvalidArgument for unparseable PEM.
absl::Status VerifyCertificatePem(std::string_view leaf_pem, std::string_view chain_pem,
                                  std::string_view trusted_pem, const VerifyOptions& options);

// The issuers of `cert` found in `pool`, nearest first, following issuer names, key identifiers
// and signatures, stopping at a self-issued certificate or when no issuer is found (at most 10).
// Does not include `cert` itself. Copies (up-refs) the certificates.
std::vector<internal::X509Ptr> BuildChain(const X509* cert,
                                          const std::vector<internal::X509Ptr>& pool);

}  // namespace rekey::pki

#endif  // REKEY_PKI_VERIFY_H_
